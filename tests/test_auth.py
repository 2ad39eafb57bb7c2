"""AML-style key auth (`AML_SCORING_KEYS`): `Authorization: Bearer <key>` on /score, health stays anonymous, and
the host's auth level follows the mode."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import fresh_python
from targets import InProcess, Request, Serve, script_env

KEYS = "primary-key-1, secondary-key-2"


@pytest.fixture(scope="module")
def keyed() -> InProcess:
    target = InProcess(script_env("echo_undecorated.py", AML_SCORING_KEYS=KEYS))
    yield target  # type: ignore[misc]
    target.stop()


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer wrong", "Basic primary-key-1", "Bearer primary-key-1x", "Bearer primary"],
)
def test_missing_or_wrong_keys_get_401(keyed: InProcess, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    reply = keyed.send(Request("POST", body=b"x", headers=headers))
    assert reply.status == 401
    assert reply.headers["www-authenticate"] == "Bearer"
    assert reply.json() == {"message": "Missing or invalid key: send 'Authorization: Bearer <key>'."}


@pytest.mark.parametrize("key", ["primary-key-1", "secondary-key-2"])
def test_primary_and_secondary_keys_both_work(keyed: InProcess, key: str) -> None:
    reply = keyed.send(Request("POST", body=b"x", headers={"Authorization": f"Bearer {key}"}))
    assert (reply.status, reply.json()) == (200, {"received": "x", "type": "str"})


def test_health_stays_anonymous(keyed: InProcess) -> None:
    assert keyed.send(Request("GET", "/")).status == 200


def test_without_keys_the_adapter_does_not_check(tmp_path: Path) -> None:
    target = InProcess(script_env("echo_undecorated.py"))
    try:
        assert target.send(Request("POST", body=b"x")).status == 200
    finally:
        target.stop()


@pytest.mark.parametrize(("keys", "level"), [("", "FUNCTION"), ("k1,k2", "ANONYMOUS")])
def test_host_auth_level_follows_the_mode(keys: str, level: str) -> None:
    code = (
        "import function_app\n"
        "[score] = [f for f in function_app.app.get_functions() if f.get_function_name() == 'score']\n"
        "print(score.get_trigger().auth_level)"
    )
    env = {"PATH": "", "AML_SCORING_KEYS": keys}
    assert fresh_python(code, env=env).stdout.strip().endswith(level)


def test_keys_never_reach_the_logs(tmp_path: Path) -> None:
    server = Serve(script_env("echo_undecorated.py", AML_SCORING_KEYS=KEYS), tmp_path / "serve.log")
    try:
        server.send(Request("POST", body=b"x", headers={"Authorization": "Bearer primary-key-1"}))
        server.send(Request("POST", body=b"x", headers={"Authorization": "Bearer guess-key-9"}))
        server.send(Request("POST", query=[("code", "function-key-3")], body=b"x"))
    finally:
        server.stop()
    log = server.log.read_text()
    for secret in ("primary-key-1", "secondary-key-2", "guess-key-9", "function-key-3"):
        assert secret not in log


@pytest.mark.parametrize("keys", [",", " , ", ",,"])
def test_a_key_setting_without_keys_fails_closed(keys: str) -> None:
    target = InProcess(script_env("echo_undecorated.py", AML_SCORING_KEYS=keys))
    try:
        reply = target.send(Request("POST", body=b"x"))
    finally:
        target.stop()
    assert reply.status == 500
    assert reply.json() == {
        "message": "Invalid configuration: AML_SCORING_KEYS is set but holds no key; unset it to use Functions keys "
        "instead."
    }
    code = "from adapter.http.auth import host_auth_level; print(host_auth_level())"
    out = fresh_python(code, env={"AML_SCORING_KEYS": keys})
    assert out.stdout.strip().endswith("FUNCTION")  # the host keeps guarding /score


def test_configuration_details_need_a_key(tmp_path: Path) -> None:
    env = script_env("echo_undecorated.py", AML_SCORING_KEYS=KEYS, SCORING_TIMEOUT_MS="soon")
    target = InProcess(env)
    try:
        anonymous = target.send(Request("POST", body=b"x"))
        keyed = target.send(Request("POST", body=b"x", headers={"Authorization": "Bearer primary-key-1"}))
        swagger = target.send(Request("GET", "/swagger.json"))
    finally:
        target.stop()
    assert anonymous.status == 401
    assert keyed.status == 500 and "SCORING_TIMEOUT_MS" in keyed.json()["message"]  # type: ignore[index]
    assert swagger.status == 500 and "SCORING_TIMEOUT_MS" not in swagger.json()["message"]  # type: ignore[index]
