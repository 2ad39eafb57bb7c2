"""Preflights that work for every kind of script (azmlinfsrv's only work for non-raw ones), and no CORS grant for
origins that are not allowed. GET/POST grants are compared with azmlinfsrv in test_differential.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from targets import InProcess, Request, Serve, script_env

ALLOWED = "https://app.example"
PREFLIGHT = {
    "Origin": ALLOWED,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "Content-Type, X-Trace-Me",
}


def preflight(origin: str = ALLOWED) -> Request:
    return Request("OPTIONS", headers={**PREFLIGHT, "Origin": origin})


@pytest.mark.parametrize("script", ["schema_numpy.py", "echo_undecorated.py", "raw_http.py"])
def test_preflight_from_an_allowed_origin_is_granted(script: str) -> None:
    target = InProcess(script_env(script, AML_CORS_ORIGINS=f"{ALLOWED}, https://other.example"))
    try:
        reply = target.send(preflight())
    finally:
        target.stop()
    assert reply.status == 200 and reply.body == b""
    assert reply.headers["access-control-allow-origin"] == ALLOWED
    assert reply.headers["access-control-allow-methods"] == "GET, POST"
    allowed_headers = reply.headers["access-control-allow-headers"].split(", ")
    for header in ("content-type", "authorization", "x-functions-key", "x-request-id", "x-ms-client-request-id"):
        assert header in allowed_headers
    assert "x-trace-me" in allowed_headers
    assert int(reply.headers["access-control-max-age"]) > 0
    assert reply.headers["vary"] == "Origin"


@pytest.mark.parametrize("script", ["schema_numpy.py", "raw_http.py"])
def test_preflight_from_another_origin_gets_no_cors_header(script: str) -> None:
    target = InProcess(script_env(script, AML_CORS_ORIGINS=ALLOWED))
    try:
        reply = target.send(preflight("https://evil.example"))
        post = target.send(Request("POST", body=b"{}", headers={"Origin": "https://evil.example"}))
    finally:
        target.stop()
    assert reply.status == 200
    assert not [h for h in reply.headers if h.startswith("access-control-")]
    assert not [h for h in post.headers if h.startswith("access-control-")]


def test_wildcard_grants_any_origin() -> None:
    target = InProcess(script_env("echo_undecorated.py", AML_CORS_ORIGINS="*"))
    try:
        reply = target.send(preflight("https://anyone.example"))
    finally:
        target.stop()
    assert reply.headers["access-control-allow-origin"] == "https://anyone.example"


def test_raw_script_preflight_does_not_reach_run_but_plain_options_still_does() -> None:
    target = InProcess(script_env("raw_http.py", AML_CORS_ORIGINS=ALLOWED))
    try:
        pre = target.send(preflight())
        plain = target.send(Request("OPTIONS", headers={"Origin": ALLOWED}))
    finally:
        target.stop()
    assert pre.body == b""  # answered by the adapter
    assert plain.json() == {"method": "OPTIONS", "content_type": None, "length": 0}  # answered by run()
    assert plain.headers["access-control-allow-origin"] == ALLOWED


def test_preflight_is_answered_without_loading_the_script_and_before_auth(tmp_path: Path) -> None:
    marker = tmp_path / "imported.txt"
    env = script_env("import_marker.py", AML_CORS_ORIGINS=ALLOWED, AML_SCORING_KEYS="secret-key")
    target = InProcess({**env, "IMPORT_MARKER_FILE": str(marker)})
    try:
        reply = target.send(preflight())
        unauthorized = target.send(Request("POST", body=b"{}", headers={"Origin": ALLOWED}))
    finally:
        target.stop()
    assert reply.status == 200 and reply.headers["access-control-allow-origin"] == ALLOWED
    assert not marker.exists()
    # The browser can read the 401 too, so the page can tell the user what is wrong.
    assert unauthorized.status == 401 and unauthorized.headers["access-control-allow-origin"] == ALLOWED


def test_no_cors_setting_keeps_azmlinfsrv_behaviour_for_raw_scripts(tmp_path: Path) -> None:
    server = Serve(script_env("raw_http.py"), tmp_path / "serve.log")
    try:
        reply = server.send(preflight())
    finally:
        server.stop()
    assert reply.json() == {"method": "OPTIONS", "content_type": None, "length": 0}
    assert "access-control-allow-origin" not in reply.headers
