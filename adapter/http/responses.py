"""Turn what `run()` returned (or what went wrong) into the `func.HttpResponse` azmlinfsrv would have sent."""

from __future__ import annotations

import json
from typing import Any

import azure.functions as func
from werkzeug.wrappers import Response

from adapter.azureml.aml_response import FAILED_HEADER
from adapter.http.methods import GET_ROUTE_METHODS

JSON = "application/json"
HTML = "text/html; charset=utf-8"
INTERNAL_ERROR = "An unexpected internal error occurred. Check the logs for more info."
SCRIPT_ERROR = "An unexpected error occurred in scoring script. Check the logs for more info."
# Hop-by-hop or recomputed by the host from the body we hand it.
HOP_BY_HOP = frozenset({"content-length", "transfer-encoding", "connection"})


def json_response(document: Any, status: int = 200, *, failed: bool = False) -> func.HttpResponse:
    """What azmlinfsrv's `AMLResponse(..., json_str=True)` sends; raises if `document` is not JSON-serialisable."""
    return func.HttpResponse(
        json.dumps(document),
        status_code=status,
        headers={"Content-Type": JSON, FAILED_HEADER: str(failed)},
    )


def automatic_options() -> func.HttpResponse:
    """Flask's automatic OPTIONS answer on a GET-only route (health, swagger)."""
    return func.HttpResponse("", headers={"Content-Type": HTML, "Allow": ", ".join(GET_ROUTE_METHODS)})


def error_response(status: int, message: str, *, failed: bool = False) -> func.HttpResponse:
    return json_response({"message": message}, status, failed=failed)


def unavailable_response(message: str, retry_after: float) -> func.HttpResponse:
    """503 while the entry script cannot be imported or initialised, with when to try again."""
    response = error_response(503, message)
    response.headers["Retry-After"] = str(max(1, round(retry_after)))
    return response


def from_run_output(output: Any) -> func.HttpResponse:
    """A returned response passes through (a status >= 500 marks the run failed); anything else becomes JSON,
    `None` as `{}`.

    azmlinfsrv passes only Flask responses (AMLResponse is one); we pass any werkzeug response, which it would
    have failed with a 500, so no working script can tell.
    """
    if isinstance(output, Response):
        if output.status_code >= 500:
            output.headers[FAILED_HEADER] = "True"
        return from_werkzeug(output)
    return json_response({} if output is None else output)


def from_werkzeug(response: Response) -> func.HttpResponse:
    """Status, headers and body bytes (a generator body is joined).

    The worker hands the host one value per header name, so repeated headers are joined with ", " (what HTTP
    says they mean); Set-Cookie cannot be joined and goes as separate cookies.
    """
    body = b"" if response.status_code in (204, 304) else response.get_data()  # as a WSGI server sends them
    result = func.HttpResponse(body, status_code=response.status_code)
    joined: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for name, value in response.headers.items():
        key = name.lower()
        if key in HOP_BY_HOP:
            continue
        if key == "set-cookie":
            result.headers.add_header(name, value)
            continue
        names.setdefault(key, name)
        joined.setdefault(key, []).append(value)
    for key, values in joined.items():
        result.headers[names[key]] = ", ".join(values)
    return result
