"""Turn what `run()` returned (or what went wrong) into the `func.HttpResponse` azmlinfsrv would have sent."""

from __future__ import annotations

import json
import logging
from typing import Any

import azure.functions as func
from werkzeug.wrappers import Response

from adapter.azureml.aml_response import FAILED_HEADER
from adapter.errors import HttpError
from adapter.http import cookies
from adapter.http.headers import field_problem
from adapter.http.methods import GET_ROUTE_METHODS

JSON = "application/json"
HTML = "text/html; charset=utf-8"
INTERNAL_ERROR = "An unexpected internal error occurred. Check the logs for more info."
# Hop-by-hop or recomputed by the host from the body we hand it.
HOP_BY_HOP = frozenset({"content-length", "transfer-encoding", "connection"})

logger = logging.getLogger("adapter")


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


def from_error(error: HttpError) -> func.HttpResponse:
    """The answer an `HttpError` carries: its headers, and Retry-After when it says when to come back."""
    response = error_response(error.status, error.message, failed=error.failed)
    for name, value in error.headers.items():
        response.headers[name] = value
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(max(1, round(error.retry_after)))
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
    says they mean); Set-Cookie cannot be joined and goes as separate cookies, each only if the platform delivers it
    as written: a cookie it would alter or drop is not sent, and the log says why (never its value).
    """
    if not 200 <= response.status_code <= 599:
        # 1xx cannot be a final answer, and the host would refuse anything outside 100-599 after the fact.
        raise ValueError(f"run() returned a response with status {response.status_code}, which HTTP cannot send")
    body = b"" if response.status_code in (204, 304) else response.get_data()  # as a WSGI server sends them
    result = func.HttpResponse(body, status_code=response.status_code)
    joined: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for name, value in response.headers.items():
        problem = field_problem(name, value)
        if problem is not None:  # never an injected line, a dropped connection or a changed header
            raise ValueError(f"run() returned a response whose {problem}")
        key = name.lower()
        if key in HOP_BY_HOP:
            continue
        if key == "set-cookie":
            problem = cookies.platform_alteration(value)
            if problem is None:
                if cookies.EXPIRES_CRASHES_WORKER:
                    value = cookies.expires_as_max_age(value)
                result.headers.add_header(name, value)
            else:
                cookie_name = value.partition("=")[0].strip()[:64]
                logger.error("Set-Cookie %r not sent: %s. See docs/platform.md.", cookie_name, problem)
            continue
        names.setdefault(key, name)
        joined.setdefault(key, []).append(value)
    for key, values in joined.items():
        result.headers[names[key]] = ", ".join(values)
    return result
