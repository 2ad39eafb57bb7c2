"""The HTTP policies every route runs through, as one ordered stack built in one place (`build`).

From the outside in:

    log -> method check -> request ids -> CORS -> auth -> error catch -> endpoint

- log: one line per request, whatever happens inside (adapter.http.request_log).
- method check: the route's 405 for a method it does not take, as Flask's routing answers it (no ids, no CORS).
- request ids: azmlinfsrv's id checks (431) and echoes, on every answer below it.
- CORS: a preflight from an allowed origin is answered before auth and without the script; other answers get the
  grant flask-cors would give.
- auth: AML-style bearer keys on the routes that need them (`/score`).
- error catch: an `HttpError` becomes its JSON answer; anything else unexpected becomes azmlinfsrv's generic 500,
  logged with its traceback, so no traceback ever reaches a client.

Each layer is a `Middleware`: it gets the request and the next layer, and returns the response. A route's stack is
built once per deployment from its HTTP settings; a broken script configuration is just an error the endpoint
raises, caught like any other.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from functools import reduce

import azure.functions as func

from adapter import request_context
from adapter.errors import HttpError
from adapter.http.auth import authorize
from adapter.http.cors import CorsPolicy
from adapter.http.request_ids import HeaderTooLong, RequestIds
from adapter.http.request_log import log_request, request_target
from adapter.http.responses import INTERNAL_ERROR, error_response, from_error

logger = logging.getLogger("adapter")

NOT_ALLOWED = "The method is not allowed for the requested URL."

Endpoint = Callable[[func.HttpRequest, func.Context | None], func.HttpResponse]
Middleware = Callable[[func.HttpRequest, func.Context | None, Endpoint], func.HttpResponse]


def build(
    endpoint: Endpoint,
    *,
    methods: tuple[str, ...] | None = None,
    cors: CorsPolicy | None = None,
    keys: tuple[bytes, ...] = (),
    request_ids: bool = True,
) -> Endpoint:
    """The endpoint wrapped in the policies, outermost first."""
    layers: list[Middleware] = [logged]
    if methods is not None:
        layers.append(method_check(methods))
    if request_ids:
        layers.append(with_request_ids)
    if cors is not None:
        layers.append(cors_layer(cors))
    if keys:
        layers.append(key_check(keys))
    layers.append(catch_errors)
    return chain(layers, endpoint)


def chain(layers: Sequence[Middleware], endpoint: Endpoint) -> Endpoint:
    def wrap(inner: Endpoint, layer: Middleware) -> Endpoint:
        return lambda req, context: layer(req, context, inner)

    return reduce(wrap, reversed(layers), endpoint)


def logged(req: func.HttpRequest, context: func.Context | None, call_next: Endpoint) -> func.HttpResponse:
    started = time.perf_counter()
    try:
        response = call_next(req, context)
    except BaseException:  # the host answers 500 and logs the traceback; the request still gets its line
        log_request(req, 500, started, "-")
        raise
    log_request(req, response.status_code, started, response.headers.get("x-request-id") or "-")
    return response


def method_check(methods: tuple[str, ...]) -> Middleware:
    def allowed(req: func.HttpRequest, context: func.Context | None, call_next: Endpoint) -> func.HttpResponse:
        return call_next(req, context) if req.method in methods else error_response(405, NOT_ALLOWED)

    return allowed


def with_request_ids(req: func.HttpRequest, context: func.Context | None, call_next: Endpoint) -> func.HttpResponse:
    """azmlinfsrv's request hooks: id checks (431) first, ids echoed on the answer. The id and the invocation are
    also the request's context variables, for code far from HTTP (data collection, the threads running the script)."""
    try:
        ids = RequestIds.from_headers(req.headers)
    except HeaderTooLong as ex:
        response = error_response(431, ex.message)
        ex.partial.apply(response.headers)
        return response
    token = request_context.request_id.set(ids.request_id)
    invocation = request_context.invocation.set(context)
    try:
        response = call_next(req, context)
    finally:
        request_context.invocation.reset(invocation)
        request_context.request_id.reset(token)
    ids.apply(response.headers)
    return response


def cors_layer(policy: CorsPolicy) -> Middleware:
    def cors(req: func.HttpRequest, context: func.Context | None, call_next: Endpoint) -> func.HttpResponse:
        response = policy.preflight(req) if policy.is_preflight(req) else call_next(req, context)
        policy.decorate(req, response)
        return response

    return cors


def key_check(keys: tuple[bytes, ...]) -> Middleware:
    def auth(req: func.HttpRequest, context: func.Context | None, call_next: Endpoint) -> func.HttpResponse:
        return authorize(req, keys) or call_next(req, context)

    return auth


def catch_errors(req: func.HttpRequest, context: func.Context | None, call_next: Endpoint) -> func.HttpResponse:
    try:
        return call_next(req, context)
    except HttpError as ex:
        if ex.status >= 500:
            logger.error("%s %s: %s", req.method, request_target(req), ex.message)
        return from_error(ex)
    except Exception:
        logger.exception("Unexpected failure while handling %s %s", req.method, request_target(req))
        return error_response(500, INTERNAL_ERROR)
