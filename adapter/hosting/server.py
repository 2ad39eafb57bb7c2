"""`python -m adapter serve`: run `function_app.py`'s HTTP functions as the Functions host and worker would.

Core Tools cannot be installed everywhere, so this is the local path: requests become `func.HttpRequest` through
the same converter the Python worker uses, responses go back through the worker's own encoder, routes and the
`host.json` prefix resolve as on the host, and handlers run on a thread per connection as the worker runs sync
handlers on its pool. Like `func start`, Functions keys are not enforced locally.
"""

from __future__ import annotations

import importlib
import io
import json
import logging
import os
import sys
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import azure.functions as func
from azure.functions import meta
from azure.functions.http import HttpRequestConverter, HttpResponseConverter

from adapter.hosting.routing import RouteTable
from adapter.http.request_log import redact
from adapter.http.responses import HOP_BY_HOP
from adapter.settings import positive_int

logger = logging.getLogger("adapter.serve")

#: The Functions host's default request body limit (100 MB); FUNCTIONS_REQUEST_BODY_SIZE_LIMIT changes it there too.
DEFAULT_MAX_BODY_BYTES = 104_857_600
#: Longest request target (path and query) accepted; longer ones get a JSON 414.
MAX_TARGET_BYTES = 4096
_TARGET_TOO_LONG = f"The request URL is longer than the limit of {MAX_TARGET_BYTES} bytes."
#: The host's web server (Kestrel) answers 431 above 32 KB of request headers in all.
MAX_HEADER_BYTES = 32_768
#: A connection that sends nothing for this long is closed: a stalled upload must not hold a thread forever.
IDLE_TIMEOUT_S = 120


class RequestRejected(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ClientGone(Exception):
    """The client closed its connection before sending the whole body: there is no request to run."""


class FunctionsHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body are separate writes: without this, Nagle's algorithm and delayed ACKs stall every
    # keep-alive response by ~40 ms.
    disable_nagle_algorithm = True
    timeout = IDLE_TIMEOUT_S
    server: LocalHost

    def handle_one_request(self) -> None:
        """A client that goes away mid-request ends its connection, not the server."""
        try:
            super().handle_one_request()
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    def _dispatch(self) -> None:
        started = time.perf_counter()
        try:
            self._check_head()
            body = self._read_body()
        except RequestRejected as ex:
            self._refuse(ex.status, ex.message, started)
            return
        except ClientGone as ex:
            self.close_connection = True
            logger.info('%s "%s" dropped: %s', self.client_address[0], self._logged_request(), ex)
            return
        target = urlsplit(self.path)
        resolved = self.server.routes.resolve(self.command, unquote(target.path))
        if resolved is None:  # the host's own 404, with no body
            self._send(404, {}, [], b"")
            self._log(404, started)
            return
        route, route_params = resolved
        request = self._function_request(body, route_params)
        try:
            response = route.call(request)
            status, headers, cookies, payload = _encode(response)
        except Exception:
            logger.exception("Function %s failed", route.name)
            status, headers, cookies, payload = 500, {}, [], b""
        self._send(status, headers, cookies, payload)
        # No access line here: the function logged the request itself (adapter.http.request_log), as it does on Azure.

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _dispatch

    def _check_head(self) -> None:
        """The limits on the request target (414) and on the headers in all (431)."""
        if len(self.path) > MAX_TARGET_BYTES:
            raise RequestRejected(414, _TARGET_TOO_LONG)
        if sum(len(name) + len(value) + 4 for name, value in self.headers.items()) > MAX_HEADER_BYTES:
            raise RequestRejected(431, f"The request headers are larger than the limit of {MAX_HEADER_BYTES} bytes.")

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (request or header line over 64 KB, over 100 headers, a malformed request
        line) in JSON like every other answer, instead of its HTML page."""
        if code == HTTPStatus.NOT_IMPLEMENTED:
            # A method without a do_* (TRACE, anything): no function accepts it, so the route table answers with
            # the host's empty 404 (azure-functions-host#10098), not http.server's 501.
            self._dispatch()
            return
        if code == HTTPStatus.REQUEST_URI_TOO_LONG:
            message = _TARGET_TOO_LONG
        elif code == HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE:
            message = f"The request headers are too large: {explain}."
        if self.request_version == "HTTP/0.9":  # a bad request line: still answer with a status line and headers
            self.request_version = self.protocol_version
        self._refuse(code, message or HTTPStatus(code).phrase, time.perf_counter())

    def _refuse(self, status: int, message: str, started: float) -> None:
        """The host's own JSON refusal; the connection closes, as the rest of the request may be unread."""
        self.close_connection = True
        self._send(status, {"Content-Type": "application/json"}, [], json.dumps({"message": message}).encode())
        self._log(status, started)

    def _read_body(self) -> bytes:
        try:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                return self._read_chunked()
            return self._read_sized()
        except ValueError:
            raise RequestRejected(400, "The request's Content-Length or chunked framing is malformed.") from None

    def _read_sized(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError(length)
        if length > self.server.max_body_bytes:
            raise self._too_large()
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            raise ClientGone(f"the client closed the connection after {len(body)} of {length} body bytes")
        return body

    def _read_chunked(self) -> bytes:
        """Chunks go into one growing buffer that `getvalue()` hands over without a copy: peak memory stays near
        the body's size instead of twice it (a list of chunks joined at the end)."""
        body = io.BytesIO()
        while True:
            line = self.rfile.readline()
            if not line:
                raise ClientGone("the client closed the connection in the middle of a chunked body")
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size < 0:
                raise ValueError(size)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return body.getvalue()
            if body.tell() + size > self.server.max_body_bytes:
                raise self._too_large()
            chunk = self.rfile.read(size)
            if len(chunk) < size:
                raise ClientGone("the client closed the connection in the middle of a chunked body")
            body.write(chunk)
            self.rfile.readline()

    def _too_large(self) -> RequestRejected:
        limit = self.server.max_body_bytes
        return RequestRejected(413, f"The request body is larger than the limit of {limit} bytes.")

    def _function_request(self, body: bytes, route_params: dict[str, str]) -> func.HttpRequest:
        """The worker's own conversion, from the message the host would have sent it."""
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()  # names are case-insensitive: `X-A` and `x-a` are one header with two values
            headers[key] = f"{headers[key]},{value}" if key in headers else value
        query: dict[str, str] = {}
        for key, value in parse_qsl(urlsplit(self.path).query, keep_blank_values=True):
            query[key] = f"{query[key]},{value}" if key in query else value
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])

        def strings(values: dict[str, str]) -> dict[str, meta.Datum]:
            return {k: meta.Datum(v, "string") for k, v in values.items()}

        datum = meta.Datum(
            type="http",
            value={
                "method": meta.Datum(self.command, "string"),
                "url": meta.Datum(f"http://{host}{self.path}", "string"),
                "headers": strings(headers),
                "query": strings(query),
                "params": strings(route_params),
                "body": meta.Datum(body, "bytes"),
            },
        )
        request: func.HttpRequest = HttpRequestConverter.decode(datum, trigger_metadata=None)
        return request

    def _send(self, status: int, headers: dict[str, str], cookies: list[str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        for cookie in cookies:
            self.send_header("Set-Cookie", cookie)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(body)

    def _log(self, status: int, started: float) -> None:
        """The access line of a request the host answered itself."""
        elapsed_ms = (time.perf_counter() - started) * 1000
        logger.info('%s "%s" %d %.1fms', self.client_address[0], self._logged_request(), status, elapsed_ms)

    def _logged_request(self) -> str:
        """Method and target, redacted and cut short when over the limit; `-` when the request line was bad."""
        if not self.command:
            return "-"
        target = redact(self.path)
        return f"{self.command} {target if len(target) <= MAX_TARGET_BYTES else target[:100] + '...'}"

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: the functions log their requests, `_log` the host's own answers."""


def _encode(response: Any) -> tuple[int, dict[str, str], list[str], bytes]:
    """The worker's encoder: one value per header name, cookies apart, a default Content-Type."""
    datum = HttpResponseConverter.encode(response, expected_type=None)
    if datum.type == "string":
        return 200, {"Content-Type": "text/plain; charset=utf-8"}, [], datum.value.encode()
    value = datum.value
    headers = {name: h.value for name, h in value["headers"].items()}
    cookies = [m.OutputString() for c in value["cookies"] or [] for m in c.values()]
    return int(value["status_code"].value), headers, cookies, value["body"].value


class LocalHost(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], routes: RouteTable, max_body_bytes: int) -> None:
        super().__init__(address, FunctionsHandler)
        self.routes = routes
        self.max_body_bytes = max_body_bytes


def create(app_root: Path, host: str, port: int) -> LocalHost:
    """Import `function_app.py` from the app root and bind its routes (port 0 picks a free one)."""
    from adapter import host_config

    applied = host_config.load_local_settings(app_root)
    if applied:
        logger.info("Loaded from local.settings.json: %s", ", ".join(sorted(applied)))
    if str(app_root) not in sys.path:
        sys.path.insert(0, str(app_root))
    app = importlib.import_module("function_app").app
    routes = RouteTable.from_app(app, host_config.route_prefix(app_root))
    limit = positive_int(os.environ, "FUNCTIONS_REQUEST_BODY_SIZE_LIMIT", DEFAULT_MAX_BODY_BYTES)
    return LocalHost((host, port), routes, limit)


def serve(app_root: Path, host: str, port: int) -> None:
    server = create(app_root, host, port)
    bound_host, bound_port = server.server_address[:2]
    for name, path in server.routes.urls():
        logger.info("%s: http://%s:%s%s", name, bound_host, bound_port, path)
    logger.info("Serving on http://%s:%s (Ctrl-C to stop)", bound_host, bound_port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        logger.info("Stopping")
    finally:
        server.server_close()
