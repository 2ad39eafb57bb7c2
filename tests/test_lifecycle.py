"""The entry script's life in a process: lazy import, one init() under concurrent cold requests, 503 and recovery
when it fails, timeouts that fire on the worker's thread pool, and run() serialised unless configured otherwise."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from targets import ROOT, InProcess, Request, Serve, script_env

ID = {"X-Request-Id": "lifecycle"}


def test_importing_function_app_imports_no_script_and_no_heavy_library(tmp_path: Path) -> None:
    marker = tmp_path / "imported.txt"
    env = {**script_env("import_marker.py"), "IMPORT_MARKER_FILE": str(marker)}
    code = (
        "import json, sys, function_app\n"
        "heavy = ['numpy', 'pandas', 'inference_schema', 'entry_module', 'adapter.deployment', 'adapter.script']\n"
        "print(json.dumps([m for m in heavy if m in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**_base_env(), **env}, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == []
    assert not marker.exists()


def test_concurrent_cold_requests_run_init_once(tmp_path: Path) -> None:
    counter = tmp_path / "init-calls.txt"
    target = InProcess({**script_env("init_counter.py"), "INIT_COUNTER_FILE": str(counter)})
    try:
        with ThreadPoolExecutor(32) as pool:
            replies = list(pool.map(lambda _: target.send(Request("POST", body=b"x", headers=ID)), range(32)))
    finally:
        target.stop()
    assert [r.status for r in replies] == [200] * 32
    assert all(r.json() == {"init_calls": 1} for r in replies)
    assert counter.read_text().count("\n") == 1


def test_concurrent_cold_requests_over_http_run_init_once(tmp_path: Path) -> None:
    counter = tmp_path / "init-calls.txt"
    server = Serve({**script_env("init_counter.py"), "INIT_COUNTER_FILE": str(counter)}, tmp_path / "serve.log")
    try:
        with ThreadPoolExecutor(32) as pool:
            replies = list(pool.map(lambda _: server.send(Request("POST", body=b"x", headers=ID)), range(32)))
    finally:
        server.stop()
    assert all(r.status == 200 and r.json() == {"init_calls": 1} for r in replies)
    assert counter.read_text().count("\n") == 1


def test_import_happens_on_first_request_only_once(tmp_path: Path) -> None:
    marker = tmp_path / "imported.txt"
    target = InProcess({**script_env("import_marker.py"), "IMPORT_MARKER_FILE": str(marker)})
    try:
        assert not marker.exists()
        for _ in range(3):
            assert target.send(Request("POST", body=b"{}", headers=ID)).status == 200
    finally:
        target.stop()
    assert marker.read_text() == "imported\n"


def test_failing_init_answers_503_without_traceback_then_recovers(tmp_path: Path) -> None:
    marker = tmp_path / "model-is-there"
    env = {**script_env("init_fails.py"), "INIT_FAILS_MARKER": str(marker), "SCORING_INIT_RETRY_MS": "300"}
    target = InProcess(env)
    try:
        first = target.send(Request("POST", body=b"x", headers=ID))
        assert first.status == 503
        assert first.headers["content-type"] == "application/json"
        message = first.json()["message"]  # type: ignore[index]
        assert "init()" in message and "FileNotFoundError" in message and "model file not found" in message
        assert "Traceback" not in message and 'File "' not in message
        assert int(first.headers["retry-after"]) >= 1
        assert first.headers["x-request-id"] == "lifecycle"

        marker.write_text("ok")
        # Still backing off: init() is not retried yet, the same failure is reported.
        assert target.send(Request("POST", body=b"x", headers=ID)).json() == first.json()
        time.sleep(0.4)
        recovered = target.send(Request("POST", body=b"x", headers=ID))
        assert (recovered.status, recovered.json()) == (200, {"ok": True})
    finally:
        target.stop()


def test_failing_init_keeps_the_server_alive(tmp_path: Path) -> None:
    marker = tmp_path / "model-is-there"
    env = {**script_env("init_fails.py"), "INIT_FAILS_MARKER": str(marker), "SCORING_INIT_RETRY_MS": "100"}
    server = Serve(env, tmp_path / "serve.log")
    try:
        assert server.send(Request("POST", body=b"x")).status == 503
        assert server.proc.poll() is None
        assert server.send(Request("GET", "/")).status == 200
        marker.write_text("ok")
        time.sleep(0.2)
        assert server.send(Request("POST", body=b"x")).json() == {"ok": True}
    finally:
        server.stop()
    log = (tmp_path / "serve.log").read_text()
    assert "Traceback" in log and "FileNotFoundError" in log  # the traceback goes to the logs instead


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def init(): pass\ndef run(*args): return 1\n", "run() cannot accept positional-only arguments"),
        ("def run(data): return 1\n", "does not define a init() function"),
        ("def init(): pass\ndef run(request_headers): return 1\n", 'accept an argument other than "request_headers"'),
        ("import missing_module_xyz\n", "ModuleNotFoundError: No module named 'missing_module_xyz'"),
        ("def init(:\n", "SyntaxError"),
    ],
)
def test_unservable_scripts_get_a_503_naming_the_problem(tmp_path: Path, source: str, expected: str) -> None:
    (tmp_path / "score.py").write_text(source)
    target = InProcess({"AML_APP_ROOT": str(tmp_path), "AZUREML_ENTRY_SCRIPT": "score.py"})
    try:
        reply = target.send(Request("POST", body=b"x"))
    finally:
        target.stop()
    assert reply.status == 503
    assert expected in reply.json()["message"]  # type: ignore[index]


def test_timeout_fires_on_a_worker_thread_and_stops_the_abandoned_call() -> None:
    target = InProcess({**script_env("slow.py"), "SCORING_TIMEOUT_MS": "300"})
    try:
        with ThreadPoolExecutor(1) as pool:  # the Functions worker calls sync handlers on a pool like this
            started = time.monotonic()
            reply = pool.submit(target.send, Request("POST", body=b'{"busy": 30}')).result()
            answered = time.monotonic() - started
            after = pool.submit(target.send, Request("POST", body=b'{"sleep": 0}')).result()
            recovered = time.monotonic() - started
    finally:
        target.stop()
    assert (reply.status, reply.json()) == (500, {"message": "Scoring timeout after 300 ms"})
    assert reply.headers["x-ms-run-function-failed"] == "True"
    assert "x-ms-run-fn-exec-ms" not in reply.headers
    # A 30 s busy loop: answered at the deadline, and interrupted so the next call is not stuck behind it.
    assert answered < 10 and recovered < 10
    assert (after.status, after.json()) == (200, {"slept": 0})


@pytest.mark.parametrize(("setting", "overlap"), [(None, False), ("4", True)])
def test_run_is_serialised_unless_scoring_concurrency_allows_more(setting: str | None, overlap: bool) -> None:
    env = script_env("concurrency_probe.py")
    if setting:
        env["SCORING_CONCURRENCY"] = setting
    target = InProcess(env)
    try:
        with ThreadPoolExecutor(8) as pool:
            replies = list(pool.map(lambda _: target.send(Request("POST", body=b"x")), range(16)))
    finally:
        target.stop()
    peak = max(r.json()["peak"] for r in replies)  # type: ignore[index]
    assert (peak > 1) is overlap
    if setting:
        assert peak <= int(setting)


def _base_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith(("AZUREML_", "AML_"))}


@pytest.mark.parametrize(
    ("host_json", "timeout_ms", "inline"),
    [
        ({}, None, True),  # the default hour outlasts the host's default limit (30 min at most)
        ({}, "300", False),
        ({"functionTimeout": "00:10:00"}, "600000", True),
        ({"functionTimeout": "00:10:00"}, "599999", False),
        ({"functionTimeout": "-1"}, None, False),  # unbounded host: only our timeout can stop run()
    ],
)
def test_run_goes_to_a_runner_thread_only_when_the_timeout_can_fire(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, host_json: dict[str, str], timeout_ms: str | None, inline: bool
) -> None:
    from adapter.script.user_script import UserScript
    from adapter.settings import Settings

    (tmp_path / "host.json").write_text(json.dumps({"version": "2.0", **host_json}))
    env = script_env("echo_undecorated.py", **({"SCORING_TIMEOUT_MS": timeout_ms} if timeout_ms else {}))
    assert UserScript(Settings.from_env(env), function_app_root=tmp_path).runner.inline is inline


def test_a_malformed_function_timeout_is_a_configuration_error(tmp_path: Path) -> None:
    from adapter.host_config import function_timeout_ms
    from adapter.settings import ConfigError

    (tmp_path / "host.json").write_text('{"functionTimeout": "ten minutes"}')
    with pytest.raises(ConfigError, match="functionTimeout"):
        function_timeout_ms(tmp_path)


def test_inline_runs_on_the_callers_thread_and_still_serialises() -> None:
    import threading

    from adapter.script.runner import Runner

    runner = Runner(3_600_000, 1, inline=True)
    result, elapsed_ms = runner.call(lambda: threading.current_thread(), {})
    assert result is threading.current_thread() and elapsed_ms >= 0


def test_a_call_stuck_past_its_timeout_does_not_queue_later_calls_forever() -> None:
    """A timed-out run() blocked in C keeps its slot until it returns; later calls wait at most one timeout for it,
    then get a 503 to retry, and are served normally once it has ended."""
    target = InProcess({**script_env("slow.py"), "SCORING_TIMEOUT_MS": "300"})
    try:
        with ThreadPoolExecutor(1) as pool:
            stuck = pool.submit(target.send, Request("POST", body=b'{"sleep": 2}')).result()
            busy = pool.submit(target.send, Request("POST", body=b'{"sleep": 0}')).result()
            time.sleep(2)
            later = pool.submit(target.send, Request("POST", body=b'{"sleep": 0}')).result()
    finally:
        target.stop()
    assert (stuck.status, stuck.json()) == (500, {"message": "Scoring timeout after 300 ms"})
    assert busy.status == 503 and int(busy.headers["retry-after"]) >= 1
    assert busy.json() == {"message": "run() is still busy with an earlier call that timed out; try again later."}
    assert (later.status, later.json()) == (200, {"slept": 0})
