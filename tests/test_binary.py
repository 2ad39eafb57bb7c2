"""Raw HTTP, byte for byte: what a `@rawhttp` script reads with `request.get_data()`, `request.files`, `request.args`,
`request.cookies` and `request.headers` is exactly what the client sent (or what Flask would have shown it), and a
bytes `AMLResponse` reaches the client unchanged, in-process and over `adapter serve`, up to the body limit."""

from __future__ import annotations

import functools
import hashlib
import io
import json
import random
import socket
from collections.abc import Iterator

import pytest
import requests
from PIL import Image
from targets import Reply, Request, Serve, script_env
from test_differential import comparable

MiB = 1 << 20
DEFAULT_LIMIT = 104_857_600
RAW = script_env("raw_http.py")
OCTETS = "application/octet-stream"
TARGETS = ["in_process", "serve"]


@functools.cache
def payload(size: int) -> bytes:
    """Random bytes (every byte value, CR/LF, NUL...) that are the same on every run."""
    return random.Random(size).randbytes(size)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@functools.cache
def image(fmt: str) -> bytes:
    """A noisy image, so the encoder cannot make it trivially small (and PNG keeps an alpha channel)."""
    mode = "RGBA" if fmt == "PNG" else "RGB"
    rng = random.Random(fmt)
    img = Image.frombytes(mode, (64, 48), rng.randbytes(64 * 48 * len(mode)))
    out = io.BytesIO()
    img.save(out, format=fmt)
    return out.getvalue()


def send(trios, target: str, request: Request) -> Reply:  # type: ignore[no-untyped-def]
    return getattr(trios.get(RAW), target).send(request, timeout=120)  # type: ignore[no-any-return]


def multipart(parts: list[tuple[str, str | None, str | None, bytes]], boundary: str = "b0undary-Xy") -> Request:
    """A multipart/form-data POST from (field, filename, content type, content) parts, as a browser builds it."""
    body = io.BytesIO()
    for field, filename, content_type, content in parts:
        body.write(f"--{boundary}\r\n".encode())
        disposition = f'Content-Disposition: form-data; name="{field}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        body.write(disposition.encode() + b"\r\n")
        if content_type is not None:
            body.write(f"Content-Type: {content_type}\r\n".encode())
        body.write(b"\r\n" + content + b"\r\n")
    body.write(f"--{boundary}--\r\n".encode())
    return Request("POST", body=body.getvalue(), headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize(
    ("size", "content_type"),
    [(0, OCTETS), (1, "image/png"), (MiB, "image/jpeg"), (MiB, OCTETS), (50 * MiB, OCTETS)],
    ids=["0B", "1B-png", "1MiB-jpeg", "1MiB-octets", "50MiB-octets"],
)
def test_raw_bodies_reach_get_data_unchanged(trios, target: str, size: int, content_type: str) -> None:  # type: ignore[no-untyped-def]
    body = payload(size)
    reply = send(trios, target, Request("POST", body=body, headers={"Content-Type": content_type}))
    assert reply.status == 200
    assert reply.json() == {"content_type": content_type, "length": size, "sha256": sha(body)}


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("size", [0, 1, MiB, 50 * MiB], ids=["0B", "1B", "1MiB", "50MiB"])
def test_a_bytes_response_comes_back_unchanged_with_its_content_type(trios, target: str, size: int) -> None:  # type: ignore[no-untyped-def]
    body = payload(size)
    request = Request("POST", query=[("echo", "bytes")], body=body, headers={"Content-Type": OCTETS})
    reply = send(trios, target, request)
    assert reply.status == 200
    assert reply.headers["content-type"] == "image/jpeg"
    assert (len(reply.body), sha(reply.body)) == (size, sha(body))


@pytest.mark.parametrize("target", TARGETS)
def test_png_and_jpeg_images_survive_as_bodies_and_uploads(trios, target: str) -> None:  # type: ignore[no-untyped-def]
    png, jpeg = image("PNG"), image("JPEG")
    raw = send(trios, target, Request("POST", body=png, headers={"Content-Type": "image/png"}))
    assert raw.json() == {"content_type": "image/png", "length": len(png), "sha256": sha(png)}

    echoed = send(
        trios, target, Request("POST", query=[("echo", "bytes")], body=jpeg, headers={"Content-Type": "image/jpeg"})
    )
    assert echoed.body == jpeg
    with Image.open(io.BytesIO(echoed.body)) as img:
        assert (img.format, img.size, img.mode) == ("JPEG", (64, 48), "RGB")

    upload = multipart([("image", "a.png", "image/png", png), ("image", "b.jpg", "image/jpeg", jpeg)])
    files = send(trios, target, upload).json()["files"]  # type: ignore[index]
    assert [(f["filename"], f["size"], f["sha256"], f["image"]) for f in files] == [
        ("a.png", len(png), sha(png), {"size": [64, 48], "mode": "RGBA"}),
        ("b.jpg", len(jpeg), sha(jpeg), {"size": [64, 48], "mode": "RGB"}),
    ]


def several_files_and_fields() -> Request:
    # The binary part holds CRLFs, dashes and a fake boundary: the parser must split only on the real one.
    tricky = b"\r\n--b0undary-X\r\n" + payload(4096) + b"\r\n--"
    return multipart(
        [
            ("label", None, None, b"cat"),
            ("image", "pic.png", "image/png", image("PNG")),
            ("label", None, None, "chat noir ✓".encode()),
            ("image", "photo.jpg", "image/jpeg", image("JPEG")),
            ("blob", "data.bin", OCTETS, tricky),
            ("empty", "empty.txt", "text/plain", b""),
            ("note", None, None, b""),
        ]
    )


def test_multipart_with_several_files_and_repeated_fields_matches_azmlinfsrv(trios) -> None:  # type: ignore[no-untyped-def]
    trio = trios.get(RAW)
    request = several_files_and_fields()
    expected = trio.reference.send(request)
    assert comparable(trio.in_process.send(request)) == comparable(expected)
    assert comparable(trio.serve.send(request)) == comparable(expected)
    document = json.loads(expected.body)
    assert document["form"] == {"label": ["cat", "chat noir ✓"], "note": [""]}
    assert [(f["field"], f["filename"], f["content_type"]) for f in document["files"]] == [
        ("image", "pic.png", "image/png"),
        ("image", "photo.jpg", "image/jpeg"),
        ("blob", "data.bin", OCTETS),
        ("empty", "empty.txt", "text/plain"),
    ]
    tricky = b"\r\n--b0undary-X\r\n" + payload(4096) + b"\r\n--"
    assert document["files"][2]["sha256"] == sha(tricky)


GET_CASES = {
    "non-ascii-and-repeated-query": Request(
        "GET",
        query=[("q", "é ü"), ("q", "✓ 日本"), ("x", ""), ("x", "a+b&c=d"), ("emoji", "🙂"), ("path", "/a?b#c")],
    ),
    "cookies": Request("GET", headers={"Cookie": 'a=1; b="two words"; c=; a=dup; sess=x%20y'}),
    "non-ascii-cookies": Request("GET", headers={"Cookie": "l=café; u=" + "crème".encode().decode("latin-1")}),
    "latin-1-header": Request("GET", headers={"X-Custom-Header": "café ÿ"}),
    # UTF-8 bytes on the wire: servers decode header bytes as latin-1, so the script sees mojibake in both.
    "utf8-header-bytes": Request("GET", headers={"X-Custom-Header": "naïve ✓".encode().decode("latin-1")}),
}


@pytest.mark.parametrize("case", GET_CASES)
def test_query_cookies_and_header_values_as_flask_presents_them(trios, case: str) -> None:  # type: ignore[no-untyped-def]
    trio = trios.get(RAW)
    request = GET_CASES[case]
    expected = trio.reference.send(request)
    assert expected.status == 200
    assert comparable(trio.in_process.send(request)) == comparable(expected)
    assert comparable(trio.serve.send(request)) == comparable(expected)


def test_the_script_sees_what_the_client_sent(trios) -> None:  # type: ignore[no-untyped-def]
    """The values themselves, not only agreement with azmlinfsrv."""
    query = GET_CASES["non-ascii-and-repeated-query"]
    cookies = GET_CASES["cookies"]
    header = GET_CASES["latin-1-header"]
    assert send(trios, "serve", query).json()["args"] == {  # type: ignore[index]
        "q": ["é ü", "✓ 日本"],
        "x": ["", "a+b&c=d"],
        "emoji": ["🙂"],
        "path": ["/a?b#c"],
    }
    assert send(trios, "serve", cookies).json()["cookies"] == {"a": "1", "b": "two words", "c": "", "sess": "x%20y"}  # type: ignore[index]
    assert send(trios, "serve", header).json()["custom_header"] == "café ÿ"  # type: ignore[index]


def test_chunked_uploads_never_reach_a_raw_script_as_on_azure(trios) -> None:  # type: ignore[no-untyped-def]
    """No Content-Length (a streamed upload): gunicorn de-chunks for azmlinfsrv, but the Functions host forwards no
    body without a Content-Length (azure-functions-host#7930), and `adapter serve` does as the host does: the script
    gets no bytes, and the function answers 411 saying to send a Content-Length."""
    body = payload(3 * MiB + 7)

    def chunks() -> Iterator[bytes]:
        view = memoryview(body)
        for start in range(0, len(body), MiB):
            yield bytes(view[start : start + MiB])

    base = trios.get(RAW).serve.base
    answer = requests.post(base + "/score", data=chunks(), headers={"Content-Type": OCTETS}, timeout=60)
    assert answer.status_code == 411 and "Content-Length" in answer.json()["message"]


def exchange(base: str, data: bytes) -> tuple[str, bytes]:
    """Send raw bytes on a fresh connection and read until the server closes it: (status line, body)."""
    host, port = base.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0].decode(), body


def post_head(length: int) -> bytes:
    return f"POST /score HTTP/1.1\r\nHost: x\r\nContent-Type: {OCTETS}\r\nContent-Length: {length}\r\n\r\n".encode()


def chunked(*parts: bytes) -> bytes:
    head = f"POST /score HTTP/1.1\r\nHost: x\r\nContent-Type: {OCTETS}\r\nTransfer-Encoding: chunked\r\n"
    framed = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts)
    return head.encode() + b"Connection: close\r\n\r\n" + framed + b"0\r\n\r\n"


def test_over_100_mb_is_refused_with_413_json_before_the_body_is_read(trios) -> None:  # type: ignore[no-untyped-def]
    status, body = exchange(trios.get(RAW).serve.base, post_head(DEFAULT_LIMIT + 1))
    assert status.startswith("HTTP/1.1 413")
    assert json.loads(body) == {"message": f"The request body is larger than the limit of {DEFAULT_LIMIT} bytes."}


def test_the_limit_is_inclusive_and_applies_to_chunked_bodies(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A small FUNCTIONS_REQUEST_BODY_SIZE_LIMIT stands in for 100 MB: exactly the limit passes, one byte more does
    not, however the body is framed."""
    limit = 1000
    server = Serve({**RAW, "FUNCTIONS_REQUEST_BODY_SIZE_LIMIT": str(limit)}, tmp_path / "serve.log")
    try:
        at_limit = server.send(Request("POST", body=payload(limit), headers={"Content-Type": OCTETS}))
        over = exchange(server.base, post_head(limit + 1) + payload(limit + 1))
        chunked_at_limit = exchange(server.base, chunked(payload(500), payload(500)))
        chunked_over = exchange(server.base, chunked(payload(500), payload(501)))
    finally:
        server.stop()
    assert at_limit.json() == {"content_type": OCTETS, "length": limit, "sha256": sha(payload(limit))}
    # Read to its end and dropped, as the host drops it; the function answers 411.
    assert chunked_at_limit[0].startswith("HTTP/1.1 411")
    message = {"message": f"The request body is larger than the limit of {limit} bytes."}
    for status, body in (over, chunked_over):
        assert status.startswith("HTTP/1.1 413")
        assert json.loads(body) == message
