"""`adapter/hosting/wire.py`, the one conversion between raw HTTP and the Functions types: requests look to a
function as the host and the Python worker make them look, and a function's answer can only become one well-formed
HTTP response. The last tests run `serve`'s server in-process with a recording function, to see exactly what a
function receives from it."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import azure.functions as func
import pytest

from adapter.hosting import wire
from adapter.hosting.routing import Route, RouteTable
from adapter.hosting.server import Limits, LocalHost
from adapter.http.methods import ALL_METHODS

ROOT = Path(__file__).resolve().parent.parent
LISTEN = ("127.0.0.1", 7071)


def build(target: str, headers: list[tuple[str, str]], body: bytes = b"", method: str = "GET") -> func.HttpRequest:
    return wire.build_request(method, target, headers, body, LISTEN)


def test_headers_arrive_lower_cased_with_repeats_joined_as_the_host_joins_them() -> None:
    req = build("/score", [("Host", "h"), ("X-A", "1"), ("x-a", "2"), ("Accept", "a/b"), ("X-Empty", "")])
    assert dict(req.headers) == {"host": "h", "x-a": "1,2", "accept": "a/b", "x-empty": ""}


def test_repeated_cookie_headers_join_into_one_cookie_list() -> None:
    """With "," the second cookie would become part of the first one's value (RFC 6265 §5.4 wants "; ")."""
    req = build("/score", [("Host", "h"), ("Cookie", "a=1"), ("cookie", "b=2; c=3")])
    assert req.headers["cookie"] == "a=1; b=2; c=3"


def test_the_url_keeps_the_raw_query_and_the_query_map_is_the_hosts() -> None:
    """ASP.NET's query collection: keys case-insensitive, repeated values joined with ",", empty values dropped."""
    req = build("/score?a=1&A=2&b=&c&d=x%20y&e=%E2%82%AC", [("Host", "h:1")])
    assert req.url == "http://h:1/score?a=1&A=2&b=&c&d=x%20y&e=%E2%82%AC"
    assert dict(req.params) == {"a": "1,2", "d": "x y", "e": "€"}


def test_a_question_mark_alone_is_kept_and_no_query_means_no_question_mark() -> None:
    assert build("/score?", [("Host", "h")]).url == "http://h/score?"
    assert build("/score", [("Host", "h")]).url == "http://h/score"


def test_method_body_and_route_parameters_reach_the_function() -> None:
    req = wire.build_request("POST", "/x/y", [("Host", "h")], b"\x00\r\n", LISTEN, {"path": "x/y"})
    assert (req.method, req.get_body(), dict(req.route_params)) == ("POST", b"\x00\r\n", {"path": "x/y"})


def test_an_absolute_form_target_keeps_its_path_and_names_its_host() -> None:
    req = build("http://Example.com:8080/score?q=1", [("Host", "example.com:8080")])
    assert req.url == "http://Example.com:8080/score?q=1"
    assert build("HTTP://h?q=1", []).url == "http://h/?q=1"


@pytest.mark.parametrize("host", ["evil.example/admin?x=", "a b", "user@h", "h#x", "", "h:port"])
def test_a_missing_or_odd_host_never_changes_the_path_the_function_sees(host: str) -> None:
    """The listening address stands in: `http://{host}{path}` must always parse back to the path that was sent."""
    req = build("/score?q=1", [("Host", host)])
    assert req.url == "http://127.0.0.1:7071/score?q=1"
    assert build("/score", []).url == "http://127.0.0.1:7071/score"
    assert wire.build_request("GET", "/s", [], b"", ("::1", 80)).url == "http://[::1]:80/s"


@pytest.mark.parametrize(
    ("target", "status"),
    [
        ("/a b", 400),
        ("/a\x1bb", 400),
        ("/a\x7f", 400),
        ("/a#frag", 400),
        ("*", 400),
        ("example.com:443", 400),
        ("http://user@h/score", 400),
        ("http://h/" + "a" * 4096, 414),
        ("/" + "a" * 4096, 414),
    ],
)
def test_targets_that_are_not_a_path_or_an_http_url_are_refused(target: str, status: int) -> None:
    with pytest.raises(wire.Refusal) as refused:
        wire.parse_target(target)
    assert refused.value.status == status


def test_the_longest_target_accepted_is_4096_bytes() -> None:
    assert wire.parse_target("/" + "a" * 4095).path == "/" + "a" * 4095


def response(body: str = "x", status: int = 200, headers: dict[str, str] | None = None) -> func.HttpResponse:
    return func.HttpResponse(body, status_code=status, headers=headers)


def test_responses_encode_through_the_worker_with_each_cookie_on_its_own_line() -> None:
    answer = func.HttpResponse(b"\x00body", status_code=201, headers={"X-A": "1", "Content-Length": "99"})
    answer.headers.add_header("Set-Cookie", "a=1; Path=/")
    answer.headers.add_header("Set-Cookie", "b=2")
    raw = wire.encode_response(answer)
    assert raw.status == 201 and raw.body == b"\x00body"
    assert ("X-A", "1") in raw.headers
    assert [v for n, v in raw.headers if n == "Set-Cookie"] == ["a=1; Path=/", "b=2"]
    assert not [n for n, _ in raw.headers if n.lower() == "content-length"]  # recomputed from the body by serve
    assert ("content-type", "text/plain; charset=utf-8") in raw.headers  # the worker's default


def test_a_string_returned_by_a_function_is_a_200_text_body() -> None:
    assert wire.encode_response("héllo") == wire.RawResponse(
        200, [("Content-Type", "text/plain; charset=utf-8")], "héllo".encode()
    )


@pytest.mark.parametrize("status", [0, 100, 101, 199, 600, 999])
def test_a_status_outside_200_to_599_cannot_be_sent(status: int) -> None:
    with pytest.raises(wire.InvalidResponse, match=f"status {status} "):
        wire.encode_response(response(status=status))


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Bad\r\nInjected": "yes"},
        {"X-Bad\nInjected": "yes"},
        {"X Space": "1"},
        {"X-A": "caf€"},
        {"X-Caf€": "1"},
        {"X-A": "a\x00b"},
        {"": "empty name"},
    ],
)
def test_headers_that_would_be_split_broken_or_outside_latin_1_cannot_be_sent(headers: dict[str, str]) -> None:
    answer = response()
    for name, value in headers.items():  # set directly: werkzeug and AMLResponse let such names through
        answer.headers[name] = value
    with pytest.raises(wire.InvalidResponse):
        wire.encode_response(answer)


def test_a_value_with_cr_or_lf_is_refused_even_where_werkzeug_would_not_catch_it() -> None:
    for value in ("a\rb", "a\nb", "a\r\nX-Injected: 1"):
        with pytest.raises(wire.InvalidResponse):
            wire.check_field("X-A", value)


def test_latin_1_header_values_and_tabs_are_sent_as_they_are() -> None:
    raw = wire.encode_response(response(headers={"X-A": "café\tÿ"}))
    assert ("X-A", "café\tÿ") in raw.headers


def test_no_other_module_builds_a_functions_request_by_hand() -> None:
    """One conversion: anything else building `func.HttpRequest` from raw parts would drift from what `serve` and
    the host send."""
    pattern = re.compile(r"func\.HttpRequest\(|HttpRequestConverter|azure\.functions\.http import")
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("adapter", "bench", "tests")
        for path in (ROOT / folder).rglob("*.py")
        if path.name not in ("wire.py", "test_wire.py") and pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


# What a function receives from `serve`: its server in-process, with one catch-all function that records requests.


@pytest.fixture
def recording() -> Iterator[tuple[LocalHost, list[func.HttpRequest]]]:
    seen: list[func.HttpRequest] = []

    def record(req: func.HttpRequest) -> func.HttpResponse:
        seen.append(req)
        return func.HttpResponse("ok")

    routes = RouteTable([Route("record", "{*path}", frozenset(ALL_METHODS), record)], "")
    server = LocalHost(("127.0.0.1", 0), routes, Limits(max_body_bytes=1000))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield server, seen
    server.shutdown()
    server.server_close()


def exchange(server: LocalHost, data: bytes) -> bytes:
    """Send one request with `Connection: close` in it; everything the server answered."""
    with socket.create_connection(server.listen_address, timeout=10) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_a_chunked_body_is_read_and_the_function_gets_the_header_and_no_body(recording) -> None:  # type: ignore[no-untyped-def]
    """As the host: it forwards a body only when Content-Length is above 0 (ToRpcHttp); Transfer-Encoding, like
    every request header, is passed on, so the function can tell a dropped chunked body from an empty one."""
    server, seen = recording
    head = b"POST /score HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    answer = exchange(server, head + b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 ")
    [req] = seen
    assert req.get_body() == b""
    assert req.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in req.headers and "x-trailer" not in req.headers


def test_a_sized_body_is_passed_byte_for_byte(recording) -> None:  # type: ignore[no-untyped-def]
    server, seen = recording
    body = bytes(range(256)) * 3
    head = b"POST /x?a=1 HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
    assert exchange(server, head + body).startswith(b"HTTP/1.1 200 ")
    [req] = seen
    assert (req.get_body(), req.url, req.headers["content-length"]) == (body, "http://h/x?a=1", "768")


def test_repeated_cookie_lines_reach_the_function_as_one_list(recording) -> None:  # type: ignore[no-untyped-def]
    server, seen = recording
    exchange(server, b"GET / HTTP/1.1\r\nHost: h\r\nCookie: a=1\r\nCookie: b=2\r\nConnection: close\r\n\r\n")
    assert seen[0].headers["cookie"] == "a=1; b=2"
