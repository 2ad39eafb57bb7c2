"""`CorsPolicy` on its own, with `func.HttpRequest`/`func.HttpResponse` objects built here: which origin is granted,
what a preflight answers, `Vary`, and that a disallowed origin is never granted. Over HTTP: test_cors.py; compared with
azmlinfsrv's flask-cors answers: test_differential.py."""

from __future__ import annotations

import azure.functions as func
import pytest
from targets import function_request

from adapter.http.cors import CorsPolicy

A = "https://a.example"
B = "https://b.example"
EVIL = "https://evil.example"


def request(method: str = "POST", **headers: str) -> func.HttpRequest:
    return function_request(method, "/score", headers)


def with_origin(origin: str, method: str = "POST") -> func.HttpRequest:
    return function_request(method, "/score", {"Origin": origin})


def preflight(origin: str, requested_headers: str | None = None) -> func.HttpRequest:
    headers = {"Origin": origin, "Access-Control-Request-Method": "POST"}
    if requested_headers is not None:
        headers["Access-Control-Request-Headers"] = requested_headers
    return function_request("OPTIONS", "/score", headers)


def decorated(policy: CorsPolicy, req: func.HttpRequest, **headers: str) -> dict[str, str]:
    """The headers of an ordinary answer after the policy decorated it."""
    response = func.HttpResponse("{}", headers={"Content-Type": "application/json", **headers})
    policy.decorate(req, response)
    return {name.lower(): value for name, value in response.headers.items()}


def cors_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.startswith("access-control-") or k == "vary"}


# --- which origin may read the answer ---------------------------------------------------------------------------


def test_a_listed_origin_is_allowed_as_sent_and_compared_without_case() -> None:
    policy = CorsPolicy([A, B])
    assert policy.allowed_origin(with_origin(A)) == A
    assert policy.allowed_origin(with_origin(B)) == B
    assert policy.allowed_origin(with_origin("HTTPS://A.Example")) == "HTTPS://A.Example"


@pytest.mark.parametrize(
    "origin",
    [EVIL, "https://a.example.evil.example", "http://a.example", "https://a.example:8443", "null", "https://a"],
)
def test_an_unlisted_origin_is_not_allowed_even_when_it_looks_like_a_listed_one(origin: str) -> None:
    assert CorsPolicy([A, B]).allowed_origin(with_origin(origin)) is None


def test_the_wildcard_allows_any_origin_by_echoing_it() -> None:
    policy = CorsPolicy(["*"])
    assert policy.allowed_origin(with_origin(EVIL)) == EVIL
    assert policy.allowed_origin(with_origin("null")) == "null"


def test_no_origin_header_is_no_allowed_origin() -> None:
    assert CorsPolicy([A]).allowed_origin(request()) is None
    assert CorsPolicy(["*"]).allowed_origin(request()) is None


# --- preflights ------------------------------------------------------------------------------------------------


def test_a_preflight_needs_options_an_origin_and_a_requested_method() -> None:
    assert CorsPolicy.is_preflight(preflight(A))
    assert not CorsPolicy.is_preflight(with_origin(A, "OPTIONS"))  # a plain OPTIONS: a raw script's run() gets it
    assert not CorsPolicy.is_preflight(request("OPTIONS", **{"Access-Control-Request-Method": "POST"}))
    post = function_request("POST", "/score", {"Origin": A, "Access-Control-Request-Method": "POST"})
    assert not CorsPolicy.is_preflight(post)


def test_a_preflight_from_an_allowed_origin_gets_the_whole_grant() -> None:
    response = CorsPolicy([A, B]).preflight(preflight(B, "Content-Type, X-Trace-Me , x-functions-key"))
    assert response.status_code == 200
    assert response.get_body() == b""
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Access-Control-Allow-Origin"] == B
    assert response.headers["Access-Control-Allow-Methods"] == "GET, POST"
    assert response.headers["Access-Control-Allow-Headers"] == (
        "content-type, authorization, x-functions-key, x-request-id, x-ms-client-request-id, x-ms-request-id, "
        "x-trace-me"
    )
    assert response.headers["Access-Control-Max-Age"] == "3600"
    assert response.headers["Vary"] == "Origin"


def test_a_preflight_without_requested_headers_still_allows_what_scoring_clients_send() -> None:
    response = CorsPolicy(["*"]).preflight(preflight(EVIL))
    assert response.headers["Access-Control-Allow-Origin"] == EVIL  # echoed as flask-cors does, not `*`
    assert response.headers["Access-Control-Allow-Headers"].split(", ") == [
        "content-type",
        "authorization",
        "x-functions-key",
        "x-request-id",
        "x-ms-client-request-id",
        "x-ms-request-id",
    ]
    assert response.headers["Vary"] == "Origin"


def test_a_preflight_from_another_origin_is_a_plain_200_without_any_cors_header() -> None:
    response = CorsPolicy([A]).preflight(preflight(EVIL, "Content-Type"))
    assert response.status_code == 200 and response.get_body() == b""
    assert cors_headers({k.lower(): v for k, v in response.headers.items()}) == {}


# --- the grant on ordinary answers (flask-cors's, as azmlinfsrv sends it) ----------------------------------------


def test_an_allowed_origin_is_granted_with_vary_when_several_origins_are_configured() -> None:
    headers = decorated(CorsPolicy([A, B]), with_origin(A))
    assert cors_headers(headers) == {"access-control-allow-origin": A, "vary": "Origin"}


def test_a_single_configured_origin_is_granted_without_vary() -> None:
    # The grant never changes with the request's Origin, so caches need not key on it (flask-cors does the same).
    assert cors_headers(decorated(CorsPolicy([A]), with_origin(A))) == {"access-control-allow-origin": A}


def test_vary_is_added_to_the_answer_s_own_vary() -> None:
    headers = decorated(CorsPolicy(["*"]), with_origin(EVIL), Vary="Accept-Encoding")
    assert cors_headers(headers) == {"access-control-allow-origin": EVIL, "vary": "Accept-Encoding, Origin"}


@pytest.mark.parametrize("origins", [[A], [A, B]])
def test_another_origin_gets_no_cors_header_and_no_vary(origins: list[str]) -> None:
    assert cors_headers(decorated(CorsPolicy(origins), with_origin(EVIL))) == {}


def test_without_an_origin_header_the_grant_is_the_wildcard_or_the_first_origin_in_order() -> None:
    assert cors_headers(decorated(CorsPolicy(["*"]), request())) == {"access-control-allow-origin": "*"}
    assert cors_headers(decorated(CorsPolicy([B, A]), request())) == {
        "access-control-allow-origin": A,
        "vary": "Origin",
    }
    assert cors_headers(decorated(CorsPolicy([B]), request())) == {"access-control-allow-origin": B}


def test_a_grant_set_by_the_script_wins() -> None:
    headers = decorated(CorsPolicy([A, B]), with_origin(A), **{"Access-Control-Allow-Origin": "https://own.example"})
    assert cors_headers(headers) == {"access-control-allow-origin": "https://own.example"}
    own_wildcard = decorated(CorsPolicy([A]), with_origin(EVIL), **{"access-control-allow-origin": "*"})
    assert cors_headers(own_wildcard) == {"access-control-allow-origin": "*"}


@pytest.mark.parametrize("origins", [[A], [A, B], [A, "*"]])
@pytest.mark.parametrize("method", ["GET", "POST", "OPTIONS"])
def test_a_disallowed_origin_is_never_granted(origins: list[str], method: str) -> None:
    """Whatever the configuration and method, the only origin ever written is the request's own (when allowed), a
    configured one, or `*` (no Origin header); never another origin's."""
    for origin in (EVIL, "https://A.example.evil.example", "null"):
        policy = CorsPolicy(origins)
        grant = decorated(policy, with_origin(origin, method)).get("access-control-allow-origin")
        pre = policy.preflight(preflight(origin)).headers.get("Access-Control-Allow-Origin")
        if "*" in origins:
            assert grant == pre == origin
        else:
            assert grant is None and pre is None
