"""The HTTP policies every route runs through, as one ordered stack built in one place (`build`).

From the outside in:

    log -> guard -> method check -> CORS grant -> request ids -> preflight -> auth -> OPTIONS -> error catch
        -> not ready -> endpoint

- log: one line per request, whatever happens inside (adapter.http.request_log).
- guard: the last resort: anything a layer raises becomes azmlinfsrv's generic JSON 500, logged with its
  traceback, so no traceback ever reaches a client and the host never answers for us.
- method check: the route's 405 for a method it does not take, as Flask's routing answers it (no ids, no CORS).
- CORS grant: the grant flask-cors would give, on every answer below it (a 431 for a bad request id included, as
  azmlinfsrv sends it).
- request ids: azmlinfsrv's id checks (431) and echoes, on every answer below it.
- preflight: a preflight from an allowed origin is answered before auth and without the script.
- auth: AML-style bearer keys on the routes that need them (`/score`).
- OPTIONS: Flask's automatic answer on the GET-only routes (health, swagger, Power Query).
- error catch: an `HttpError` becomes its JSON answer with its headers; anything else unexpected becomes the
  generic 500, inside the ids and CORS layers so that it carries them as azmlinfsrv's does.
- not ready: on the anonymous routes that need the script, a script still starting or failing says only where to
  look (the details are for `/score`, behind auth).

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
from adapter.http.request_ids import RequestIds
from adapter.http.request_log import log_request, request_target
from adapter.http.responses import INTERNAL_ERROR, automatic_options, error_response, from_error

logger = logging.getLogger("adapter")

NOT_ALLOWED = "The method is not allowed for the requested URL."
SCRIPT_NOT_READY = "The entry script is not ready yet; the function logs say why."

Endpoint = Callable[[func.HttpRequest, func.Context | None], func.HttpResponse]
Middleware = Callable[[func.HttpRequest, func.Context | None, Endpoint], func.HttpResponse]


def build(
    endpoint: Endpoint,
    *,
    methods: tuple[str, ...] | None = None,
    cors: CorsPolicy | None = None,
    keys: tuple[bytes, ...] = (),
    request_ids: bool = True,
    options: bool = False,
    not_ready: bool = False,
) -> Endpoint:
    """The endpoint wrapped in the policies, outermost first. `options`: answer OPTIONS as Flask does on a GET-only
    route; `not_ready`: an anonymous route, whose 503 says only where to look."""
    layers: list[Middleware] = [logged, guard]
    if methods is not None:
        layers.append(method_check(methods))
    if cors is not None:
        layers.append(cors_grant(cors))
    if request_ids:
        layers.append(with_request_ids)
    if cors is not None:
        layers.append(cors_preflight(cors))
    if keys:
        layers.append(key_check(keys))
    if options:
        layers.append(answer_options)
    layers.append(catch_errors)
    if not_ready:
        layers.append(script_not_ready)
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


def guard(req: func.HttpRequest, context: func.Context | None, call_next: Endpoint) -> func.HttpResponse:
    try:
        return call_next(req, context)
    except HttpError as ex:  # raised by a layer above the error catch
        return from_error(ex)
    except Exception:
        return internal_error(req)


def with_request_ids(req: func.HttpRequest, context: func.Context | None, call_next: Endpoint) -> func.HttpResponse:
    """azmlinfsrv's request hooks: id checks (431, echoing the ids accepted before the bad one) first, ids echoed
    on the answer. The id and the invocation are also the request's context variables, for code far from HTTP
    (data collection, the threads running the script)."""
    try:
        ids = RequestIds.from_headers(req.headers)
    except HttpError as ex:
        return from_error(ex)
    token = request_context.request_id.set(ids.request_id)
    invocation = request_context.invocation.set(context)
    try:
        response = call_next(req, context)
    finally:
        request_context.invocation.reset(invocation)
        request_context.request_id.reset(token)
    ids.apply(response.headers)
    return response


def cors_grant(policy: CorsPolicy) -> Middleware:
    def grant(req: func.HttpRequest, context: func.Context | None, call_next: Endpoint) -> func.HttpResponse:
        response = call_next(req, context)
        policy.decorate(req, response)
        return response

    return grant


def cors_preflight(policy: CorsPolicy) -> Middleware:
    def preflight(req: func.HttpRequest, context: func.Context | None, call_next: Endpoint) -> func.HttpResponse:
        return policy.preflight(req) if policy.is_preflight(req) else call_next(req, context)

    return preflight


def key_check(keys: tuple[bytes, ...]) -> Middleware:
    def auth(req: func.HttpRequest, context: func.Context | None, call_next: Endpoint) -> func.HttpResponse:
        return authorize(req, keys) or call_next(req, context)

    return auth


def answer_options(req: func.HttpRequest, context: func.Context | None, call_next: Endpoint) -> func.HttpResponse:
    return automatic_options() if req.method == "OPTIONS" else call_next(req, context)


def catch_errors(req: func.HttpRequest, context: func.Context | None, call_next: Endpoint) -> func.HttpResponse:
    try:
        return call_next(req, context)
    except HttpError as ex:
        if ex.status >= 500:
            logger.error("%s %s: %s", req.method, request_target(req), ex.message)
        return from_error(ex)
    except Exception:
        return internal_error(req)


def internal_error(req: func.HttpRequest) -> func.HttpResponse:
    """azmlinfsrv's generic 500 for anything unexpected, its traceback in the log only."""
    logger.exception("Unexpected failure while handling %s %s", req.method, request_target(req))
    return error_response(500, INTERNAL_ERROR)


def script_not_ready(req: func.HttpRequest, context: func.Context | None, call_next: Endpoint) -> func.HttpResponse:
    try:
        return call_next(req, context)
    except HttpError as ex:
        if ex.status != 503:
            raise
        raise HttpError(503, SCRIPT_NOT_READY, retry_after=ex.retry_after) from None
