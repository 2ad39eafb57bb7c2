"""HTTP/1.1 message framing for `adapter serve` (RFC 9112), at least as strict as the host's web server (Kestrel).

Everything read from a client is bounded before it is buffered: the request line, every header, chunk-size and
trailer line, the header section in all, and the time the request head may take to arrive. A message whose framing
could be read two ways (request smuggling: `Content-Length` with `Transfer-Encoding`, two lengths, a length that is
not plain digits, a coding other than `chunked`, a bare CR, space before a colon, a folded line) is refused with
400 and the connection closed (RFC 9112 §6.3, §11.2), never guessed at.
"""

from __future__ import annotations

import io
import re
import socket
import time
from dataclasses import dataclass

from adapter.hosting import wire
from adapter.hosting.wire import Refusal, bad_request
from adapter.http import headers

#: A request line longer than this is answered 414 (Kestrel's MaxRequestLineSize is 8 KB).
MAX_REQUEST_LINE = 8192
#: A chunk-size line, extensions included.
MAX_CHUNK_LINE = 4096
#: Empty lines tolerated before a request line (RFC 9112 §2.2), so a stream of CRLFs cannot spin a thread.
MAX_LEADING_EMPTY_LINES = 4
#: Kestrel's MinRequestBodyDataRate: after a grace period a body must keep arriving at 240 bytes/s on average.
MIN_BODY_RATE = 240
BODY_RATE_GRACE_S = 5.0

_RECV_SIZE = 65_536
_VERSION = re.compile(r"HTTP/([0-9])\.([0-9])")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]+)[ \t]*(?:;[^\x00-\x08\x0a-\x1f\x7f]*)?")


class Closed(Exception):
    """The client closed or reset the connection."""


class TimedOut(Exception):
    """The client sent nothing before the deadline."""


class Reader:
    """Reads a socket through one buffer, each wait bounded by a deadline: a client that drips bytes cannot stretch
    a deadline by sending just before each socket timeout."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = bytearray()

    def fill(self, deadline: float) -> None:
        timeout = deadline - time.monotonic()
        if timeout <= 0:
            raise TimedOut
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(_RECV_SIZE)
        except TimeoutError:
            raise TimedOut from None
        except OSError:
            raise Closed from None
        if not data:
            raise Closed
        self.buf += data

    def readline(self, limit: int, deadline: float) -> bytes | None:
        """The next line, terminator included, if it ends within `limit` bytes; None if it does not (nothing is
        consumed then: the caller refuses the request and closes)."""
        scanned = 0
        while True:
            end = self.buf.find(b"\n", scanned, limit)
            if end >= 0:
                line = bytes(self.buf[: end + 1])
                del self.buf[: end + 1]
                return line
            if len(self.buf) >= limit:
                return None
            scanned = len(self.buf)
            self.fill(deadline)

    def read(self, size: int, clock: BodyClock, sink: io.BytesIO | None) -> None:
        """`size` bytes into `sink` (or dropped when it is None), pieces as they come: memory stays at the body."""
        while size > 0:
            if not self.buf:
                self.fill(clock.deadline())
                clock.received(len(self.buf))
            piece = min(size, len(self.buf))
            if sink is not None:
                sink.write(memoryview(self.buf)[:piece])
            del self.buf[:piece]
            size -= piece


class BodyClock:
    """Deadlines for a request body: Kestrel's minimum data rate after its grace period, and no pause longer than
    the idle timeout."""

    def __init__(self, idle_timeout_s: float) -> None:
        self.idle_timeout_s = idle_timeout_s
        self.started = self.last = time.monotonic()
        self.total = 0

    def received(self, count: int) -> None:
        self.total += count
        self.last = time.monotonic()

    def deadline(self) -> float:
        by_rate = self.started + max(BODY_RATE_GRACE_S, self.total / MIN_BODY_RATE)
        return min(by_rate, self.last + self.idle_timeout_s)


@dataclass
class Head:
    method: str
    target: str
    version: tuple[int, int]
    fields: list[tuple[str, str]]  # (name as sent, value without surrounding whitespace), in order

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.fields if key.lower() == name]

    def first(self, name: str) -> str | None:
        found = self.values(name)
        return found[0] if found else None


def _strip_crlf(line: bytes) -> bytes:
    """The line without its terminator; a CR anywhere else (a bare CR) makes it invalid (RFC 9112 §2.2)."""
    text = line[:-2] if line.endswith(b"\r\n") else line[:-1]
    if b"\r" in text:
        raise bad_request("a line contains a bare CR")
    return text


def read_head(reader: Reader, idle_timeout_s: float, head_timeout_s: float) -> Head | None:
    """The next request head, or None when the client closed or stayed silent for the idle timeout between
    requests. Once its first byte has arrived, the whole head must arrive within `head_timeout_s` (408)."""
    if not reader.buf:
        try:
            reader.fill(time.monotonic() + idle_timeout_s)
        except (Closed, TimedOut):
            return None
    deadline = time.monotonic() + head_timeout_s
    try:
        return _parse_head(reader, deadline)
    except TimedOut:
        raise Refusal(408, f"The request head did not arrive within {head_timeout_s:g} seconds.") from None


def _parse_head(reader: Reader, deadline: float) -> Head:
    for _ in range(MAX_LEADING_EMPTY_LINES + 1):
        line = reader.readline(MAX_REQUEST_LINE, deadline)
        if line is None:
            raise wire.target_too_long()
        if line not in (b"\r\n", b"\n"):
            break
    else:
        raise bad_request("too many empty lines before the request line")
    text = _strip_crlf(line).decode("latin-1")
    parts = text.split(" ")
    if len(parts) != 3 or not all(parts):
        raise bad_request("the request line is not METHOD TARGET HTTP/1.1")
    method, target, version_text = parts
    version = _VERSION.fullmatch(version_text)
    if not headers.TOKEN.fullmatch(method) or version is None:
        raise bad_request("the request line is not METHOD TARGET HTTP/1.1")
    if version.group(1) != "1":
        raise Refusal(505, "Only HTTP/1.0 and HTTP/1.1 are supported.")
    # A target over MAX_TARGET_BYTES (but within the bounded line) is refused by `wire.parse_target` once the head
    # is read, so the refusal's log line can name the request.
    fields = read_fields(reader, deadline, wire.MAX_HEADER_BYTES)
    return Head(method, target, (1, int(version.group(2))), fields)


def read_fields(reader: Reader, deadline: float, budget: int) -> list[tuple[str, str]]:
    """Header (or trailer) lines up to the empty line: at most `budget` bytes and MAX_HEADER_COUNT lines (431)."""
    fields: list[tuple[str, str]] = []
    while True:
        line = reader.readline(budget, deadline)
        if line is None:
            raise wire.headers_too_large()
        budget -= len(line)
        if line in (b"\r\n", b"\n"):
            return fields
        if len(fields) == wire.MAX_HEADER_COUNT:
            raise wire.too_many_headers()
        fields.append(_field(_strip_crlf(line).decode("latin-1")))


def _field(text: str) -> tuple[str, str]:
    if text[:1] in (" ", "\t"):
        raise bad_request("a header line starts with whitespace (obsolete line folding)")
    name, colon, value = text.partition(":")
    if not colon or not headers.TOKEN.fullmatch(name):  # a name is a token: no space before the colon (RFC 9112 §5.1)
        raise bad_request("a header line is not NAME: VALUE")
    value = value.strip(" \t")
    if headers.CONTROL.search(value):
        raise bad_request(f"the {name} header has a control character in its value")
    return name, value


@dataclass(frozen=True)
class Framing:
    """How the request body is delimited: by a length (0 for none) or chunked."""

    chunked: bool
    length: int


def framing(head: Head, max_body_bytes: int) -> Framing:
    """The body's framing, refusing every ambiguous case (RFC 9112 §6.1, §6.3)."""
    codings = head.values("transfer-encoding")
    lengths = head.values("content-length")
    if codings:
        if head.version < (1, 1):
            raise bad_request("Transfer-Encoding in an HTTP/1.0 request")
        if lengths:
            raise bad_request("both Content-Length and Transfer-Encoding are set")
        listed = [c.strip().lower() for c in ",".join(codings).split(",") if c.strip()]
        if listed != ["chunked"]:
            raise bad_request("Transfer-Encoding must be exactly chunked")
        return Framing(True, 0)
    if not lengths:
        return Framing(False, 0)
    if len(lengths) > 1 or "," in lengths[0]:
        raise bad_request("more than one Content-Length")
    digits = lengths[0]
    if not digits.isascii() or not digits.isdigit():
        raise bad_request("Content-Length must be a decimal number")
    if len(digits) > 18 or int(digits) > max_body_bytes:  # 18 digits: int() stays cheap, the value stays exact
        raise wire.body_too_large(max_body_bytes)
    return Framing(False, int(digits))


def discard_chunked(reader: Reader, clock: BodyClock, max_body_bytes: int) -> int:
    """Read a chunked body to its end without keeping it (the host never forwards it); its size.

    Every line is bounded (chunk-size lines by MAX_CHUNK_LINE, trailers by the header limits), chunk data must be
    followed by CRLF, and the total counts against the body limit (413).
    """
    total = 0
    while True:
        line = reader.readline(MAX_CHUNK_LINE, clock.deadline())
        if line is None:
            raise bad_request(f"a chunk-size line is longer than {MAX_CHUNK_LINE} bytes")
        if not line.endswith(b"\r\n"):
            raise bad_request("a chunk-size line does not end with CRLF")
        size_line = _strip_crlf(line)
        match = _CHUNK_SIZE.fullmatch(size_line)
        if match is None:
            raise bad_request("a chunk size is not a hexadecimal number")
        digits = match.group(1)
        if len(digits) > 16 or total + int(digits, 16) > max_body_bytes:
            raise wire.body_too_large(max_body_bytes)
        size = int(digits, 16)
        if size == 0:
            read_fields(reader, clock.deadline(), wire.MAX_HEADER_BYTES)  # trailers, dropped as the host drops them
            return total
        total += size
        reader.read(size, clock, None)
        while len(reader.buf) < 2:
            reader.fill(clock.deadline())
        if reader.buf[:2] != b"\r\n":
            raise bad_request("chunk data is not followed by CRLF")
        del reader.buf[:2]


def read_sized(reader: Reader, clock: BodyClock, length: int) -> bytes:
    if length == 0:
        return b""
    if len(reader.buf) >= length:  # the usual small body, already read with the head
        body = bytes(reader.buf[:length])
        del reader.buf[:length]
        return body
    sink = io.BytesIO()
    reader.read(length, clock, sink)
    return sink.getvalue()
