"""@rawhttp run(request): echoes what the platform hands a script (client address, headers, body size) and sends
back the Set-Cookie headers named by `?cookie=` query values."""

import json

from azureml.contrib.services.aml_request import rawhttp
from azureml.contrib.services.aml_response import AMLResponse


def init():
    pass


@rawhttp
def run(request):
    seen = {
        "remote_addr": request.remote_addr,
        "headers": dict(request.headers),
        "length": len(request.get_data()),
    }
    response = AMLResponse(json.dumps(seen), 200, {"Content-Type": "application/json"})
    for cookie in request.args.getlist("cookie"):
        response.headers.add("Set-Cookie", cookie)
    return response
