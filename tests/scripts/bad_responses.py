"""Undecorated run() returning responses that cannot be sent as they are: the body picks which."""
from azureml.contrib.services.aml_response import AMLResponse
from werkzeug.wrappers import Response


def init():
    pass


def run(data):
    if data == "name-crlf":
        return AMLResponse("x", 200, {"X-Evil\r\nSet-Cookie": "a=1"})
    if data == "value-crlf":
        response = Response("x")
        response.headers.set("X-Evil", "ok")
        response.headers._list = [(k, "a\r\nInjected: 1" if k == "X-Evil" else v) for k, v in response.headers._list]
        return response
    if data == "name-unicode":
        return AMLResponse("x", 200, {"X-Nämé": "1"})
    if data == "value-unicode":
        return AMLResponse("x", 200, {"X-Value": "snow \u2603"})
    if data.startswith("status-"):
        return Response("x", status=int(data.removeprefix("status-")))
    return AMLResponse("fine", 200, {"X-Fine": "yes"})
