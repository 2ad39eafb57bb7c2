"""One log line per request, written by the adapter itself: on Azure only what the worker logs through `logging`
reaches the Functions log (the host's own lines name the function, not the status or the request id).

A line holds the method, the target, the status, the duration and the `x-request-id` the client got back. Never
logged: bodies, header values (so neither `Authorization` nor keys) and `code=` query values (Functions keys),
however the name is spelled or percent-encoded. Anything the client chose (the target, the request id) is escaped,
so control characters cannot forge or garble log lines.
"""

from __future__ import annotations

import logging
import re
import time
from urllib.parse import unquote_plus, urlsplit

import azure.functions as func

logger = logging.getLogger("adapter.request")

#: Functions keys travel as `?code=`; the host decodes the name, so `%63ode=` is a key too.
SECRET_PARAMETER = "code"
#: C0 controls, DEL and C1 controls, as `\xNN`: a log line stays one line, with no terminal escapes.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def escape(text: str) -> str:
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def redact(target: str) -> str:
    """A URL or request target with the value of every `code` parameter masked, whatever its encoding."""
    path, mark, query = target.partition("?")
    if not mark:
        return target
    query, hash_mark, fragment = query.partition("#")
    parts = []
    for part in query.split("&"):
        name, equals, _ = part.partition("=")
        if equals and unquote_plus(name).strip().lower() == SECRET_PARAMETER:
            part = f"{name}=***"
        parts.append(part)
    return f"{path}?{'&'.join(parts)}{hash_mark}{fragment}"


def request_target(req: func.HttpRequest) -> str:
    """Path and query as the client sent them, redacted and escaped, without scheme and host."""
    url = urlsplit(req.url)
    return escape(redact(url.path + (f"?{url.query}" if url.query else "")))


def log_request(req: func.HttpRequest, status: int, started: float, request_id: str) -> None:
    if not logger.isEnabledFor(logging.INFO):
        return
    elapsed_ms = (time.perf_counter() - started) * 1000
    logger.info(
        '"%s %s" %d %.1fms x-request-id=%s', req.method, request_target(req), status, elapsed_ms, escape(request_id)
    )
