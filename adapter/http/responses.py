"""Turn what `run()` returned (or what went wrong) into the `func.HttpResponse` azmlinfsrv would have sent."""

from __future__ import annotations

import json
import logging
import re
from email.utils import parsedate_to_datetime
from http.cookies import CookieError, SimpleCookie
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

logger = logging.getLogger("adapter")

# What survives the platform's cookie path unchanged (docs/platform.md): the worker re-parses each Set-Cookie with
# `SimpleCookie` into a structured cookie, and the host writes that back with ASP.NET Core's `Cookies.Append`,
# which percent-encodes the value (`Uri.EscapeDataString`) and knows only these attributes.
_COOKIE_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+\-.^_`|~]+")
_COOKIE_VALUE = re.compile(r"[A-Za-z0-9\-._~]*")  # what Uri.EscapeDataString leaves as it is
_COOKIE_DOMAIN = re.compile(r"\.?[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
_COOKIE_PATH = re.compile(r"/[A-Za-z0-9/\-._~!$&'()*+=:@%]*")
# The only Expires form SimpleCookie parses: RFC 1123 (or with dashes), in GMT.
_COOKIE_EXPIRES = re.compile(r"[A-Za-z]{3}, \d{2}[ -][A-Za-z]{3}[ -]\d{4} \d{2}:\d{2}:\d{2} GMT")
_COOKIE_FLAGS = frozenset({"secure", "httponly"})
# Names SimpleCookie reads as attributes, never as a cookie's name.
_ATTRIBUTE_NAMES = frozenset({"expires", "path", "comment", "domain", "max-age", "secure", "httponly", "version"})
_ATTRIBUTE_NAMES |= {"samesite", "partitioned"}
_SAME_SITE = frozenset({"lax", "strict", "none"})


def _cookie_alteration(header: str) -> str | None:
    """Why the platform would not deliver this Set-Cookie as written, or None when it would."""
    pair, *attributes = header.split(";")
    name, equals, value = (part.strip() for part in pair.partition("="))
    if not equals or not _COOKIE_NAME.fullmatch(name) or name.lower() in _ATTRIBUTE_NAMES:
        return "it does not start with a valid name=value"
    if not _COOKIE_VALUE.fullmatch(value):
        return "its value holds characters the Functions host percent-encodes (only letters, digits and -._~ pass)"
    for attribute in attributes:
        key, has_value, argument = (part.strip() for part in attribute.partition("="))
        key = key.lower()
        if not key and not has_value:
            continue
        if key in _COOKIE_FLAGS and not has_value:
            continue
        if key == "samesite" and argument.lower() in _SAME_SITE:
            continue
        if key == "max-age" and argument.isdigit():
            continue
        if key == "domain" and _COOKIE_DOMAIN.fullmatch(argument):
            continue
        if key == "path" and _COOKIE_PATH.fullmatch(argument):
            continue
        if key == "expires" and _COOKIE_EXPIRES.fullmatch(argument):
            try:
                parsedate_to_datetime(argument)
                continue
            except (TypeError, ValueError):
                pass
        shown = attribute.strip()[:40]
        return (
            f"the Functions worker cannot carry its attribute {shown!r} (it passes only Domain, Path, Expires in "
            "GMT, integer Max-Age, Secure, HttpOnly and SameSite=Lax/Strict/None)"
        )
    # The worker's own parse must give back this one cookie with this value, nothing more.
    parsed = SimpleCookie()
    try:
        parsed.load(header)
    except CookieError:
        return "the Functions worker cannot parse it"
    if list(parsed) != [name] or parsed[name].value != value:
        return "the Functions worker would parse it into something else"
    return None


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
    says they mean); Set-Cookie cannot be joined and goes as separate cookies, each only if the platform delivers it
    as written: a cookie it would alter or drop is not sent, and the log says why (never its value).
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
            problem = _cookie_alteration(value)
            if problem is None:
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
