"""Undecorated run(): the JSON-string body picks the kind of return value, to test response serialisation."""
import json

import numpy as np
from azureml.contrib.services.aml_response import AMLResponse
from werkzeug.wrappers import Response


def init():
    pass


def run(data):
    kind = json.loads(data)
    if kind == "none":
        return None
    if kind == "str":
        return "hello"
    if kind == "json_text":
        return '{"a": 1}'
    if kind == "nan":
        return float("nan")
    if kind == "np_scalar":
        return np.float64(1.5)
    if kind == "np_int":
        return np.int64(3)
    if kind == "np_array":
        return np.array([1, 2])
    if kind == "bytes":
        return b"abc"
    if kind == "list":
        return [1, "two", None]
    if kind == "nested":
        return {"a": {"b": [1.5, True]}}
    if kind == "response_500":
        return AMLResponse("boom", 503)
    if kind == "flask_response":
        return Response("plain", status=201, headers={"X-Extra": "1"})
    if kind == "flask_real_response":
        from flask import Response as FlaskResponse  # lazy: only this kind needs Flask
        return FlaskResponse("plain", status=201, headers={"X-Extra": "1"})
    if kind == "set":
        return {1, 2}
    if kind == "raise":
        raise ValueError("bad input value")
    return {"unknown_kind": kind}
