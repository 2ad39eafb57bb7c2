"""The functions `function_app.py` registers. Importing this module is cheap: the service (and with it the entry
script, inference-schema, numpy...) is built on the first request, once per process."""

from __future__ import annotations

import logging
import os
import threading
from typing import TYPE_CHECKING

import azure.functions as func

from adapter.http.auth import authorize
from adapter.http.methods import GET_ROUTE_METHODS, SCORE_METHODS
from adapter.http.request_ids import with_request_ids
from adapter.http.request_log import logged
from adapter.http.responses import HTML, automatic_options, error_response
from adapter.settings import ConfigError, Settings, parse_keys

if TYPE_CHECKING:
    from adapter.http.scoring import ScoringService

logger = logging.getLogger("adapter")

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
                from adapter.http.scoring import ScoringService

                _service = ScoringService(Settings.from_env())
    return _service


def reset() -> None:
    """Forget the service so the next request re-reads the environment (tests, reloads)."""
    global _service
    with _lock:
        _service = None


@logged
def score(req: func.HttpRequest) -> func.HttpResponse:
    if req.method not in SCORE_METHODS:
        return error_response(405, NOT_ALLOWED)
    try:
        svc = service()
    except ConfigError as ex:
        return _config_error(req, ex, detailed=True)
    return svc.respond(req, svc.score, key_required=True)


@logged
def health(req: func.HttpRequest) -> func.HttpResponse:
    """The liveness probe: alive as soon as the process is, without the entry script, even when misconfigured."""
    if req.method not in GET_ROUTE_METHODS:
        return error_response(405, NOT_ALLOWED)
    try:
        svc = service()
    except ConfigError:
        return with_request_ids(req, _healthy)
    return svc.respond(req, _healthy)


def _healthy(req: func.HttpRequest) -> func.HttpResponse:
    if req.method == "OPTIONS":
        return automatic_options()
    return func.HttpResponse("Healthy", headers={"Content-Type": HTML})


@logged
def not_found(req: func.HttpRequest) -> func.HttpResponse:
    return error_response(404, NOT_FOUND)


@logged
def swagger(req: func.HttpRequest) -> func.HttpResponse:
    """`/swagger.json`: describes the API from the imported script, never running `init()` (no model load on a cold
    instance just to describe it)."""
    from adapter.openapi import swagger as documents

    if req.method not in GET_ROUTE_METHODS:
        return error_response(405, NOT_ALLOWED)
    try:
        svc = service()
    except ConfigError as ex:
        return _config_error(req, ex, detailed=False)
    return svc.respond(req, lambda r: documents.respond(svc, r))


def _config_error(req: func.HttpRequest, ex: ConfigError, *, detailed: bool) -> func.HttpResponse:
    """A 500 for a broken configuration. Its details (paths, values) go only to callers past auth: on `/score`, which
    the host guards with Functions keys, after our own key check when AML-style keys are on."""
    logger.error("Invalid configuration: %s", ex)

    def answer(r: func.HttpRequest) -> func.HttpResponse:
        if detailed:
            try:
                denied = authorize(r, parse_keys(os.environ))
            except ConfigError:  # the key setting itself is broken: the message says only that
                denied = None
            return denied or error_response(500, f"Invalid configuration: {ex}")
        return error_response(500, "The service is misconfigured; the function logs say how.")

    return with_request_ids(req, answer)
