"""The one conversion between raw HTTP parts and the Functions types, done as the host and the Python worker do it.

The host (azure-functions-host, `GrpcMessageConversionExtensions.ToRpcHttp`) turns the ASP.NET request into the
`RpcHttp` message: `url` is scheme, `Host`, path and the raw query; every header under its lower-cased name, the
values of a repeated header joined with ","; the query map with repeated keys joined and empty values dropped; the
body only when `Content-Length` is above 0. The worker decodes that message with `HttpRequestConverter` and encodes
the function's answer with `HttpResponseConverter`, both public classes of `azure-functions`, used here as they are.

`serve`, the tests and the benchmark build requests here and nowhere else, so a request looks the same to the
functions whichever way it came. The request limits `serve` enforces, and their JSON messages, live here too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import azure.functions as func
from azure.functions import meta
from azure.functions.http import HttpRequestConverter, HttpResponseConverter

from adapter.http.headers import field_problem
from adapter.http.responses import HOP_BY_HOP

#: The Functions host's default request body limit (100 MB); FUNCTIONS_REQUEST_BODY_SIZE_LIMIT changes it there too.
DEFAULT_MAX_BODY_BYTES = 104_857_600
#: Longest request target (path and query) accepted; longer ones get a JSON 414.
MAX_TARGET_BYTES = 4096
#: The host's web server (Kestrel) answers 431 above 32 KB of request headers in all and above 100 header lines.
MAX_HEADER_BYTES = 32_768
MAX_HEADER_COUNT = 100

# RFC 3986 host (reg-name, IPv4 or a bracketed IPv6 literal) and an optional port: nothing that could end the
# authority of a URL (`/`, `?`, `#`, `@`, whitespace), so `http://{host}{path}` always keeps the path it was given.
_HOST = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::[0-9]{0,5})?")


class Refusal(Exception):
    """A request `serve` answers itself with `{"message": ...}` JSON, before any function runs."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def body(self) -> bytes:
        return json.dumps({"message": self.message}).encode()


def target_too_long() -> Refusal:
    return Refusal(414, f"The request URL is longer than the limit of {MAX_TARGET_BYTES} bytes.")


def headers_too_large() -> Refusal:
    return Refusal(431, f"The request headers are larger than the limit of {MAX_HEADER_BYTES} bytes.")


def too_many_headers() -> Refusal:
    return Refusal(431, f"The request has more than {MAX_HEADER_COUNT} header lines.")


def body_too_large(limit: int) -> Refusal:
    return Refusal(413, f"The request body is larger than the limit of {limit} bytes.")


def bad_request(reason: str) -> Refusal:
    return Refusal(400, f"Malformed request: {reason}.")


@dataclass(frozen=True)
class Target:
    """A request target split as the host splits it: the path the routes see and the raw query."""

    path: str  # as sent (percent-escapes kept), always starting with "/"
    query: str | None  # as sent, without the "?"; None when the target has no "?"
    authority: str | None = None  # the host of an absolute-form target (`GET http://host/path`)

    @property
    def origin_form(self) -> str:
        """Path and query, the part of the URL a function and the log lines see."""
        return self.path if self.query is None else f"{self.path}?{self.query}"


def parse_target(raw: str) -> Target:
    """Origin-form (`/path?query`) or absolute-form (`http://host/path?query`); anything else is refused.

    An absolute-form target never changes the path: its authority is kept apart (and must match `Host`).
    """
    if len(raw) > MAX_TARGET_BYTES:
        raise target_too_long()
    if any(c <= " " or c == "\x7f" for c in raw):
        raise bad_request("the request target contains a space or a control character")
    if "#" in raw:
        raise bad_request("the request target contains a fragment (#)")
    if raw.startswith("/"):
        path, question, query = raw.partition("?")
        return Target(path, query if question else None)
    if raw[:7].lower() == "http://" or raw[:8].lower() == "https://":
        parts = urlsplit(raw)
        if "@" in parts.netloc or not _HOST.fullmatch(parts.netloc):
            raise bad_request("the authority of the absolute-form request target is invalid")
        after_authority = raw[len(parts.scheme) + 3 + len(parts.netloc) :]
        path, question, query = after_authority.partition("?")
        return Target(path or "/", query if question else None, parts.netloc)
    raise bad_request("the request target must be a path (/...) or an absolute http(s) URL")


def valid_host(value: str) -> bool:
    return bool(_HOST.fullmatch(value))


def host_query(query: str | None) -> dict[str, str]:
    """The query map the host sends: keys matched case-insensitively (ASP.NET's `QueryCollection`), the values of a
    repeated key joined with ",", keys whose value is empty left out."""
    values: dict[str, list[str]] = {}
    spelling: dict[str, str] = {}
    for key, value in parse_qsl(query or "", keep_blank_values=True):
        values.setdefault(spelling.setdefault(key.lower(), key), []).append(value)
    joined = {key: ",".join(vals) for key, vals in values.items()}
    return {key: value for key, value in joined.items() if value}


def joined_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """One value per lower-cased name, as the host sends them: repeated headers joined with ",", except `Cookie`,
    whose lines are joined with "; " so they read as one cookie list (RFC 9110 §5.3, RFC 6265 §5.4)."""
    joined: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        if key in joined:
            joined[key] = f"{joined[key]}{'; ' if key == 'cookie' else ','}{value}"
        else:
            joined[key] = value
    return joined


def _authority(listen_address: tuple[str, int]) -> str:
    host, port = listen_address[0], listen_address[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def build_request(
    method: str,
    target: str | Target,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    listen_address: tuple[str, int],
    route_params: Mapping[str, str] | None = None,
) -> func.HttpRequest:
    """The `func.HttpRequest` a function gets for this request on Azure.

    `target` is the request target as sent; `headers` the (name, value) pairs in order, repeats included; `body` what
    the host forwards (nothing unless the request had a `Content-Length`); `listen_address` the address the server
    listens on, standing in for a missing or invalid `Host` so the URL always has the path it was sent with.
    """
    parts = target if isinstance(target, Target) else parse_target(target)
    joined = joined_headers(headers)
    host = parts.authority or joined.get("host", "")
    if not valid_host(host):
        host = _authority(listen_address)

    def strings(values: Mapping[str, str]) -> dict[str, meta.Datum]:
        return {k: meta.Datum(v, "string") for k, v in values.items()}

    datum = meta.Datum(
        type="http",
        value={
            "method": meta.Datum(method, "string"),
            "url": meta.Datum(f"http://{host}{parts.origin_form}", "string"),
            "headers": strings(joined),
            "query": strings(host_query(parts.query)),
            "params": strings(route_params or {}),
            "body": meta.Datum(body, "bytes"),
        },
    )
    request: func.HttpRequest = HttpRequestConverter.decode(datum, trigger_metadata=None)
    return request


class InvalidResponse(Exception):
    """A function's answer that cannot be sent as a well-formed HTTP/1.1 response; the reason is for the log."""


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: list[tuple[str, str]]  # in order; each Set-Cookie its own pair
    body: bytes


def check_field(name: str, value: str) -> None:
    """Raise InvalidResponse unless `name: value` can be written as one header line, unchanged and alone."""
    problem = field_problem(name, value)
    if problem is not None:
        raise InvalidResponse(problem)


def encode_response(response: Any) -> RawResponse:
    """The worker's encoding of a function's return value, checked so it can only become one valid response.

    Raises InvalidResponse for a status outside 200..599 (1xx is the server's business, not a final answer) or a
    header that would be written broken or split (CR/LF, a name that is not a token, text outside latin-1). Other
    exceptions mean the value is not an HTTP response at all.
    """
    datum = HttpResponseConverter.encode(response, expected_type=None)
    if datum.type == "string":  # a function may return a str: the worker sends it as a 200 text body
        return RawResponse(200, [("Content-Type", "text/plain; charset=utf-8")], str(datum.value).encode())
    value = datum.value
    try:
        status = int(value["status_code"].value)
    except (TypeError, ValueError):
        raise InvalidResponse(f"status {value['status_code'].value!r} is not a number") from None
    if not 200 <= status <= 599:
        raise InvalidResponse(f"status {status} is outside 200..599")
    headers = [(str(name), str(h.value)) for name, h in value["headers"].items() if name.lower() not in HOP_BY_HOP]
    headers += [("Set-Cookie", m.OutputString()) for c in value["cookies"] or [] for m in c.values()]
    for name, text in headers:
        check_field(name, text)
    body = value["body"].value
    return RawResponse(status, headers, bytes(body) if body else b"")
