"""`python -m adapter serve`: the local host runs function_app.py as the Functions host would (routes, host.json
prefix, local.settings.json, body limit), over real HTTP, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import json
import shutil
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from targets import ROOT, Request, Serve, script_env


def make_app(tmp_path: Path, host_json: dict[str, object], local_settings: dict[str, str] | None = None) -> Path:
    """A copy of this Function App with its own host.json (and local.settings.json)."""
    app = tmp_path / "app"
    shutil.copytree(ROOT / "adapter", app / "adapter", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "function_app.py", app)
    (app / "host.json").write_text(json.dumps(host_json))
    if local_settings is not None:
        (app / "local.settings.json").write_text(json.dumps({"IsEncrypted": False, "Values": local_settings}))
    return app


@pytest.fixture(scope="module")
def echo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    with Serve(script_env("echo_undecorated.py"), tmp_path_factory.mktemp("serve") / "serve.log") as server:
        yield server


def test_routes_match_like_the_host(echo: Serve) -> None:
    # ASP.NET routing: literal segments are case-insensitive and a trailing slash does not matter.
    for path in ("/score", "/SCORE", "/score/"):
        assert echo.send(Request("POST", path, body=b"hi")).json() == {"received": "hi", "type": "str"}
    assert echo.send(Request("GET", "/")).body == b"Healthy"
    assert echo.send(Request("GET", "/a/b/c")).status == 404


def test_head_has_no_body_and_connections_are_reused(echo: Serve) -> None:
    with requests.Session() as session:
        first = session.post(echo.base + "/score", data=b"one")
        second = session.post(echo.base + "/score", data=b"two")
        head = session.head(echo.base + "/")
    assert first.json()["received"] == "one" and second.json()["received"] == "two"
    assert head.status_code == 200 and head.content == b""


def test_chunked_request_bodies_are_read_and_dropped_as_on_azure(echo: Serve) -> None:
    """The host forwards a body only with a Content-Length (azure-functions-host#7930): the chunks are consumed,
    the function never gets them (it answers 411, or sees an empty body), and the connection serves the next
    request. tests/test_wire.py checks exactly what the function receives."""
    with requests.Session() as session:
        chunked = session.post(echo.base + "/score", data=iter([b"chunk-", b"ed"]), timeout=10)
        sized = session.post(echo.base + "/score", data=b"sized", timeout=10)
    assert chunked.status_code == 411 or chunked.json() == {"received": "", "type": "str"}
    assert sized.json() == {"received": "sized", "type": "str"}


def raw_exchange(server: Serve, head: bytes) -> tuple[str, str]:
    """Send a request head (no body) on a socket; the server answers and closes without reading a body."""
    port = int(server.base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status, _, body = answer.decode().partition("\r\n\r\n")
    return status, body


def test_a_body_over_the_limit_is_refused_with_413_json(echo: Serve) -> None:
    head, body = raw_exchange(echo, b"POST /score HTTP/1.1\r\nHost: x\r\nContent-Length: 104857601\r\n\r\n")
    assert head.startswith("HTTP/1.1 413")
    assert json.loads(body) == {"message": "The request body is larger than the limit of 104857600 bytes."}


@pytest.mark.parametrize("length", [b"lots", b"-5"])
def test_a_malformed_content_length_is_a_400_json(echo: Serve, length: bytes) -> None:
    head, body = raw_exchange(echo, b"POST /score HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + b"\r\n\r\n")
    assert head.startswith("HTTP/1.1 400")
    assert "Content-Length" in json.loads(body)["message"]


def test_one_access_line_per_request(echo: Serve) -> None:
    echo.send(Request("GET", "/score", query=[("q", "1")]))
    assert '"GET /score?q=1" 200' in echo.log.read_text()


def test_host_json_route_prefix_is_honoured(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"version": "2.0", "extensions": {"http": {"routePrefix": "api/v1"}}})
    server = Serve(script_env("echo_undecorated.py"), tmp_path / "serve.log", app_root=app, health_path="/api/v1/")
    try:
        assert server.send(Request("POST", "/api/v1/score", body=b"x")).json() == {"received": "x", "type": "str"}
        assert server.send(Request("GET", "/api/v1/")).body == b"Healthy"
        assert server.send(Request("GET", "/api/v1/elsewhere")).status == 404
        assert server.send(Request("POST", "/score", body=b"x")).status == 404  # outside the prefix: the host's 404
    finally:
        server.stop()


def test_default_prefix_is_api_when_host_json_sets_none(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"version": "2.0"})
    server = Serve(script_env("echo_undecorated.py"), tmp_path / "serve.log", app_root=app, health_path="/api/")
    try:
        assert server.send(Request("POST", "/api/score", body=b"x")).status == 200
    finally:
        server.stop()


def test_local_settings_values_are_loaded_and_the_environment_wins(tmp_path: Path) -> None:
    env = script_env("echo_undecorated.py")
    local = {"AML_APP_ROOT": env["AML_APP_ROOT"], "AZUREML_ENTRY_SCRIPT": "slow.py", "SCORING_TIMEOUT_MS": "5"}
    app = make_app(tmp_path, {"version": "2.0", "extensions": {"http": {"routePrefix": ""}}}, local)
    # The entry script comes from local.settings.json; SCORING_TIMEOUT_MS set in the environment wins over it.
    server = Serve({"SCORING_TIMEOUT_MS": "4000"}, tmp_path / "serve.log", app_root=app, clean=True)
    try:
        reply = server.send(Request("POST", body=b'{"sleep": 0.1}'))
    finally:
        server.stop()
    assert (reply.status, reply.json()) == (200, {"slept": 0.1})


def test_ctrl_c_stops_the_server_cleanly(tmp_path: Path) -> None:
    server = Serve(script_env("echo_undecorated.py"), tmp_path / "serve.log")
    server.send(Request("POST", body=b"x"))
    server.proc.send_signal(signal.SIGINT)
    assert server.proc.wait(10) == 0
    assert "Traceback" not in server.log.read_text()
