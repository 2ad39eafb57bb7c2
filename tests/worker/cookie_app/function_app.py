"""A bare function app (no adapter) that sends the Set-Cookie headers listed in its JSON body: shows what the worker
itself does to a cookie, with nothing of ours in between."""

import json

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="cookies", methods=["POST"])
def cookies(req: func.HttpRequest) -> func.HttpResponse:
    response = func.HttpResponse("sent")
    for header in json.loads(req.get_body()):
        response.headers.add_header("Set-Cookie", header)
    return response
