"""`python -m adapter serve`: run `function_app.py`'s HTTP functions as the Functions host and worker would.

Core Tools cannot be installed everywhere, so this is the local path: requests become `func.HttpRequest` and
responses raw HTTP through `wire` (the host's and the worker's own conversions), routes and the `host.json` prefix
resolve as on the host, and each connection runs on its own thread as the worker runs sync handlers on its pool.
Like `func start`, Functions keys are not enforced locally.

It stands in for the host, so it must never be softer than it: framing is strict (`http11`), every read is bounded
in size and time, connections are capped, and a function's answer that cannot be sent as one well-formed response
becomes a 500. docs/serve.md lists every guarantee.
"""

from __future__ import annotations

import collections
import errno
import importlib
import itertools
import logging
import os
import select
import selectors
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from pathlib import Path
from urllib.parse import unquote

import azure.functions as func

from adapter.hosting import http11, wire
from adapter.hosting.http11 import BodyClock, Closed, Head, Reader, TimedOut
from adapter.hosting.routing import Route, RouteTable
from adapter.hosting.wire import DEFAULT_MAX_BODY_BYTES, InvalidResponse, RawResponse, Refusal, Target
from adapter.http.request_log import redact
from adapter.http.responses import INTERNAL_ERROR
from adapter.settings import ConfigError, positive_int

logger = logging.getLogger("adapter.serve")

#: Connections served at once; one more gets a 503 (Kestrel has no default cap, but its threads are not ours).
DEFAULT_MAX_CONNECTIONS = 100
#: Kestrel's RequestHeadersTimeout: once a request starts, its whole head must arrive within this (else 408).
DEFAULT_HEADERS_TIMEOUT_S = 30
#: A connection that sends nothing for this long is closed (between requests, or a stalled upload).
DEFAULT_IDLE_TIMEOUT_S = 120
#: How long a refused connection is drained before it is closed, so the client reads the refusal instead of a reset.
LINGER_S = 1.0
#: Refused connections lingering at once (each holds only a socket); past that the oldest is closed early. A quarter
#: of the process's file limit at most (256 by default on macOS), so refusals never starve `accept()` of descriptors.
MAX_LINGERING = 1024
#: How long a new connection may wait for the slot of the idle connection closed to make room for it.
EVICTION_WAIT_S = 1.0
_LINGER_BYTES = 1 << 20
_JSON = [("Content-Type", "application/json")]
_ONE_WRITE_BYTES = 65_536


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    headers_timeout_s: float = DEFAULT_HEADERS_TIMEOUT_S
    idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Limits:
        return cls(
            positive_int(env, "FUNCTIONS_REQUEST_BODY_SIZE_LIMIT", DEFAULT_MAX_BODY_BYTES),
            positive_int(env, "SERVE_MAX_CONNECTIONS", DEFAULT_MAX_CONNECTIONS),
            positive_int(env, "SERVE_HEADERS_TIMEOUT_S", DEFAULT_HEADERS_TIMEOUT_S),
            positive_int(env, "SERVE_IDLE_TIMEOUT_S", DEFAULT_IDLE_TIMEOUT_S),
        )


class Connection:
    """One client connection: its requests in turn, until either side closes it."""

    def __init__(self, server: LocalHost, sock: socket.socket, client: str) -> None:
        self.server = server
        self.sock = sock
        self.client = client
        self.reader = Reader(sock)
        self.limits = server.limits
        #: Set (under the server's idle lock) when the server closed this connection to make room for a new one.
        self.evicted = False

    def run(self) -> None:
        while True:
            head: Head | None = None
            target: Target | None = None
            started = time.perf_counter()
            try:
                if not self.reader.buf and not self._next_request_arrives():
                    return
                head = http11.read_head(self.reader, self.limits.idle_timeout_s, self.limits.headers_timeout_s)
                if head is None:
                    return
                started = time.perf_counter()
                target = wire.parse_target(head.target)
                if not self._serve(head, target, started):
                    return
            except Refusal as ex:
                # The rest of the request may be unread or unreadable: answer, then close (RFC 9112 §6.3).
                self._log(ex.status, head, target, started)  # first: once answered, a client may read the log
                try:
                    self._send(ex.status, _JSON, ex.body(), head, close=True)
                except OSError:  # the client is gone already
                    pass
                _linger_close(self.sock)
                return
            except (Closed, OSError):
                return

    def _next_request_arrives(self) -> bool:
        """Wait, idle, for the first bytes of the next request (up to the idle timeout); whether they came. While it
        waits, the connection may be closed to make room for a new one when every slot is taken (`LocalHost`): an
        idle connection may be closed at any time (RFC 9112 §9.6), and clients retry on a new one."""
        self.server.idle_since(self)
        try:
            self.reader.fill(time.monotonic() + self.limits.idle_timeout_s)
        except (Closed, TimedOut):
            return False
        finally:
            evicted = not self.server.busy(self)
        if evicted:  # a request began just as the server took the slot back: it is told to retry, not dropped
            self._log(503, None, None, time.perf_counter())
            try:
                self.sock.sendall(self.server.busy_answer)
            except OSError:
                pass
            return False
        return True

    def _serve(self, head: Head, target: Target, started: float) -> bool:
        """Answer one request; whether the connection stays open."""
        _check_host(head, target)
        frame = http11.framing(head, self.limits.max_body_bytes)
        close = _wants_close(head)
        expects = (head.first("expect") or "").lower() == "100-continue" and head.version >= (1, 1)
        if expects and (frame.chunked or frame.length):
            # Only now, with the length known to be acceptable: an over-limit upload got its 413 without this.
            self.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        clock = BodyClock(self.limits.idle_timeout_s)
        try:
            if frame.chunked:
                # The host forwards a body only when Content-Length is set (ToRpcHttp): a chunked body is read
                # and dropped, and the function sees `transfer-encoding: chunked` with an empty body, as on Azure.
                http11.discard_chunked(self.reader, clock, self.limits.max_body_bytes)
                body = b""
            else:
                body = http11.read_sized(self.reader, clock, frame.length)
        except TimedOut:
            raise Refusal(408, "The request body did not arrive in time.") from None
        except Closed:
            logger.info(
                '%s "%s" dropped: the client closed the connection before the whole body',
                self.client,
                _logged(head, target),
            )
            return False

        resolved = self.server.routes.resolve(head.method, unquote(target.path))
        if resolved is None:  # the host's own 404, with no body
            self._log(404, head, target, started)
            self._send(404, [], b"", head, close)
            return not close
        route, params = resolved
        request = wire.build_request(head.method, target, head.fields, body, self.server.listen_address, params)
        answer = _call(route, request)
        # No access line here: the function logged the request itself (adapter.http.request_log), as on Azure.
        self._send(answer.status, answer.headers, answer.body, head, close)
        return not close

    def _send(self, status: int, headers: list[tuple[str, str]], body: bytes, head: Head | None, close: bool) -> None:
        phrase = _phrase(status)
        lines = [f"HTTP/1.1 {status} {phrase}\r\nDate: {_http_date()}\r\n"]
        lines += [f"{name}: {value}\r\n" for name, value in headers]
        if status not in (204, 304):
            lines.append(f"Content-Length: {len(body)}\r\n")
        if close:
            lines.append("Connection: close\r\n")
        elif head is not None and head.version < (1, 1):
            lines.append("Connection: keep-alive\r\n")
        data = "".join(lines).encode("latin-1") + b"\r\n"
        if (head is not None and head.method == "HEAD") or status in (204, 304):
            body = b""
        self.sock.settimeout(self.limits.idle_timeout_s)  # a client that stops reading cannot hold the thread
        if len(body) <= _ONE_WRITE_BYTES:  # one write, one packet for the usual small answer
            self.sock.sendall(data + body)
        else:  # no copy of a large body just to prepend the head
            self.sock.sendall(data)
            self.sock.sendall(body)

    def _log(self, status: int, head: Head | None, target: Target | None, started: float) -> None:
        """The access line of a request the host answered itself."""
        elapsed_ms = (time.perf_counter() - started) * 1000
        logger.info('%s "%s" %d %.1fms', self.client, _logged(head, target), status, elapsed_ms)


def _call(route: Route, request: func.HttpRequest) -> RawResponse:
    """Run the function (with a context of its own, as the worker gives each invocation) and encode its answer;
    whatever goes wrong becomes a 500, never a broken response."""
    name = route.name
    try:
        response = route.call(request)
    except BaseException:  # on this thread even KeyboardInterrupt is the function's, not Ctrl-C (the main thread's)
        logger.exception("Function %s failed", name)
        return RawResponse(500, [], b"")  # the host's answer to a function that raised: an empty 500
    try:
        return wire.encode_response(response)
    except InvalidResponse as ex:
        logger.error("Function %s returned a response that cannot be sent, answering 500: %s", name, ex)
        return RawResponse(500, _JSON, Refusal(500, INTERNAL_ERROR).body())
    except Exception:
        logger.exception("Function %s returned something that is not an HTTP response", name)
        return RawResponse(500, [], b"")


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:  # a status Python has no name for (299, 599...): the reason phrase may be empty
        return ""


def _check_host(head: Head, target: Target) -> None:
    """RFC 9112 §3.2: one valid Host, required in HTTP/1.1; with an absolute-form target it must name the same
    authority (Kestrel refuses a mismatch rather than pick one)."""
    hosts = head.values("host")
    if len(hosts) > 1:
        raise wire.bad_request("more than one Host header")
    if not hosts:
        if head.version >= (1, 1):
            raise wire.bad_request("an HTTP/1.1 request without a Host header")
        return
    if hosts[0] and not wire.valid_host(hosts[0]):
        raise wire.bad_request("the Host header is not a valid host[:port]")
    if target.authority is not None and hosts[0].lower() != target.authority.lower():
        raise wire.bad_request("the Host header does not match the authority of the request target")


def _wants_close(head: Head) -> bool:
    tokens = {t.strip().lower() for t in ",".join(head.values("connection")).split(",")}
    return "close" in tokens or (head.version < (1, 1) and "keep-alive" not in tokens)


_date_cache: tuple[int, str] = (0, "")


def _http_date() -> str:
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True))
    return _date_cache[1]


def _printable(text: str) -> str:
    """Control and non-ASCII characters escaped, so a request cannot forge or break a log line."""
    return "".join(c if " " <= c < "\x7f" else f"\\x{ord(c):02x}" for c in text)


def _logged(head: Head | None, target: Target | None) -> str:
    """Method and target (origin-form, redacted, cut short when over the limit); `-` for an unreadable head."""
    if head is None:
        return "-"
    text = redact(target.origin_form if target is not None else head.target)
    if len(text) > wire.MAX_TARGET_BYTES:
        text = text[:100] + "..."
    return _printable(f"{head.method} {text}")


def _linger_close(sock: socket.socket) -> None:
    """Close after a refusal: stop writing, then read (and drop) what the client is still sending for a moment, so
    its TCP stack delivers the answer instead of a reset."""
    try:
        sock.shutdown(socket.SHUT_WR)
        end = time.monotonic() + LINGER_S
        drained = 0
        while drained < _LINGER_BYTES and (left := end - time.monotonic()) > 0:
            sock.settimeout(left)
            data = sock.recv(65_536)
            if not data:
                break
            drained += len(data)
    except OSError:
        pass
    finally:
        sock.close()


class LocalHost(socketserver.TCPServer):
    """Accepts connections and runs each on its own thread, up to `max_connections`. At the cap, the connection
    that has been idle longest (waiting for its next request) is closed to make room; when none is idle, the new
    connection gets a 503 with `Retry-After` from the one turn-away thread, so a flood costs neither threads nor
    memory, and every connection it cannot take is answered."""

    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], routes: RouteTable, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self.busy_answer = _refusal_bytes(
            503,
            f"The server is at its limit of {self.limits.max_connections} concurrent connections; try again shortly.",
            [("Retry-After", "1")],
        )
        self._turn_away = TurnAway(self.busy_answer)  # before binding: a failed bind calls server_close()
        super().__init__(address, socketserver.BaseRequestHandler)
        self.routes = routes
        self.listen_address: tuple[str, int] = self.server_address[:2]  # type: ignore[assignment]
        self._slots = threading.BoundedSemaphore(self.limits.max_connections)
        #: Connections waiting for their next request, the longest-waiting first (dicts keep insertion order).
        self._idle: dict[Connection, None] = {}
        self._idle_lock = threading.Lock()

    def process_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        if not self._slots.acquire(blocking=False):
            # At the cap: an idle connection gives way (its thread sees it closed and frees its slot at once).
            if not (self._evict_oldest_idle() and self._slots.acquire(timeout=EVICTION_WAIT_S)):
                logger.warning("Refused a connection: all %d connections are in use", self.limits.max_connections)
                self._turn_away.refuse(request)
                return
        try:
            threading.Thread(target=self._connection, args=(request, client_address), daemon=True).start()
        except RuntimeError:  # no thread to be had: as if over the cap
            self._slots.release()
            self._turn_away.refuse(request)

    def idle_since(self, connection: Connection) -> None:
        with self._idle_lock:
            self._idle[connection] = None

    def busy(self, connection: Connection) -> bool:
        """The connection stops waiting; False if it was closed to make room meanwhile."""
        with self._idle_lock:
            self._idle.pop(connection, None)
            return not connection.evicted

    def _evict_oldest_idle(self) -> bool:
        with self._idle_lock:
            # One whose next request has already begun to arrive (its thread is about to wake) is not idle.
            candidates = (c for c in itertools.islice(self._idle, _EVICTION_CANDIDATES) if not _readable(c.sock))
            oldest = next(candidates, None)
            if oldest is None:
                return False
            del self._idle[oldest]
            oldest.evicted = True
        logger.info("Closed the connection from %s that was idle longest, to make room", oldest.client)
        try:
            # Reading only: its thread wakes from recv() at once, and can still write a 503 if a request had just
            # begun to arrive.
            oldest.sock.shutdown(socket.SHUT_RD)
        except OSError:  # it closed by itself meanwhile: its slot is coming back anyway
            pass
        return True

    def _connection(self, sock: socket.socket, client_address: object) -> None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # one write per response; no Nagle stall
            client = client_address[0] if isinstance(client_address, tuple) else str(client_address)
            Connection(self, sock, str(client)).run()
        except Exception:
            logger.exception("Connection from %s failed", client_address)
        finally:
            self.shutdown_request(sock)
            self._slots.release()

    def server_close(self) -> None:
        super().server_close()
        self._turn_away.close()


class TurnAway:
    """Answers the connections `serve` cannot take, all on one thread: the 503 is written at once without waiting
    (a few hundred bytes always fit a new socket's buffer), then each connection is read and dropped for up to
    `LINGER_S` so the client reads the answer instead of a reset (`_linger_close`), with one selector for all of
    them. At most `MAX_LINGERING` linger at once (fewer under a low file limit); past that the one answered longest
    ago is closed early."""

    def __init__(self, answer: bytes) -> None:
        self._answer = answer
        self._selector = selectors.DefaultSelector()
        self._waker, self._wake = socket.socketpair()
        self._waker.setblocking(False)
        self._wake.setblocking(False)  # never blocks the accept loop: a full buffer means the loop is awake
        self._selector.register(self._waker, selectors.EVENT_READ, None)
        self._lock = threading.Lock()
        self._new: list[socket.socket] = []
        #: Lingering connections by deadline, oldest first.
        self._lingering: collections.OrderedDict[socket.socket, float] = collections.OrderedDict()
        self._closed = False
        self._max_lingering = _max_lingering()
        self._thread = threading.Thread(target=self._loop, name="serve-turn-away", daemon=True)
        self._thread.start()

    def refuse(self, sock: socket.socket) -> None:
        try:
            sock.setblocking(False)
            _drain(sock)  # what the client sent already: unread data at close would make the kernel send a reset
            sock.send(self._answer)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            sock.close()
            return
        with self._lock:
            if self._closed:
                sock.close()
                return
            self._new.append(sock)
        try:
            self._wake.send(b"\0")
        except OSError:  # the wake-up buffer is full: the loop is awake already
            pass

    def close(self) -> None:
        with self._lock:
            self._closed = True
        try:
            self._wake.send(b"\0")
        except OSError:
            pass

    def _loop(self) -> None:
        while True:
            with self._lock:
                closed, new, self._new = self._closed, self._new, []
            deadline = time.monotonic() + LINGER_S
            for sock in new:
                self._lingering[sock] = deadline
                self._selector.register(sock, selectors.EVENT_READ, sock)
            while len(self._lingering) > self._max_lingering:
                self._forget(next(iter(self._lingering)))
            if closed:
                for sock in list(self._lingering):
                    self._forget(sock)
                self._selector.close()
                self._waker.close()
                self._wake.close()
                return
            timeout = next(iter(self._lingering.values())) - time.monotonic() if self._lingering else None
            for key, _ in self._selector.select(None if timeout is None else max(timeout, 0)):
                if key.data is None:  # the wake-up
                    _drain(self._waker)
                elif not _drain(key.data):  # the client closed its side: it has read the answer
                    self._forget(key.data)
            now = time.monotonic()
            while self._lingering and next(iter(self._lingering.values())) <= now:
                self._forget(next(iter(self._lingering)))

    def _forget(self, sock: socket.socket) -> None:
        del self._lingering[sock]
        self._selector.unregister(sock)
        sock.close()


#: Idle connections looked at, oldest first, for one that has not begun a request: the accept loop stays quick.
_EVICTION_CANDIDATES = 16


def _readable(sock: socket.socket) -> bool:
    """Whether bytes (or the end) are waiting on `sock`, without reading them or waiting. False where the platform
    cannot tell without `select()` (Windows), which is bounded to small descriptor numbers."""
    if not hasattr(select, "poll"):
        return False
    try:
        poller = select.poll()
        poller.register(sock.fileno(), select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):  # closed meanwhile
        return True


def _max_lingering() -> int:
    try:
        import resource  # not on Windows
    except ImportError:
        return MAX_LINGERING
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return MAX_LINGERING if soft == resource.RLIM_INFINITY else max(1, min(MAX_LINGERING, soft // 4))


def _drain(sock: socket.socket) -> bool:
    """Read and drop what a non-blocking socket holds (a bounded amount); False once the peer has closed."""
    for _ in range(16):
        try:
            data = sock.recv(65_536)
        except BlockingIOError:
            return True
        except OSError:
            return False
        if not data:
            return False
    return True


def _refusal_bytes(status: int, message: str, extra: list[tuple[str, str]]) -> bytes:
    headers = "".join(f"{name}: {value}\r\n" for name, value in [*_JSON, *extra])
    body = Refusal(status, message).body()
    head = f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n{headers}Content-Length: {len(body)}\r\n"
    return (head + "Connection: close\r\n\r\n").encode("latin-1") + body


def create(app_root: Path, host: str, port: int) -> LocalHost:
    """Listen on host:port (port 0 picks a free one), then import `function_app.py` from the app root and bind
    its routes. A port in use is a one-line ConfigError, before anything is imported or logged."""
    from adapter import host_config

    applied = host_config.load_local_settings(app_root)
    limits = Limits.from_env(os.environ)
    try:
        server = LocalHost((host, port), RouteTable([], ""), limits)
    except OSError as ex:
        if ex.errno == errno.EADDRINUSE:
            raise ConfigError(f"port {port} on {host} is in use; stop the other server or pass --port") from None
        raise ConfigError(f"cannot listen on {host} port {port}: {ex.strerror or ex}") from None
    if applied:
        logger.info("Loaded from local.settings.json: %s", ", ".join(sorted(applied)))
    if str(app_root) not in sys.path:
        sys.path.insert(0, str(app_root))
    app = importlib.import_module("function_app").app
    server.routes = RouteTable.from_app(app, host_config.route_prefix(app_root))
    return server


def serve(app_root: Path, host: str, port: int) -> None:
    server = create(app_root, host, port)
    bound_host, bound_port = server.listen_address
    for name, path in server.routes.urls():
        logger.info("%s: http://%s:%s%s", name, bound_host, bound_port, path)
    logger.info("Serving on http://%s:%s (Ctrl-C to stop)", bound_host, bound_port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        logger.info("Stopping")
    finally:
        server.server_close()
