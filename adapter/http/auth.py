"""AML-style key auth: with `AML_SCORING_KEYS` set, `/score` wants `Authorization: Bearer <key>`, as AML endpoints do.

That keeps the AML SDK's `Webservice.run` and Power Query calls working unchanged. The host then serves `/score`
anonymously (see `function_app.py`) and this check is the gate. Keys are compared in constant time and never logged.
"""

from __future__ import annotations

import hmac
import os

import azure.functions as func

from adapter.http.responses import error_response
from adapter.settings import ConfigError, parse_keys

UNAUTHORIZED = "Missing or invalid key: send 'Authorization: Bearer <key>'."


def host_auth_level() -> func.AuthLevel:
    """The host's auth level for `/score`: its Functions keys, unless the adapter checks AML-style keys itself.
    A broken key setting keeps the host's keys: fail closed."""
    try:
        keys = parse_keys(os.environ)
    except ConfigError:
        return func.AuthLevel.FUNCTION
    return func.AuthLevel.ANONYMOUS if keys else func.AuthLevel.FUNCTION


def authorize(req: func.HttpRequest, keys: tuple[bytes, ...]) -> func.HttpResponse | None:
    """None when the request carries a valid key (or auth is off), else the 401 to send."""
    if not keys:
        return None
    scheme, _, presented = req.headers.get("authorization", "").partition(" ")
    candidate = presented.strip().encode() if scheme.lower() == "bearer" else b""
    # Compare against every key, without stopping at a match, so timing reveals nothing.
    valid = False
    for key in keys:
        valid |= hmac.compare_digest(candidate, key)
    if valid and candidate:
        return None
    response = error_response(401, UNAUTHORIZED)
    response.headers["WWW-Authenticate"] = "Bearer"
    return response
