"""The functions `function_app.py` registers. Importing this module is cheap: the service (and with it the entry
script, inference-schema, numpy...) is built on the first request, once per process."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

import azure.functions as func

from .response_conversion import HTML, error_response
from .settings import ConfigError, Settings
from .tracing import with_request_ids

if TYPE_CHECKING:
    from .scoring import ScoringService

logger = logging.getLogger("adapter")

#: Methods the AML server routes to `/score` (Flask adds HEAD to GET); any other gets its routing 405.
SCORE_METHODS = ("GET", "POST", "OPTIONS", "HEAD")
HEALTH_METHODS = ("GET", "OPTIONS", "HEAD")  # in the order Flask lists them in `Allow`
ALL_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
NOT_FOUND = (
    "The requested URL was not found on the server. If you entered the URL manually please check your spelling "
    "and try again."
)
NOT_ALLOWED = "The method is not allowed for the requested URL."

_service: ScoringService | None = None
_lock = threading.Lock()


def service() -> ScoringService:
    """The process's scoring service, created from the environment on first use."""
    global _service
    if _service is None:
        with _lock:
            if _service is None:
                from .scoring import ScoringService

                _service = ScoringService(Settings.from_env())
    return _service


def reset() -> None:
    """Forget the service so the next request re-reads the environment (tests, reloads)."""
    global _service
    with _lock:
        _service = None


def score(req: func.HttpRequest) -> func.HttpResponse:
    if req.method not in SCORE_METHODS:
        return error_response(405, NOT_ALLOWED)
    try:
        svc = service()
    except ConfigError as ex:
        logger.error("Invalid configuration: %s", ex)
        return error_response(500, f"Invalid configuration: {ex}")
    return svc.respond(req, svc.score, key_required=True)


def health(req: func.HttpRequest) -> func.HttpResponse:
    """The liveness probe: alive as soon as the process is, without the entry script, even when misconfigured."""
    if req.method not in HEALTH_METHODS:
        return error_response(405, NOT_ALLOWED)
    try:
        svc = service()
    except ConfigError:
        return with_request_ids(req, _healthy)
    return svc.respond(req, _healthy)


def _healthy(req: func.HttpRequest) -> func.HttpResponse:
    if req.method == "OPTIONS":  # Flask's automatic OPTIONS answer
        return func.HttpResponse("", headers={"Content-Type": HTML, "Allow": ", ".join(HEALTH_METHODS)})
    return func.HttpResponse("Healthy", headers={"Content-Type": HTML})


def not_found(req: func.HttpRequest) -> func.HttpResponse:
    return error_response(404, NOT_FOUND)
