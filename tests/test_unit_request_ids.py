"""Request ids on their own: which ids a request gets (`RequestIds.from_headers`), what an answer echoes (`apply`),
the 100-character limits and which ids a 431 still carries, and the pipeline's id step around a handler. The same rules
are compared with azmlinfsrv over HTTP in test_differential.py."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

import azure.functions as func
import pytest
from targets import function_request
from werkzeug.datastructures import Headers

from adapter import request_context
from adapter.http import pipeline
from adapter.http.request_ids import HEADER_LIMIT, HeaderTooLong, RequestIds

REQUEST_ID_TOO_LONG = "x-request-id must not exceed 100 characters"
CLIENT_ID_TOO_LONG = "x-ms-request-id and x-ms-client-request-id must not exceed 100 characters"
ID_HEADERS = ("x-request-id", "x-ms-request-id", "x-ms-client-request-id", "traceid")


def headers_of(**headers: str) -> func.HttpRequest:
    """A request with these headers (`x_request_id` -> `x-request-id`), as the worker builds it: lower-cased names."""
    named = {name.replace("_", "-"): value for name, value in headers.items()}
    return function_request("POST", "/score", named)


def ids_of(**headers: str) -> RequestIds:
    return RequestIds.from_headers(headers_of(**headers).headers)


def echoed(ids: RequestIds) -> dict[str, str]:
    out = Headers()
    ids.apply(out)
    return dict(out.items())


# --- which ids a request gets --------------------------------------------------------------------------------------


def test_without_any_id_a_uuid4_is_made_and_used_as_the_legacy_id_too() -> None:
    ids = ids_of()
    assert uuid.UUID(ids.request_id).version == 4
    assert ids == RequestIds(ids.request_id, ids.request_id, "", None)
    assert ids_of().request_id != ids.request_id  # a new one for every request


def test_a_given_request_id_is_kept_and_becomes_the_legacy_id() -> None:
    assert ids_of(x_request_id="r-1") == RequestIds("r-1", "r-1", "", None)


def test_a_legacy_id_alone_is_copied_to_the_client_request_id() -> None:
    assert ids_of(x_request_id="r", x_ms_request_id="l") == RequestIds("r", "l", "l", None)


def test_a_client_request_id_alone_is_also_the_legacy_id() -> None:
    assert ids_of(x_request_id="r", x_ms_client_request_id="c") == RequestIds("r", "c", "c", None)


def test_both_client_ids_are_kept_as_sent() -> None:
    assert ids_of(x_request_id="r", x_ms_request_id="l", x_ms_client_request_id="c") == RequestIds("r", "l", "c", None)


def test_an_empty_legacy_id_counts_as_absent() -> None:
    assert ids_of(x_request_id="r", x_ms_request_id="") == RequestIds("r", "r", "", None)


def test_trace_id_is_kept_whatever_the_case_of_its_name() -> None:
    assert ids_of(x_request_id="r", TraceId="t-1").trace_id == "t-1"
    assert ids_of(x_request_id="r", traceid="").trace_id == ""  # present but empty: still echoed, as azmlinfsrv does


# --- the 100-character limits --------------------------------------------------------------------------------------


def test_ids_of_exactly_100_characters_are_accepted() -> None:
    at_limit = "r" * HEADER_LIMIT
    assert HEADER_LIMIT == 100
    assert ids_of(x_request_id=at_limit, x_ms_request_id="l" * 100, x_ms_client_request_id="c" * 100) == RequestIds(
        at_limit, "l" * 100, "c" * 100, None
    )


def test_a_request_id_over_100_is_refused_and_only_the_trace_id_survives() -> None:
    with pytest.raises(HeaderTooLong) as caught:
        ids_of(x_request_id="r" * 101, x_ms_client_request_id="c", TraceId="t")
    assert caught.value.message == REQUEST_ID_TOO_LONG
    assert echoed(caught.value.partial) == {"TraceId": "t"}


@pytest.mark.parametrize(
    "headers",
    [
        {"x_ms_request_id": "l" * 101},
        {"x_ms_client_request_id": "c" * 101},
        {"x_ms_request_id": "l", "x_ms_client_request_id": "c" * 101},
        {"x_ms_request_id": "l" * 101, "x_ms_client_request_id": "c"},
    ],
    ids=["legacy", "client", "client-with-legacy", "legacy-with-client"],
)
def test_a_client_id_over_100_is_refused_and_the_request_and_trace_ids_survive(headers: dict[str, str]) -> None:
    with pytest.raises(HeaderTooLong) as caught:
        ids_of(x_request_id="r", TraceId="t", **headers)
    assert caught.value.message == CLIENT_ID_TOO_LONG
    assert echoed(caught.value.partial) == {"x-request-id": "r", "TraceId": "t"}


def test_a_request_id_of_100_copied_to_the_legacy_id_stays_within_the_limit() -> None:
    assert ids_of(x_request_id="r" * 100).legacy_client_request_id == "r" * 100


# --- what an answer echoes -----------------------------------------------------------------------------------------


def test_apply_echoes_every_id_that_has_a_value_and_replaces_ids_the_answer_had() -> None:
    out = Headers([("x-request-id", "from-script"), ("Content-Type", "application/json")])
    RequestIds("r", "l", "c", "t").apply(out)
    assert dict(out.items()) == {
        "x-request-id": "r",
        "Content-Type": "application/json",
        "x-ms-request-id": "l",
        "x-ms-client-request-id": "c",
        "TraceId": "t",
    }


def test_apply_leaves_out_empty_ids_and_an_absent_trace_id_but_echoes_an_empty_trace_id() -> None:
    assert echoed(RequestIds("r", "r", "", None)) == {"x-request-id": "r", "x-ms-request-id": "r"}
    assert echoed(RequestIds()) == {}
    assert echoed(RequestIds(trace_id="")) == {"TraceId": ""}  # azmlinfsrv echoes a TraceId header that was sent


# --- the pipeline's id step around a handler ---------------------------------------------------------------------


def with_request_ids(
    req: func.HttpRequest, handle: Callable[[func.HttpRequest], func.HttpResponse]
) -> func.HttpResponse:
    """`handle` inside the policy stack a route without CORS or keys gets: log, request ids, error catch."""
    return pipeline.build(lambda r, context: handle(r))(req, None)


def test_the_handler_sees_the_request_id_in_context_and_the_answer_echoes_the_ids() -> None:
    seen: list[str] = []

    def handle(req: func.HttpRequest) -> func.HttpResponse:
        seen.append(request_context.request_id.get())
        return func.HttpResponse("ok", status_code=201)

    before = request_context.request_id.get()
    response = with_request_ids(headers_of(x_request_id="r-7", x_ms_client_request_id="c-7"), handle)
    assert seen == ["r-7"]
    assert request_context.request_id.get() == before  # reset after the request
    assert (response.status_code, response.get_body()) == (201, b"ok")
    assert response.headers["x-request-id"] == "r-7"
    assert response.headers["x-ms-request-id"] == "c-7"
    assert response.headers["x-ms-client-request-id"] == "c-7"


@pytest.mark.parametrize(
    ("headers", "message", "survivors"),
    [
        ({"x_request_id": "r" * 101, "TraceId": "t"}, REQUEST_ID_TOO_LONG, {"traceid": "t"}),
        ({"x_request_id": "r", "x_ms_request_id": "l" * 101}, CLIENT_ID_TOO_LONG, {"x-request-id": "r"}),
    ],
    ids=["request-id", "client-id"],
)
def test_a_431_is_json_with_the_surviving_ids_and_never_reaches_the_handler(
    headers: dict[str, str], message: str, survivors: dict[str, str]
) -> None:
    def handle(req: func.HttpRequest) -> func.HttpResponse:
        raise AssertionError("the handler must not run")

    response = with_request_ids(headers_of(**headers), handle)
    assert response.status_code == 431
    assert json.loads(response.get_body()) == {"message": message}
    assert {k.lower(): v for k, v in response.headers.items() if k.lower() in ID_HEADERS} == survivors


def test_an_unexpected_failure_is_the_generic_500_json_still_carrying_the_ids() -> None:
    def handle(req: func.HttpRequest) -> func.HttpResponse:
        raise RuntimeError("secret detail /srv/app/score.py")

    response = with_request_ids(headers_of(x_request_id="r-9"), handle)
    assert response.status_code == 500
    body = response.get_body()
    assert json.loads(body) == {"message": "An unexpected internal error occurred. Check the logs for more info."}
    assert b"secret" not in body and b"Traceback" not in body
    assert response.headers["x-request-id"] == "r-9"
