"""The entry script's life in a process: lazy import, one init() under concurrent cold requests, 503 and recovery
when it fails, timeouts that fire on the worker's thread pool, and run() serialised unless configured otherwise."""

from __future__ import annotations

import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from helpers import fresh_python_json, wait_until
from targets import InProcess, Request, Serve, script_env

ID = {"X-Request-Id": "lifecycle"}


def test_importing_function_app_imports_no_script_and_no_heavy_library(tmp_path: Path) -> None:
    marker = tmp_path / "imported.txt"
    env = {**script_env("import_marker.py"), "IMPORT_MARKER_FILE": str(marker)}
    code = (
        "import json, sys, function_app\n"
        "heavy = ['numpy', 'pandas', 'inference_schema', 'entry_module', 'adapter.deployment', 'adapter.script']\n"
        "print(json.dumps([m for m in heavy if m in sys.modules]))"
    )
    assert fresh_python_json(code, env=env) == []
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
    from adapter.script.scorer import Scorer
    from adapter.settings import Settings

    (tmp_path / "host.json").write_text(json.dumps({"version": "2.0", **host_json}))
    env = script_env("echo_undecorated.py", **({"SCORING_TIMEOUT_MS": timeout_ms} if timeout_ms else {}))
    assert Scorer(Settings.from_env(env), function_app_root=tmp_path).runner.inline is inline


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


# A script whose init() (or import) blocks until the file $INIT_GATE_FILE exists, counting its init() calls.
GATED = """
import os, time

def wait_for_gate():
    end = time.monotonic() + 60
    while not os.path.exists(os.environ["INIT_GATE_FILE"]) and time.monotonic() < end:
        time.sleep(0.01)

{import_stage}

def init():
    {init_stage}
    with open(os.environ["INIT_GATE_FILE"] + ".inits", "a") as f:
        f.write("init\\n")

def run(data):
    return {{"ok": True}}
"""


def gated_app(tmp_path: Path, stage: str) -> tuple[dict[str, str], Path]:
    """An app whose `stage` ("import" or "init()") blocks until the returned gate file exists."""
    app = tmp_path / "app"
    app.mkdir()
    blocked = "wait_for_gate()"
    source = GATED.format(
        import_stage=blocked if stage == "import" else "", init_stage=blocked if stage == "init()" else "pass"
    )
    (app / "score.py").write_text(source)
    gate = tmp_path / "gate"
    return {"AML_APP_ROOT": str(app), "AZUREML_ENTRY_SCRIPT": "score.py", "INIT_GATE_FILE": str(gate)}, gate


def write_script(path: Path, source: str) -> None:
    """Replace a script so that a re-import must see it, even within the same second as the last write."""
    path.write_text(source)
    later = path.stat().st_mtime + 2
    os.utime(path, (later, later))


@pytest.mark.parametrize("stage", ["import", "init()"])
def test_requests_wait_for_a_slow_start_at_most_scoring_init_wait_ms(tmp_path: Path, stage: str) -> None:
    """Issue 12.5: a hanging init() held every request for as long as it hung."""
    env, gate = gated_app(tmp_path, stage)
    target = InProcess({**env, "SCORING_INIT_WAIT_MS": "200"})
    try:
        with ThreadPoolExecutor(4) as pool:
            waiting = [pool.submit(target.send, Request("POST", body=b"x", headers=ID)) for _ in range(4)]
            replies = [future.result(timeout=30) for future in waiting]  # a guard against hanging, not a timing
        running = "its import" if stage == "import" else "init()"
        for reply in replies:
            assert reply.status == 503 and reply.headers["retry-after"] == "5"
            assert reply.headers["content-type"] == "application/json"
            message = reply.json()["message"]  # type: ignore[index]
            assert message.startswith(f"The entry script score.py is still starting ({running} has been running for ")
        gate.write_text("open")  # the start goes on meanwhile, and ends once
        assert wait_until(lambda: target.send(Request("POST", body=b"x")).status == 200, seconds=30, interval=0.05)
    finally:
        gate.write_text("open")
        target.stop()
    assert Path(f"{gate}.inits").read_text() == "init\n"


@pytest.mark.parametrize(
    ("stage", "source"),
    [
        ("import", "import os\nopen(os.environ['INIT_COUNTER_FILE'], 'a').write('x\\n')\nraise KeyboardInterrupt\n"),
        (
            "init()",
            "import os\ndef init():\n    open(os.environ['INIT_COUNTER_FILE'], 'a').write('x\\n')\n"
            "    raise KeyboardInterrupt\ndef run(data):\n    return 1\n",
        ),
        (
            "init()",
            "import os, sys\ndef init():\n    open(os.environ['INIT_COUNTER_FILE'], 'a').write('x\\n')\n"
            "    sys.exit(3)\ndef run(data):\n    return 1\n",
        ),
    ],
    ids=["KeyboardInterrupt-in-import", "KeyboardInterrupt-in-init", "SystemExit-in-init"],
)
def test_keyboard_interrupt_or_any_base_exception_gets_the_503_and_the_back_off(
    tmp_path: Path, stage: str, source: str
) -> None:
    """Issue 12.3: KeyboardInterrupt from import or init() got no answer from serve, and init() ran again on every
    request instead of after the back-off."""
    app = tmp_path / "app"
    app.mkdir()
    (app / "score.py").write_text(source)
    counter = tmp_path / "attempts.txt"
    env = {
        "AML_APP_ROOT": str(app),
        "AZUREML_ENTRY_SCRIPT": "score.py",
        "INIT_COUNTER_FILE": str(counter),
        "SCORING_INIT_RETRY_MS": "60000",
    }
    server = Serve(env, tmp_path / "serve.log", clean=True)
    try:
        first = server.send(Request("POST", body=b"x"))
        again = server.send(Request("POST", body=b"x"))
        health = server.send(Request("GET", "/"))
    finally:
        server.stop()
    assert first.status == 503 and int(first.headers["retry-after"]) > 50
    message = first.json()["message"]  # type: ignore[index]
    assert message.startswith(f"The entry script score.py failed in {stage}: ")
    assert ("SystemExit: 3" if "sys.exit" in source else "KeyboardInterrupt. Retrying in 60 s") in message
    assert (again.status, again.json()) == (503, first.json())
    assert counter.read_text() == "x\n"  # tried once, not again within the back-off
    assert health.status == 200


@pytest.mark.parametrize(
    ("broken", "stage", "error"),
    [
        (
            "def init():\n    raise ValueError('bug in init')\ndef run(data):\n    return {'version': 1}\n",
            "init()",
            "ValueError: bug in init",
        ),
        ("def init(:\n", "import", "SyntaxError"),
    ],
    ids=["init", "import"],
)
def test_a_bug_fixed_while_serve_runs_heals_at_the_next_attempt(
    tmp_path: Path, broken: str, stage: str, error: str
) -> None:
    """Issue 13.4: after a failed init(), the retry ran the old module's init() again, so fixing score.py needed a
    restart of serve. Every attempt now reads the script from disk."""
    app = tmp_path / "app"
    app.mkdir()
    write_script(app / "score.py", broken)
    env = {"AML_APP_ROOT": str(app), "AZUREML_ENTRY_SCRIPT": "score.py", "SCORING_INIT_RETRY_MS": "100"}
    server = Serve(env, tmp_path / "serve.log", clean=True)
    try:
        failed = server.send(Request("POST", body=b"x"))
        write_script(app / "score.py", "def init():\n    pass\n\ndef run(data):\n    return {'version': 2}\n")
        time.sleep(0.3)  # past the back-off
        fixed = server.send(Request("POST", body=b"x"))
    finally:
        server.stop()
    assert (fixed.status, fixed.json()) == (200, {"version": 2})
    assert failed.status == 503
    message = failed.json()["message"]  # type: ignore[index]
    assert message.startswith(f"The entry script score.py failed in {stage}: ") and error in message
    assert "score.py read again from disk" in message


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Loading a script moves the working directory, extends sys.path and sets AZUREML_MODEL_DIR: undo all three."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setenv("AZUREML_MODEL_DIR", str(tmp_path))


@pytest.mark.usefixtures("isolated")
def test_script_unavailable_tells_a_failed_script_from_one_still_starting(tmp_path: Path) -> None:
    from adapter.script.lifecycle import Lifecycle, ScriptUnavailable
    from adapter.settings import Settings

    env, gate = gated_app(tmp_path, "init()")
    os.environ["INIT_GATE_FILE"] = str(gate)
    try:
        starting = Lifecycle(Settings.from_env({**env, "SCORING_INIT_WAIT_MS": "100"}))
        with pytest.raises(ScriptUnavailable) as still_starting:
            starting.ready()
        assert still_starting.value.failed is False and still_starting.value.retry_after == 5
        with pytest.raises(ScriptUnavailable) as no_wait:  # a deadline already passed: no wait at all
            starting.ready(time.monotonic())
        assert no_wait.value.failed is False
        assert starting.imported().init is not None  # the import is done; only init() is still running
    finally:
        gate.write_text("open")
        del os.environ["INIT_GATE_FILE"]

    (tmp_path / "app" / "score.py").write_text(
        "def init():\n    raise ValueError('first line\\nsecond line.')\ndef run(data):\n    return 1\n"
    )
    failing = Lifecycle(Settings.from_env(env))
    with pytest.raises(ScriptUnavailable) as failed:
        failing.ready()
    assert failed.value.failed is True and 0 < failed.value.retry_after <= 1
    assert failed.value.message == (
        "The entry script score.py failed in init(): ValueError: first line second line. Retrying in 1 s, with "
        "score.py read again from disk; the function logs have the traceback."
    )


def test_scoring_init_wait_ms_is_a_positive_whole_number() -> None:
    from adapter.settings import DEFAULT_INIT_WAIT_MS, ConfigError, Settings

    env = script_env("echo_undecorated.py")
    assert Settings.from_env(env).init_wait_ms == DEFAULT_INIT_WAIT_MS == 120_000
    assert Settings.from_env({**env, "SCORING_INIT_WAIT_MS": "250"}).init_wait_ms == 250
    with pytest.raises(ConfigError, match="SCORING_INIT_WAIT_MS must be greater than 0"):
        Settings.from_env({**env, "SCORING_INIT_WAIT_MS": "0"})
