"""`adapter.tools.client` against `python -m adapter serve`: the `Webservice.run` contract, keys sent the way the
app's auth wants them, the swagger document, and retries while a cold instance initialises or the host is busy."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from targets import Serve, script_env

from adapter.tools.client import Client, ScoringError

POWERBI_INPUT = {"Inputs": {"data": [{"x": 1.0, "y": 2.0}]}, "GlobalParameters": {"scale": 2.0}}


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    """An app checking AML-style bearer keys itself (`AML_SCORING_KEYS`)."""
    env = script_env("powerbi_shape.py", AML_SCORING_KEYS="primary,secondary")
    with Serve(env, tmp_path_factory.mktemp("client") / "keyed.log", clean=True) as server:
        yield server


@pytest.fixture(scope="module")
def headers_echo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    """An app left to the host's Functions keys, whose script shows the headers it received."""
    with Serve(script_env("request_headers.py"), tmp_path_factory.mktemp("client") / "echo.log", clean=True) as server:
        yield server


def test_run_takes_a_dict_or_a_json_string_and_returns_parsed_json(keyed: Serve) -> None:
    client = Client(keyed.base + "/score", key="secondary")
    expected = {"Results": [6.0], "frame_type": "DataFrame"}
    assert client.run(POWERBI_INPUT) == expected
    assert client.run(json.dumps(POWERBI_INPUT)) == expected


def test_auto_auth_switches_to_the_bearer_key_the_app_asks_for(keyed: Serve) -> None:
    client = Client(keyed.base + "/score", key="primary")
    client.run(POWERBI_INPUT)
    assert client.auth == "bearer"


def test_errors_carry_the_status_and_body(keyed: Serve) -> None:
    with pytest.raises(ScoringError) as wrong_key:
        Client(keyed.base + "/score", key="nope").run(POWERBI_INPUT)
    assert wrong_key.value.status == 401
    assert wrong_key.value.message == "Missing or invalid key: send 'Authorization: Bearer <key>'."
    with pytest.raises(ScoringError) as functions_key:
        Client(keyed.base + "/score", key="primary", auth="functions").run(POWERBI_INPUT)
    assert functions_key.value.status == 401
    with pytest.raises(ScoringError) as bad_input:
        Client(keyed.base + "/score", key="primary", auth="bearer").run([1, 2])
    assert bad_input.value.status == 400
    assert json.loads(bad_input.value.body) == {"message": "POST body should be a JSON dictionary."}


def test_the_function_key_goes_in_x_functions_key(headers_echo: Serve) -> None:
    seen = Client(headers_echo.base + "/score", key="fn-key").run("payload")
    assert seen["x_values"]["X-Functions-Key"] == "fn-key"
    assert "Authorization" not in seen["x_values"]


def test_swagger_fetches_each_version_without_a_key(keyed: Serve) -> None:
    client = Client(keyed.base + "/score")
    document = client.swagger()
    assert document["swagger"] == "2.0"
    assert document["securityDefinitions"]["Bearer"]["name"] == "Authorization"
    assert client.swagger("3.1")["openapi"] == "3.1.0"
    with pytest.raises(ScoringError) as missing:
        client.swagger("9")
    assert (missing.value.status, missing.value.message) == (
        404,
        "Swagger version [9] is not valid. Supported versions: [2, 3, 3.1].",
    )


GATED_INIT = """
import os, time

def init():
    end = time.monotonic() + 60
    while not os.path.exists(os.environ["INIT_GATE_FILE"]) and time.monotonic() < end:
        time.sleep(0.01)

def run(data):
    return {"ok": True}
"""


def app_with(tmp_path: Path, source: str, **env: str) -> dict[str, str]:
    app = tmp_path / "app"
    app.mkdir()
    (app / "score.py").write_text(source)
    return {"AML_APP_ROOT": str(app), "AZUREML_ENTRY_SCRIPT": "score.py", **env}


def test_a_starting_instance_is_retried_until_init_succeeds(tmp_path: Path) -> None:
    gate = tmp_path / "model-loaded"
    env = app_with(tmp_path, GATED_INIT, INIT_GATE_FILE=str(gate), SCORING_INIT_WAIT_MS="200")
    server = Serve(env, tmp_path / "serve.log", clean=True)
    pauses: list[float] = []

    def model_loads(seconds: float) -> None:
        pauses.append(seconds)
        gate.write_text("loaded")  # init() ends soon after: the next request waits for it, then is served

    try:
        assert Client(server.base + "/score", sleep=model_loads).run("x") == {"ok": True}
    finally:
        server.stop()
    assert pauses == [5.0]  # the "still starting" 503's Retry-After


def test_retries_give_up_with_the_last_error(tmp_path: Path) -> None:
    env = app_with(tmp_path, GATED_INIT, INIT_GATE_FILE=str(tmp_path / "never"), SCORING_INIT_WAIT_MS="100")
    server = Serve(env, tmp_path / "serve.log", clean=True)
    pauses: list[float] = []
    try:
        with pytest.raises(ScoringError) as failed:
            Client(server.base + "/score", retries=2, sleep=pauses.append).run("x")
    finally:
        server.stop()
    assert failed.value.status == 503 and "is still starting" in (failed.value.message or "")
    assert pauses == [5.0, 5.0]


@pytest.mark.parametrize(
    ("source", "stage"),
    [
        ("def init():\n    raise OSError('model.pkl not found')\ndef run(data):\n    return 1\n", "init()"),
        ("import not_installed_anywhere\n", "import"),
    ],
    ids=["init", "import"],
)
def test_a_script_that_failed_is_reported_at_once_not_retried_for_a_minute(
    tmp_path: Path, source: str, stage: str
) -> None:
    """Issue 13.4: the client retried a failed init() six times, up to a minute, before showing its error."""
    server = Serve(app_with(tmp_path, source), tmp_path / "serve.log", clean=True)
    pauses: list[float] = []
    try:
        with pytest.raises(ScoringError) as failed:
            Client(server.base + "/score", sleep=pauses.append).run("x")
    finally:
        server.stop()
    assert pauses == []
    assert failed.value.status == 503
    assert (failed.value.message or "").startswith(f"The entry script score.py failed in {stage}: ")


def test_a_busy_host_429_is_retried_after_its_retry_after(tmp_path: Path) -> None:
    server = Serve(script_env("client_busy.py"), tmp_path / "serve.log", clean=True)
    pauses: list[float] = []
    try:
        client = Client(server.base + "/score?client=a", sleep=pauses.append)
        assert client.run("hello") == {"client": "a", "body": "hello"}
    finally:
        server.stop()
    assert pauses == [2.0]
