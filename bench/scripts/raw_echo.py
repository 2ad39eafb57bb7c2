"""@rawhttp echo: returns the request body with its content type, and the size of any uploaded files."""

from azureml.contrib.services.aml_request import rawhttp
from azureml.contrib.services.aml_response import AMLResponse


def init():
    pass


@rawhttp
def run(request):
    if request.files:
        return {name: len(f.read()) for name, f in request.files.items()}
    return AMLResponse(request.get_data(), 200, {"Content-Type": request.content_type or "application/octet-stream"})
