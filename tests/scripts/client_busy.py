"""@rawhttp run() answering 429 with Retry-After to the first request of each ?client= id, then JSON: a busy host."""
from azureml.contrib.services.aml_request import rawhttp
from azureml.contrib.services.aml_response import AMLResponse

SEEN = set()


def init():
    pass


@rawhttp
def run(request):
    client = request.args.get("client", "")
    if client not in SEEN:
        SEEN.add(client)
        return AMLResponse({"message": "Too many requests"}, 429, {"Retry-After": "2"}, json_str=True)
    return AMLResponse({"client": client, "body": request.get_data(as_text=True)}, 200, json_str=True)
