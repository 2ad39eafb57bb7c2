"""The functions `function_app.py` registers. Importing this module is cheap: the service (and with it the entry
script, inference-schema, numpy...) is built on the first request, once per process."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
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
HEALTH_METHODS = ("GET", "HEAD")
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
    return _call(lambda s: s.score(req))


def health(req: func.HttpRequest) -> func.HttpResponse:
    """The liveness probe: alive as soon as the process is, without settings or the entry script."""
    if req.method not in HEALTH_METHODS:
        return error_response(405, NOT_ALLOWED)
    return with_request_ids(req, lambda _: func.HttpResponse("Healthy", headers={"Content-Type": HTML}))


def not_found(req: func.HttpRequest) -> func.HttpResponse:
    return error_response(404, NOT_FOUND)


def _call(handle: Callable[[ScoringService], func.HttpResponse]) -> func.HttpResponse:
    try:
        svc = service()
    except ConfigError as ex:
        logger.error("Invalid configuration: %s", ex)
        return error_response(500, f"Invalid configuration: {ex}")
    return handle(svc)
