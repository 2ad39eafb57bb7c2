"""Request limits of `python -m adapter serve`: every refusal is a JSON answer naming the limit (never an HTML page
or a dropped connection), and the server goes on serving. The 100-character id limit (431) is azmlinfsrv's and is
checked against it in tests/test_differential.py."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
import requests
from targets import Serve, script_env

BODY_LIMIT = 1000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    env = script_env("echo_undecorated.py", FUNCTIONS_REQUEST_BODY_SIZE_LIMIT=str(BODY_LIMIT))
    with Serve(env, tmp_path_factory.mktemp("limits") / "serve.log") as target:
        yield target


def refused(response: requests.Response, status: int) -> str:
    """The message of a JSON refusal with that status; the server still answers the next request."""
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    message: str = response.json()["message"]
    return message


def still_serving(server: Serve) -> None:
    assert requests.post(server.base + "/score", data=b"next", timeout=10).json() == {"received": "next", "type": "str"}


def raw_exchange(server: Serve, head: bytes) -> tuple[str, dict[str, str], bytes]:
    """Send bytes on a fresh connection; status line, headers and body of the answer (the server closes after)."""
    with socket.create_connection(("127.0.0.1", int(server.base.rsplit(":", 1)[1])), timeout=10) as sock:
        sock.sendall(head)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head_text, _, body = answer.partition(b"\r\n\r\n")
    status, *lines = head_text.decode("latin-1").split("\r\n")
    return status, {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}, body


def test_request_targets_up_to_4_kb_are_served_and_longer_ones_get_a_json_414(server: Serve) -> None:
    prefix = "/score?q="
    at_limit = requests.get(server.base + prefix + "a" * (4096 - len(prefix)), timeout=10)
    assert at_limit.status_code == 200
    for size in (4097, 70_000):  # 70 KB is past the 8 KB bound on the request line too
        response = requests.get(server.base + prefix + "a" * (size - len(prefix)), timeout=10)
        assert refused(response, 414) == "The request URL is longer than the limit of 4096 bytes."
    still_serving(server)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"X-Big": "a" * 70_000}, "The request headers are larger than the limit of 32768 bytes."),
        ({f"X-H{i}": "v" for i in range(101)}, "The request has more than 100 header lines."),
        ({f"X-H{i}": "v" * 1000 for i in range(40)}, "The request headers are larger than the limit of 32768 bytes."),
    ],
    ids=["one-line-over-32-kb", "over-100-headers", "over-32-kb-in-all"],
)
def test_oversized_headers_get_a_json_431(server: Serve, headers: dict[str, str], expected: str) -> None:
    response = requests.post(server.base + "/score", data=b"x", headers=headers, timeout=10)
    assert refused(response, 431) == expected
    still_serving(server)


def test_the_body_limit_is_configurable_and_refusals_are_json(server: Serve) -> None:
    assert requests.post(server.base + "/score", data=b"a" * BODY_LIMIT, timeout=10).status_code == 200
    response = requests.post(server.base + "/score", data=b"a" * (BODY_LIMIT + 1), timeout=10)
    assert refused(response, 413) == f"The request body is larger than the limit of {BODY_LIMIT} bytes."
    chunked = requests.post(server.base + "/score", data=iter([b"a" * 600, b"a" * 600]), timeout=10)
    assert refused(chunked, 413) == f"The request body is larger than the limit of {BODY_LIMIT} bytes."
    still_serving(server)


@pytest.mark.parametrize(
    ("request_line", "status", "message"),
    [
        (b"GET /score HTTP/1.1 extra", "400", "Malformed request: the request line is not METHOD TARGET HTTP/1.1."),
        (b"POST /score", "400", "Malformed request: the request line is not METHOD TARGET HTTP/1.1."),
        (b"GET /score HTTP/2.0", "505", "Only HTTP/1.0 and HTTP/1.1 are supported."),
    ],
)
def test_malformed_requests_get_json_too(server: Serve, request_line: bytes, status: str, message: str) -> None:
    status_line, headers, body = raw_exchange(server, request_line + b"\r\nHost: x\r\n\r\n")
    assert status_line.split()[1] == status
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {"message": message}
    still_serving(server)


@pytest.mark.parametrize("method", ["TRACE", "BREW"])
def test_methods_no_function_accepts_get_the_hosts_404(server: Serve, method: str) -> None:
    """As on Azure (azure-functions-host#10098): an empty 404 rather than http.server's 501."""
    response = requests.request(method, server.base + "/score", data=b"body", timeout=10)
    assert (response.status_code, response.content) == (404, b"")
    still_serving(server)


def test_refusals_are_logged_once_without_the_oversized_target(server: Serve) -> None:
    requests.get(server.base + "/score?code=function-key-1&q=" + "b" * 5000, timeout=10)
    log = server.log.read_text()
    assert log.count('"GET /score?code=***&q=bbbb') == 1
    assert "b" * 200 not in log and "function-key-1" not in log
