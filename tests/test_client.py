"""`adapter.tools.client` against `python -m adapter serve`: the `Webservice.run` contract, keys sent the way the
app's auth wants them, the swagger document, and retries while a cold instance initialises or the host is busy."""

from __future__ import annotations

import json
import time
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
    server = Serve(env, tmp_path_factory.mktemp("client") / "keyed.log", clean=True)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def headers_echo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    """An app left to the host's Functions keys, whose script shows the headers it received."""
    server = Serve(script_env("request_headers.py"), tmp_path_factory.mktemp("client") / "echo.log", clean=True)
    yield server
    server.stop()


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


def test_a_cold_instance_is_retried_until_init_succeeds(tmp_path: Path) -> None:
    marker = tmp_path / "model.bin"
    env = script_env("init_fails.py", INIT_FAILS_MARKER=str(marker), SCORING_INIT_RETRY_MS="50")
    server = Serve(env, tmp_path / "serve.log", clean=True)
    pauses: list[float] = []

    def model_arrives(seconds: float) -> None:
        pauses.append(seconds)
        marker.write_text("weights")
        time.sleep(0.2)  # past the 50 ms back-off, so the next request runs init() again

    try:
        assert Client(server.base + "/score", sleep=model_arrives).run("x") == {"ok": True}
    finally:
        server.stop()
    assert pauses == [1.0]  # the 503's Retry-After


def test_retries_give_up_with_the_last_error(tmp_path: Path) -> None:
    env = script_env("init_fails.py", INIT_FAILS_MARKER=str(tmp_path / "never"), SCORING_INIT_RETRY_MS="50")
    server = Serve(env, tmp_path / "serve.log", clean=True)
    pauses: list[float] = []
    try:
        with pytest.raises(ScoringError) as failed:
            Client(server.base + "/score", retries=2, sleep=pauses.append).run("x")
    finally:
        server.stop()
    assert failed.value.status == 503 and "init()" in (failed.value.message or "")
    assert len(pauses) == 2


def test_a_busy_host_429_is_retried_after_its_retry_after(tmp_path: Path) -> None:
    server = Serve(script_env("client_busy.py"), tmp_path / "serve.log", clean=True)
    pauses: list[float] = []
    try:
        client = Client(server.base + "/score?client=a", sleep=pauses.append)
        assert client.run("hello") == {"client": "a", "body": "hello"}
    finally:
        server.stop()
    assert pauses == [2.0]
