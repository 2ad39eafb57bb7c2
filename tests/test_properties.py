"""Property tests: for any raw HTTP request, the `AMLRequest` a `@rawhttp` script gets from our conversion presents
what Flask presents under azmlinfsrv, i.e. werkzeug over the environ gunicorn builds from the same bytes: method,
path, URL, args, form, files, headers, cookies and data."""

from __future__ import annotations

import string
from collections.abc import Callable
from typing import Any

from gunicorn.config import Config
from gunicorn.http import wsgi
from gunicorn.http.parser import RequestParser
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.wrappers import Request

from adapter.hosting import wire
from adapter.script import request_conversion

HOST = "localhost:7071"
FUZZ = settings(
    max_examples=300, deadline=None, database=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)

# A raw request: method, request target, header lines (name, value) in order, body.
Raw = tuple[str, str, list[tuple[str, str]], bytes]


def escapes(min_size: int = 1) -> st.SearchStrategy[str]:
    return st.binary(min_size=min_size, max_size=3).map(lambda b: "".join(f"%{x:02X}" for x in b))


def url_text(alphabet: str, *, bad_escapes: bool) -> st.SearchStrategy[str]:
    """URL text: plain characters, percent-escapes of any bytes (UTF-8 or not), and optionally broken escapes."""
    pieces = [st.text(alphabet, min_size=1, max_size=4), escapes()]
    if bad_escapes:
        pieces.append(st.sampled_from(["%", "%z", "%zz", "%4", "%%41"]))
    return st.lists(st.one_of(pieces), max_size=5).map("".join)


PATH_CHARS = string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@"
QUERY_CHARS = string.ascii_letters + string.digits + "-._~!$'()*,:@/?+"
paths = st.lists(url_text(PATH_CHARS, bad_escapes=False), min_size=1, max_size=4).map(lambda s: "/" + "/".join(s))


@st.composite
def pairs(draw: st.DrawFn) -> str:
    """`a=1&a=2&b&=x;c=%E2%82%AC&&`: repeated and blank keys, missing `=`, non-ASCII, `;` inside values."""
    keys = st.one_of(st.sampled_from(["a", "b", "k%20y", "%E2%82%AC", "a+b"]), url_text(QUERY_CHARS, bad_escapes=True))
    items = draw(st.lists(st.tuples(keys, st.none() | url_text(QUERY_CHARS + ";=", bad_escapes=True)), max_size=6))
    return "&".join(k if v is None else f"{k}={v}" for k, v in items) + draw(st.sampled_from(["", "&", "&&"]))


@st.composite
def multipart(draw: st.DrawFn) -> tuple[str, bytes]:
    boundary = draw(st.text(string.ascii_letters + string.digits + "-_", min_size=8, max_size=30))
    names = st.text(string.ascii_letters + string.digits + "-_ ", min_size=1, max_size=8)
    parts = []
    for name, value in draw(st.lists(st.tuples(names, st.text(max_size=20)), max_size=3)):
        parts.append(f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value.encode())
    filenames = st.text(string.ascii_letters + " .-éü漢", min_size=1, max_size=12)
    types = st.sampled_from(["image/png", "text/plain", "application/octet-stream"])
    for name, filename, ctype, content in draw(st.lists(st.tuples(names, filenames, types, st.binary()), max_size=3)):
        head = f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\nContent-Type: {ctype}\r\n\r\n'
        parts.append(head.encode() + content)
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + p + b"\r\n" for p in parts) + f"--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", body


bodies: st.SearchStrategy[tuple[str | None, bytes]] = st.one_of(
    st.just((None, b"")),
    st.tuples(st.sampled_from([None, "application/json", "text/plain; charset=utf-8", "image/png"]), st.binary()),
    st.tuples(
        st.sampled_from(["application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=utf-8"]),
        pairs().map(str.encode),
    ),
    multipart(),
)

HEADER_VALUE = st.text(string.ascii_letters + string.digits + " !\"#$%&'()*+,-./:;<=>?@[\\]^`{|}~", max_size=20).map(
    str.strip
)
headers = st.lists(
    st.tuples(
        # Names that repeat (in any case) and fresh ones; never `_`, which gunicorn drops (see the report).
        st.sampled_from(["X-Custom", "x-custom", "Accept", "X-Request-Id", "User-Agent"])
        | st.text(string.ascii_letters + string.digits + "-!#$%&'*+.^`|~", min_size=1, max_size=10).map(
            lambda n: "X-" + n
        ),
        HEADER_VALUE,
    ),
    max_size=6,
)
cookies = st.lists(st.tuples(st.sampled_from(["session", "a", "b"]), st.text(string.ascii_letters + "%=", max_size=8)))


@st.composite
def raw_requests(draw: st.DrawFn) -> Raw:
    method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]))
    query = draw(st.none() | pairs())
    target = draw(paths) + ("" if query is None else "?" + query)
    lines = [("Host", HOST), *draw(headers)]
    jar = draw(cookies)
    if jar:
        lines.append(("Cookie", "; ".join(f"{k}={v}" for k, v in jar)))
    content_type, body = draw(bodies)
    if content_type is not None:
        lines.append(("Content-Type", content_type))
    if body:
        lines.append(("Content-Length", str(len(body))))
    return method, target, lines, body


def werkzeug_over_gunicorn(raw: Raw) -> Callable[[], Request]:
    """What Flask sees under azmlinfsrv: gunicorn parses the bytes into an environ, werkzeug reads it."""
    method, target, lines, body = raw
    head = f"{method} {target} HTTP/1.1\r\n" + "".join(f"{n}: {v}\r\n" for n, v in lines) + "\r\n"
    data = head.encode("latin-1") + body

    def build() -> Request:
        config = Config()
        parsed = next(iter(RequestParser(config, iter([data]), ("127.0.0.1", 50000))))
        _, environ = wsgi.create(parsed, _NoSocket(), ("127.0.0.1", 50000), ("127.0.0.1", "7071"), config)
        return Request(environ)

    return build


def through_the_adapter(raw: Raw) -> Callable[[], Request]:
    """What the script sees from us: the request `serve` and the tests build (`wire`: the host's message, decoded by
    the worker's converter), then `aml_request`."""
    method, target, lines, body = raw
    req = wire.build_request(method, target, lines, body, ("localhost", 7071))
    return lambda: request_conversion.aml_request(req)


def presented(build: Callable[[], Request]) -> dict[str, Any]:
    """Everything a script reads, each from a fresh request as a script reading only that one would."""
    r = build()
    seen: dict[str, Any] = {
        "method": r.method,
        "path": r.path,
        "full_path": r.full_path,
        "url": r.url,
        "args": list(r.args.items(multi=True)),
        "headers": sorted(r.headers.items()),
        "cookies": list(r.cookies.items(multi=True)),
        "mimetype": r.mimetype,
        "content_length": r.content_length,
        "data": build().get_data(),
    }
    r = build()
    seen["form"] = list(r.form.items(multi=True))
    seen["files"] = [(k, f.filename, f.content_type, f.read()) for k, f in r.files.items(multi=True)]
    return seen


class _NoSocket:
    """gunicorn only writes to its socket for `Expect: 100-continue`, which these requests never send."""

    def sendall(self, data: bytes) -> None:
        raise AssertionError("unexpected write")


@FUZZ
@given(raw_requests())
def test_aml_request_presents_what_flask_presents(raw: Raw) -> None:
    assert presented(through_the_adapter(raw)) == presented(werkzeug_over_gunicorn(raw))


@FUZZ
@given(st.sampled_from(["GET", "POST"]), paths, pairs())
def test_query_args_match_werkzeug(method: str, path: str, query: str) -> None:
    """`query_args` feeds GET input to non-raw scripts: the same pairs, in order, as `request.args`."""
    raw: Raw = (method, f"{path}?{query}", [("Host", HOST)], b"")
    req = wire.build_request(method, f"{path}?{query}", [("Host", HOST)], b"", ("localhost", 7071))
    assert list(request_conversion.query_args(req).items(multi=True)) == list(
        werkzeug_over_gunicorn(raw)().args.items(multi=True)
    )
