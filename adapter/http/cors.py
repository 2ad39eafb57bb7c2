"""CORS for `AML_CORS_ORIGINS`, as azmlinfsrv's flask-cors setup answers GET/POST, plus preflights that work.

azmlinfsrv echoes an allowed origin on GET and POST answers (`*` allows any origin, echoed), and adds no header for
other origins. Its preflights only work for non-raw scripts, and AML's front end forwards only GET and POST anyway;
here every preflight from an allowed origin is answered by the adapter itself, for every kind of script, before
auth and without loading the script. Other origins get no CORS header at all, so browsers block them.
"""

from __future__ import annotations

from collections.abc import Iterable

import azure.functions as func

from adapter.http.responses import HTML

ALLOWED_METHODS = "GET, POST"
#: Always allowed on a preflight: what clients of a scoring endpoint send.
DEFAULT_ALLOWED_HEADERS = (
    "content-type",
    "authorization",
    "x-functions-key",
    "x-request-id",
    "x-ms-client-request-id",
    "x-ms-request-id",
)
MAX_AGE_SECONDS = 3600


class CorsPolicy:
    def __init__(self, origins: Iterable[str]) -> None:
        configured = list(origins)
        self.any_origin = "*" in configured
        self.origins = sorted(o for o in configured if o != "*")
        self._folded = {o.casefold() for o in self.origins}
        # A grant that depends on the request's Origin must say so to caches.
        self._varies = self.any_origin or len(configured) > 1

    def allowed_origin(self, req: func.HttpRequest) -> str | None:
        """The request's Origin when it may read the answer (origins compare case-insensitively)."""
        origin: str | None = req.headers.get("origin")
        if origin and (self.any_origin or origin.casefold() in self._folded):
            return origin
        return None

    @staticmethod
    def is_preflight(req: func.HttpRequest) -> bool:
        return req.method == "OPTIONS" and "origin" in req.headers and "access-control-request-method" in req.headers

    def preflight(self, req: func.HttpRequest) -> func.HttpResponse:
        """200 with the CORS grant for an allowed origin; the same 200 without any CORS header for others."""
        response = func.HttpResponse("", headers={"Content-Type": HTML})
        origin = self.allowed_origin(req)
        if origin is None:
            return response
        requested = [h.strip().lower() for h in req.headers.get("access-control-request-headers", "").split(",")]
        allowed = list(DEFAULT_ALLOWED_HEADERS) + [h for h in requested if h and h not in DEFAULT_ALLOWED_HEADERS]
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
        response.headers["Access-Control-Allow-Headers"] = ", ".join(allowed)
        response.headers["Access-Control-Max-Age"] = str(MAX_AGE_SECONDS)
        response.headers["Vary"] = "Origin"
        return response

    def decorate(self, req: func.HttpRequest, response: func.HttpResponse) -> None:
        """The grant on an ordinary answer, exactly as flask-cors gives it; a grant set by the script wins.

        Without an Origin header (not a browser's CORS request) flask-cors still grants `*` or the first configured
        origin; harmless, and kept so non-browser clients see the same headers as before.
        """
        if "access-control-allow-origin" in response.headers:
            return
        if "origin" in req.headers:
            grant = self.allowed_origin(req)
        else:
            grant = "*" if self.any_origin else next(iter(self.origins), None)
        if grant is None:
            return
        response.headers["Access-Control-Allow-Origin"] = grant
        if grant != "*" and self._varies:
            vary = response.headers.get("Vary")
            response.headers["Vary"] = f"{vary}, Origin" if vary else "Origin"
