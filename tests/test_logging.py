"""Logging: one line per request from the adapter itself (what reaches the Functions log on Azure), the score
script's print() output as log records tied to the invocation, and never a body, a key or an Authorization value."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from targets import InProcess, Request, Serve, script_env

KEY = "primary-key-1"
SECRETS = (KEY, "secret-body-7", "function-key-3", "wrong-key-9")


@pytest.fixture
def drills() -> Iterator[InProcess]:
    target = InProcess(script_env("drills.py", AML_SCORING_KEYS=KEY))
    yield target
    target.stop()


def post(payload: str, kind: str = "echo", **headers: str) -> Request:
    body = f'{{"kind": "{kind}", "payload": "{payload}"}}'.encode()
    return Request("POST", query=[("code", "function-key-3")], body=body, headers=headers)


def test_one_line_per_request_with_method_path_status_duration_and_id(
    drills: InProcess, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    drills.send(post("secret-body-7", Authorization=f"Bearer {KEY}", **{"X-Request-Id": "log-ok"}))
    drills.send(post("secret-body-7", Authorization="Bearer wrong-key-9", **{"X-Request-Id": "log-denied"}))
    drills.send(Request("GET", "/nowhere"))
    lines = [r.getMessage() for r in caplog.records if r.name == "adapter.request"]
    assert len(lines) == 3
    ok, denied, missing = lines
    assert ok.startswith('"POST /score?code=***" 200 ') and ok.endswith("ms x-request-id=log-ok")
    assert denied.startswith('"POST /score?code=***" 401 ') and denied.endswith("x-request-id=log-denied")
    assert missing.startswith('"GET /nowhere" 404 ')
    for record in caplog.records:
        assert not any(secret in record.getMessage() for secret in SECRETS), record.getMessage()


def test_print_in_the_script_becomes_log_records(
    drills: InProcess, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.INFO)
    reply = drills.send(post("p-1", "print", Authorization=f"Bearer {KEY}"))
    assert reply.status == 200
    printed = [r.getMessage() for r in caplog.records if r.name == "adapter.score"]
    assert printed == ["drills init ran", "printed by run() p-1"]
    assert all(r.levelno == logging.INFO for r in caplog.records if r.name == "adapter.score")
    # As under azmlinfsrv, only stdout output is redirected: a print to another file goes there.
    assert capsys.readouterr().err == "to stderr from run() p-1\n"


@pytest.mark.parametrize("timeout_ms", [None, "60000"], ids=["inline", "runner-thread"])
def test_records_from_run_carry_the_invocation_of_the_request(
    timeout_ms: str | None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """With a short timeout run() executes on a runner thread; the Python worker tags a record with the invocation
    id of the thread that logs it (`context.thread_local_storage`, a thread-local it shares with every invocation)
    and drops records from threads without one."""
    from adapter.hosting.context import InvocationContext

    extra = {"SCORING_TIMEOUT_MS": timeout_ms} if timeout_ms else {}
    drills = InProcess(script_env("drills.py", AML_SCORING_KEYS=KEY, **extra))
    caplog.set_level(logging.INFO)
    context = InvocationContext("score", ".")
    local = context.thread_local_storage
    tagged: list[tuple[str, str | None]] = []

    class WorkerHandler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            tagged.append((record.getMessage(), getattr(local, "invocation_id", None)))

    handler = WorkerHandler()
    logging.getLogger("adapter.score").addHandler(handler)
    try:
        local.invocation_id = context.invocation_id  # the worker sets it on the thread that calls the function
        drills.send(post("p-2", "print", Authorization=f"Bearer {KEY}"), context=context)
    finally:
        logging.getLogger("adapter.score").removeHandler(handler)
        drills.stop()
    assert ("printed by run() p-2", context.invocation_id) in tagged
    assert ("drills init ran", context.invocation_id) in tagged
    assert local.invocation_id == context.invocation_id  # still set for the request's own log line after run()


def test_serve_writes_one_line_per_request_and_the_script_output(tmp_path: Path) -> None:
    server = Serve(script_env("drills.py"), tmp_path / "serve.log")
    try:
        server.send(post("secret-body-7", "print", **{"X-Request-Id": "once-1", "Authorization": "Bearer x"}))
        server.send(Request("GET", "/", headers={"X-Request-Id": "once-2"}))
    finally:
        server.stop()
    log = server.log.read_text()
    assert log.count("once-1") == 1 and log.count("once-2") == 1
    assert "adapter.score: printed by run() secret-body-7" in log  # the script's own output, as it printed it
    assert "Bearer" not in log and "function-key-3" not in log
    adapter_lines = [line for line in log.splitlines() if "run() secret-body-7" not in line]
    assert not any("secret-body-7" in line for line in adapter_lines)
