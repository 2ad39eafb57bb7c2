"""One log line per request, written by the adapter itself: on Azure only what the worker logs through `logging`
reaches the Functions log (the host's own lines name the function, not the status or the request id).

A line holds the method, the target, the status, the duration and the `x-request-id` the client got back. Never
logged: bodies, header values (so neither `Authorization` nor keys) and `code=` query values (Functions keys).
"""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import azure.functions as func

logger = logging.getLogger("adapter.request")

Handler = Callable[[func.HttpRequest], func.HttpResponse]

#: Functions keys travel as `?code=`.
_SECRET_QUERY = re.compile(r"([?&]code=)[^&#]*", re.IGNORECASE)


def redact(target: str) -> str:
    """A URL or request target with any `code=` value masked."""
    return _SECRET_QUERY.sub(r"\1***", target)


def request_target(req: func.HttpRequest) -> str:
    """Path and query as the client sent them, redacted, without scheme and host."""
    url = urlsplit(req.url)
    return redact(url.path + (f"?{url.query}" if url.query else ""))


def logged(handler: Handler) -> Handler:
    """Wrap a function's handler so each request it answers (or fails on) is logged once."""

    @functools.wraps(handler)
    def handle(req: func.HttpRequest) -> func.HttpResponse:
        started = time.perf_counter()
        try:
            response = handler(req)
        except BaseException:  # the host answers 500 and logs the traceback; the request still gets its line
            _log(req, 500, started, "-")
            raise
        _log(req, response.status_code, started, response.headers.get("x-request-id") or "-")
        return response

    return handle


def _log(req: func.HttpRequest, status: int, started: float, request_id: str) -> None:
    if not logger.isEnabledFor(logging.INFO):
        return
    elapsed_ms = (time.perf_counter() - started) * 1000
    logger.info('"%s %s" %d %.1fms x-request-id=%s', req.method, request_target(req), status, elapsed_ms, request_id)
