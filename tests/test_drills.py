"""Failure drills through `python -m adapter serve`: run() raising, hanging past the timeout or returning what
cannot be sent, clients vanishing mid-request, and a burst of mixed good and bad requests. Each failure gets its JSON
answer and the process goes on serving. (init() failing then recovering: tests/test_lifecycle.py.)"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from helpers import wait_until
from targets import Reply, Request, Serve, script_env

from adapter.http.responses import INTERNAL_ERROR
from adapter.script.scorer import SCRIPT_ERROR

TIMEOUT_MS = 300
TIMED_OUT = f"Scoring timeout after {TIMEOUT_MS} ms"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    env = script_env("drills.py", SCORING_TIMEOUT_MS=str(TIMEOUT_MS))
    with Serve(env, tmp_path_factory.mktemp("drills") / "serve.log") as target:
        yield target


def drill(kind: str, payload: str, request_id: str) -> Request:
    body = b"\xff not UTF-8" if kind == "bad-utf8" else json.dumps({"kind": kind, "payload": payload}).encode()
    return Request("POST", body=body, headers={"X-Request-Id": request_id})


def check(kind: str, payload: str, request_id: str, reply: Reply) -> None:
    """The answer azmlinfsrv gives for that kind of request, carrying that request's id."""
    assert reply.headers["x-request-id"] == request_id
    assert reply.headers["content-type"] == "application/json"
    body = reply.json()
    if kind == "echo":
        assert (reply.status, body) == (200, {"payload": payload})
    elif kind == "bad-utf8":
        assert reply.status == 400 and body["message"].startswith("Input cannot be decoded as UTF-8")  # type: ignore[index]
    else:
        message = {"raise": SCRIPT_ERROR, "hang": TIMED_OUT, "garbage": INTERNAL_ERROR}[kind]
        assert (reply.status, body) == (500, {"message": message})
        assert reply.headers["x-ms-run-function-failed"] == str(kind != "garbage")


@pytest.mark.parametrize("kind", ["raise", "hang", "garbage", "bad-utf8"])
def test_each_failure_gets_its_json_and_the_next_request_is_served(server: Serve, kind: str) -> None:
    check(kind, "p", f"bad-{kind}", server.send(drill(kind, "p", f"bad-{kind}")))
    check("echo", "next", f"after-{kind}", server.send(drill("echo", "next", f"after-{kind}")))
    assert server.proc.poll() is None


def test_500_mixed_requests_at_concurrency_32_each_get_their_own_answer(server: Serve) -> None:
    kinds = ["echo", "raise", "echo", "garbage", "echo", "bad-utf8", "echo"]
    cases = [
        ("hang" if i % 100 == 50 else kinds[i % len(kinds)], f"payload-{i}-{'x' * (i % 50)}", f"mixed-{i}")
        for i in range(500)
    ]
    with ThreadPoolExecutor(32) as pool:
        replies = list(pool.map(lambda case: server.send(drill(*case)), cases))
    assert len(replies) == len(cases)
    for case, reply in zip(cases, replies, strict=True):
        check(*case, reply)


def test_a_client_that_disconnects_mid_upload_costs_nothing(server: Serve) -> None:
    seen = len(server.log.read_text())
    body = json.dumps({"kind": "echo", "payload": "never complete"}).encode()
    heads = [
        b"POST /score HTTP/1.1\r\nHost: x\r\nX-Request-Id: cut-sized\r\nContent-Length: %d\r\n\r\n" % len(body),
        b"POST /score HTTP/1.1\r\nHost: x\r\nX-Request-Id: cut-chunked\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n",
    ]
    for head in heads:
        with socket.create_connection(_address(server), timeout=10) as sock:
            sock.sendall(head + body[:10])
    wait_for_log(server, seen, "dropped: the client closed the connection", count=2)
    check("echo", "after", "after-cut", server.send(drill("echo", "after", "after-cut")))
    log = server.log.read_text()[seen:]
    assert "cut-sized" not in log and "cut-chunked" not in log  # run() never saw half a body
    assert "Traceback" not in log


def test_a_client_that_gives_up_while_run_hangs_costs_nothing(server: Serve) -> None:
    seen = len(server.log.read_text())
    with socket.create_connection(_address(server), timeout=10) as sock:
        body = json.dumps({"kind": "hang"}).encode()
        head = b"POST /score HTTP/1.1\r\nHost: x\r\nX-Request-Id: gave-up\r\nContent-Length: %d\r\n\r\n" % len(body)
        sock.sendall(head + body)
    assert '"POST /score" 500' in wait_for_log(server, seen, "x-request-id=gave-up")  # its answer found no client
    check("echo", "after", "after-hang", server.send(drill("echo", "after", "after-hang")))
    assert "Traceback" not in server.log.read_text()[seen:]


def test_the_process_survived_every_drill(server: Serve) -> None:
    assert server.proc.poll() is None
    assert server.send(Request("GET", "/")).status == 200


def wait_for_log(server: Serve, seen: int, text: str, count: int = 1) -> str:
    """The log written since `seen` once it holds `text` `count` times (the server logs on its own threads)."""
    wait_until(lambda: server.log.read_text()[seen:].count(text) >= count, seconds=10, interval=0.05)
    log = server.log.read_text()[seen:]
    assert log.count(text) == count, log
    return log


def _address(server: Serve) -> tuple[str, int]:
    return "127.0.0.1", int(server.base.rsplit(":", 1)[1])
