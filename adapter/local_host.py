"""`python -m adapter serve`: run `function_app.py`'s HTTP functions as the Functions host and worker would.

Core Tools cannot be installed everywhere, so this is the local path: requests become `func.HttpRequest` through
the same converter the Python worker uses, responses go back through the worker's own encoder, routes and the
`host.json` prefix resolve as on the host, and handlers run on a thread per connection as the worker runs sync
handlers on its pool. Like `func start`, Functions keys are not enforced locally.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import re
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import azure.functions as func
from azure.functions import meta
from azure.functions.http import HttpRequestConverter, HttpResponseConverter

from .routing import RouteTable
from .settings import positive_int

logger = logging.getLogger("adapter.serve")

#: Function keys travel as `?code=`: never write them to the log.
_SECRET_QUERY = re.compile(r"([?&]code=)[^&#]*", re.IGNORECASE)
#: The Functions host's default request body limit (100 MB); FUNCTIONS_REQUEST_BODY_SIZE_LIMIT changes it there too.
DEFAULT_MAX_BODY_BYTES = 104_857_600


class RequestRejected(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class FunctionsHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
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
            body = self._read_body()
        except RequestRejected as ex:
            self.close_connection = True
            message = json.dumps({"message": ex.message}).encode()
            self._send(ex.status, {"Content-Type": "application/json"}, [], message)
            self._log(ex.status, started)
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
            response = route.handler(request)
            status, headers, cookies, payload = _encode(response)
        except Exception:
            logger.exception("Function %s failed", route.name)
            status, headers, cookies, payload = 500, {}, [], b""
        self._send(status, headers, cookies, payload)
        self._log(status, started)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _dispatch

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
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            total += size
            if total > self.server.max_body_bytes:
                raise self._too_large()
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _too_large(self) -> RequestRejected:
        limit = self.server.max_body_bytes
        return RequestRejected(413, f"The request body is larger than the limit of {limit} bytes.")

    def _function_request(self, body: bytes, route_params: dict[str, str]) -> func.HttpRequest:
        """The worker's own conversion, from the message the host would have sent it."""
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            headers[name] = f"{headers[name]},{value}" if name in headers else value
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
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
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
        logger.info(
            '%s "%s %s" %d %.1fms',
            self.client_address[0],
            self.command,
            _SECRET_QUERY.sub(r"\1***", self.path),
            status,
            (time.perf_counter() - started) * 1000,
        )

    def log_message(self, format: str, *args: Any) -> None:
        """Replaced by `_log`: one line per request."""


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
    from . import host_config

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
