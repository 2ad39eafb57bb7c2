"""The deployment's HTTP pipeline and endpoints: what every route does around the entry script, beyond what the
differential tests compare (answers azmlinfsrv cannot give, policies, the warm-up and preload paths)."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

import azure.functions as func
import pytest
from helpers import fresh_python_json, wait_until
from targets import ROOT, SCRIPTS, InProcess, Reference, Request, Serve, function_request, script_env

from adapter.deployment import Deployment
from adapter.errors import HttpError
from adapter.functions import Functions, create_app
from adapter.hosting.context import InvocationContext
from adapter.http import cookies, pipeline
from adapter.http.request_log import escape, redact

ECHO_ENV = {"AML_APP_ROOT": str(ROOT / "tests" / "worker" / "scripts"), "AZUREML_ENTRY_SCRIPT": "platform_echo.py"}
INTERNAL = {"message": "An unexpected internal error occurred. Check the logs for more info."}


@pytest.fixture(scope="module")
def bad_responses(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Reference, InProcess, Serve]]:
    env = script_env("bad_responses.py")
    logs = tmp_path_factory.mktemp("bad-responses")
    reference, serve = Reference(env, logs / "reference.log"), Serve(env, logs / "serve.log")
    in_process = InProcess(env)
    yield reference, in_process, serve
    in_process.stop()
    serve.stop()
    reference.stop()


@pytest.mark.parametrize("kind", ["value-crlf", "status-0", "status-100", "status-199", "status-600", "status-999"])
def test_a_response_http_cannot_carry_is_azmlinfsrvs_500(
    bad_responses: tuple[Reference, InProcess, Serve], kind: str
) -> None:
    reference, in_process, serve = bad_responses
    request = Request("POST", body=kind.encode())
    expected = reference.send(request)
    assert (expected.status, expected.json()) == (500, INTERNAL)
    for target in (in_process, serve):
        reply = target.send(request)
        assert (reply.status, reply.json(), reply.headers["x-ms-run-function-failed"]) == (500, INTERNAL, "False")


@pytest.mark.parametrize("kind", ["name-crlf", "name-unicode", "value-unicode"])
def test_header_names_or_values_that_would_inject_or_break_the_answer_are_a_json_500(
    bad_responses: tuple[Reference, InProcess, Serve], kind: str
) -> None:
    """azmlinfsrv's gunicorn answers these with an HTML error page; never a response with an injected header."""
    _, in_process, serve = bad_responses
    for target in (in_process, serve):
        reply = target.send(Request("POST", body=kind.encode()))
        assert (reply.status, reply.json()) == (500, INTERNAL)
        assert "set-cookie" not in reply.headers and "x-value" not in reply.headers


@pytest.mark.parametrize("script", ["schema_numpy.py", "echo_undecorated.py", "raw_http.py"])
def test_a_chunked_body_the_host_dropped_gets_411_saying_to_send_content_length(script: str) -> None:
    """The Functions host passes a body on only with a Content-Length: a chunked POST reaches the function empty,
    with its Transfer-Encoding header. Rather than "POST body is empty" or an empty body for run(), say why."""
    target = InProcess(script_env(script))
    try:
        reply = target.send(Request("POST", headers={"Transfer-Encoding": "chunked", "X-Request-Id": "te-1"}))
    finally:
        target.stop()
    assert reply.status == 411
    assert "Content-Length" in reply.json()["message"]  # type: ignore[index]
    assert reply.headers["x-request-id"] == "te-1"


@pytest.mark.parametrize("script", ["schema_numpy.py", "echo_undecorated.py", "raw_http.py"])
@pytest.mark.parametrize(
    "headers",
    [{}, {"Origin": "https://a.example", "Access-Control-Request-Method": "POST"}],
    ids=["plain", "preflight"],
)
@pytest.mark.parametrize("method", ["GET", "OPTIONS", "DELETE"])
def test_a_chunked_request_on_a_method_without_a_body_is_answered_as_without_the_header(
    script: str, headers: dict[str, str], method: str
) -> None:
    """Regression (issue 18): the 411 came before the method and preflight decisions."""
    target = InProcess(script_env(script, AML_CORS_ORIGINS="https://a.example"))
    try:
        plain = target.send(Request(method, headers={**headers, "X-Request-Id": "te-2"}))
        chunked = target.send(
            Request(method, headers={**headers, "X-Request-Id": "te-2", "Transfer-Encoding": "chunked"})
        )
    finally:
        target.stop()
    assert chunked.status != 411
    assert (chunked.status, chunked.body) == (plain.status, plain.body)


@pytest.mark.parametrize("target_path", ["/powerquery.pq", "/powerquery.pq/"])
def test_the_power_query_function_scores_at_score_whatever_the_slash(target_path: str) -> None:
    """Regression (issue 18): `/powerquery.pq/` wrote `.../powerquery.pq/score` as the scoring URL."""
    target = InProcess(script_env("powerbi_shape.py"))
    try:
        reply = target.send(Request("GET", target_path))
    finally:
        target.stop()
    assert reply.status == 200, reply.body
    assert b'"http://localhost:7071/score"' in reply.body


def test_a_layer_that_fails_is_the_generic_json_500_never_the_hosts() -> None:
    """The outermost guard: whatever a policy itself raises becomes azmlinfsrv's JSON 500, and an `HttpError`
    raised above the error catch still gets its answer with its headers."""

    def endpoint(req: func.HttpRequest, context: func.Context | None) -> func.HttpResponse:
        return func.HttpResponse("never")

    def broken(req: func.HttpRequest, context: func.Context | None, call_next: pipeline.Endpoint) -> func.HttpResponse:
        raise RuntimeError("a bug in a policy")

    def refusing(
        req: func.HttpRequest, context: func.Context | None, call_next: pipeline.Endpoint
    ) -> func.HttpResponse:
        raise HttpError(429, "slow down", headers={"X-Why": "test"})

    request = function_request("GET", "/score")
    failed = pipeline.chain([pipeline.logged, pipeline.guard, broken], endpoint)(request, None)
    assert (failed.status_code, json.loads(failed.get_body())) == (500, INTERNAL)
    refused = pipeline.chain([pipeline.logged, pipeline.guard, refusing], endpoint)(request, None)
    assert (refused.status_code, json.loads(refused.get_body())) == (429, {"message": "slow down"})
    assert refused.headers["X-Why"] == "test"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT; Path=/", "a=1; Max-Age=100; Path=/"),
        ("a=1; Path=/; expires=Wed, 21 Oct 2026 07:28:00 GMT; Max-Age=5", "a=1; Path=/; Max-Age=5"),
        ("a=1; Expires=Wed, 21 Oct 2020 07:28:00 GMT", "a=1; Max-Age=0"),
        ("a=1; Path=/", "a=1; Path=/"),
    ],
)
def test_expires_becomes_max_age_for_the_worker_that_crashes_on_it(header: str, expected: str) -> None:
    assert cookies.expires_as_max_age(header, now=1792567680 - 100) == expected


def test_on_python_3_13_a_script_s_expires_cookie_goes_as_max_age(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the 3.13 worker run shows (test_worker.py), in-process on any Python."""
    monkeypatch.setattr(cookies, "EXPIRES_CRASHES_WORKER", True)
    target = InProcess(ECHO_ENV)
    try:
        reply = target.send(Request("GET", query=[("cookie", "x=1; Expires=Wed, 21 Oct 2020 07:28:00 GMT; Path=/")]))
    finally:
        target.stop()
    assert reply.headers["set-cookie"] == "x=1; Max-Age=0; Path=/"


@pytest.mark.parametrize(
    "query",
    ["code=KEY", "CODE=KEY", "%63ode=KEY", "c%6Fde=KEY", "co%64e=KEY", "%43%4F%44%45=KEY", "a=1&code=KEY&b=2"],
)
def test_functions_keys_are_masked_in_logs_however_the_name_is_encoded(query: str) -> None:
    logged = redact(f"/score?{query}")
    assert "KEY" not in logged and "=***" in logged


def test_names_that_only_contain_code_are_not_masked() -> None:
    assert redact("/score?barcode=1&code_x=2") == "/score?barcode=1&code_x=2"


def test_client_chosen_text_cannot_break_or_forge_log_lines(caplog: pytest.LogCaptureFixture) -> None:
    target = InProcess(script_env("echo_undecorated.py"))
    caplog.set_level(logging.INFO, logger="adapter.request")
    evil_id = "id\x1b[31m\x07FAKE 200"  # CR and LF cannot arrive in a header value; ESC and BEL can
    try:
        target.send(Request("POST", "/score", body=b"x", headers={"X-Request-Id": evil_id}))
        target.send(Request("GET", "/a%0d%0aFAKE%1b"))
    finally:
        target.stop()
    lines = [r.getMessage() for r in caplog.records if r.name == "adapter.request"]
    assert len(lines) == 2
    for line in lines:
        assert not any(ch in line for ch in "\x1b\x07\r\n"), line
    assert lines[0].endswith("x-request-id=id\\x1b[31m\\x07FAKE 200")
    assert escape("a\r\nb\x00\x9b") == "a\\x0d\\x0ab\\x00\\x9b"
    assert escape("plain text: ok, ünïcode") == "plain text: ok, ünïcode"


@pytest.mark.parametrize(("setting", "detailed"), [(None, False), ("true", True), ("false", False)])
def test_error_details_are_opt_in_and_never_a_traceback(setting: str | None, detailed: bool) -> None:
    extra = {"SCORING_ERROR_DETAILS": setting} if setting else {}
    target = InProcess(script_env("errors.py", **extra))
    try:
        reply = target.send(Request("POST", body=b"x"))
    finally:
        target.stop()
    message = reply.json()["message"]  # type: ignore[index]
    assert reply.status == 500 and reply.headers["x-ms-run-function-failed"] == "True"
    assert message.startswith("An unexpected error occurred in scoring script. Check the logs for more info.")
    assert ("RuntimeError: scoring exploded" in message) is detailed
    assert "Traceback" not in message and "line " not in message


def test_a_bad_error_details_setting_names_the_variable() -> None:
    target = InProcess(script_env("errors.py", SCORING_ERROR_DETAILS="maybe"))
    try:
        reply = target.send(Request("POST", body=b"x"))
    finally:
        target.stop()
    assert reply.status == 500
    assert "SCORING_ERROR_DETAILS must be true or false" in reply.json()["message"]  # type: ignore[index]


def user_swagger_app(tmp_path: Path, content: bytes) -> dict[str, str]:
    (tmp_path / "score.py").write_text("def init():\n    pass\n\n\ndef run(data):\n    return data\n")
    (tmp_path / "swagger.json").write_bytes(content)
    return {"AML_APP_ROOT": str(tmp_path), "AZUREML_ENTRY_SCRIPT": "score.py"}


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"info": "caf\xe9"}', "swagger.json in AML_APP_ROOT is not UTF-8 text"),
        (b"[" * 100_000 + b"]" * 100_000, "swagger.json in AML_APP_ROOT is nested too deeply"),
        (b'{"swagger": "2.0", "x": NaN}', "swagger.json in AML_APP_ROOT is not valid JSON: NaN is not a JSON value"),
        (b'{"swagger": "2.0", "x": -Infinity}', "not valid JSON: -Infinity is not a JSON value"),
        (b'{"swagger": "2.0", "x": 1e999}', "not valid JSON: 1e999 is out of range for a JSON number"),
    ],
)
def test_a_user_swagger_file_that_cannot_be_served_is_named_and_never_sent_as_invalid_json(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    target = InProcess(user_swagger_app(tmp_path, content))
    try:
        reply = target.send(Request("GET", "/swagger.json"))
    finally:
        target.stop()
    assert reply.status == 500 and reason in reply.json()["message"]  # type: ignore[index]


def test_a_user_swagger_file_that_failed_is_not_read_again_on_every_request(tmp_path: Path) -> None:
    """Anonymous requests must not make the app re-read a large bad file each time: the failure is kept."""
    target = InProcess(user_swagger_app(tmp_path, b"{not json"))
    try:
        first = target.send(Request("GET", "/swagger.json"))
        (tmp_path / "swagger.json").write_text('{"swagger": "2.0", "info": {}}')
        second = target.send(Request("GET", "/swagger.json"))
    finally:
        target.stop()
    assert first.status == second.status == 500
    assert first.body == second.body


def test_a_user_swagger_file_linking_outside_the_app_is_not_served(tmp_path: Path) -> None:
    secret = tmp_path / "outside.json"
    secret.write_text('{"password": "hunter2"}')
    app = tmp_path / "app"
    app.mkdir()
    env = user_swagger_app(app, b"{}")
    (app / "swagger.json").unlink()
    (app / "swagger.json").symlink_to(secret)
    target = InProcess(env)
    try:
        reply = target.send(Request("GET", "/swagger.json"))
    finally:
        target.stop()
    assert reply.status == 500 and b"hunter2" not in reply.body
    assert "leads outside it" in reply.json()["message"]  # type: ignore[index]


def test_a_broken_script_setting_keeps_health_and_cors_and_shows_details_only_on_score() -> None:
    origin = "https://a.example"
    env = {**script_env("echo_undecorated.py"), "SCORING_TIMEOUT_MS": "soon", "AML_CORS_ORIGINS": origin}
    target = InProcess(env)
    try:
        score = target.send(Request("POST", body=b"x", headers={"Origin": origin}))
        health = target.send(Request("GET", "/", headers={"Origin": origin}))
        swagger = target.send(Request("GET", "/swagger.json"))
    finally:
        target.stop()
    assert score.status == 500 and "SCORING_TIMEOUT_MS" in score.json()["message"]  # type: ignore[index]
    assert score.headers["access-control-allow-origin"] == origin
    assert (health.status, health.body) == (200, b"Healthy")
    assert health.headers["access-control-allow-origin"] == origin
    assert swagger.status == 500 and "SCORING_TIMEOUT_MS" not in swagger.body.decode()


def test_deployments_are_built_from_settings_without_touching_the_environment() -> None:
    before = dict(os.environ)
    deployment = Deployment.from_env({**script_env("echo_undecorated.py"), "AML_CORS_ORIGINS": "https://b.example"})
    assert os.environ == before
    assert deployment.http.cors_origins == ("https://b.example",)
    assert (
        deployment.scoring is not None and deployment.scoring.settings.entry_script == SCRIPTS / "echo_undecorated.py"
    )


def counting_env(tmp_path: Path) -> dict[str, str]:
    return {**script_env("init_counter.py"), "INIT_COUNTER_FILE": str(tmp_path / "init-calls.txt")}


def test_the_warm_up_trigger_is_registered_and_runs_init_before_any_request(tmp_path: Path) -> None:
    env = counting_env(tmp_path)
    target = InProcess(env)
    app = create_app(Functions(lambda: target.deployment))
    try:
        warmups = [f for f in app.get_functions() if f.get_trigger().type == "warmupTrigger"]
        assert [f.get_function_name() for f in warmups] == ["warmup"]
        warmups[0].get_user_function()(None, InvocationContext("warmup", str(ROOT)))
        assert (tmp_path / "init-calls.txt").read_text().count("\n") == 1  # init() ran, with no request
        reply = target.send(Request("POST", body=b"x"))
    finally:
        target.stop()
    assert (reply.status, reply.json()) == (200, {"init_calls": 1})


def test_a_failing_warm_up_is_logged_never_raised(caplog: pytest.LogCaptureFixture) -> None:
    target = InProcess(script_env("init_fails.py"))
    try:
        target.deployment.warm_up()
        reply = target.send(Request("POST", body=b"x"))
    finally:
        target.stop()
    assert any(r.levelno == logging.WARNING and "Warm-up" in r.getMessage() for r in caplog.records)
    assert reply.status == 503


def test_preload_imports_and_initialises_in_the_background_as_the_app_is_indexed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = counting_env(tmp_path)
    target = InProcess(env)
    monkeypatch.setenv("SCORING_PRELOAD", "true")
    functions = Functions(lambda: target.deployment)
    try:
        started = time.perf_counter()
        create_app(functions)
        assert time.perf_counter() - started < 0.4  # init() sleeps 0.5 s: indexing did not wait for it
        wait_until((tmp_path / "init-calls.txt").exists, interval=0.05)
        reply = target.send(Request("POST", body=b"x"))
    finally:
        target.stop()
    assert (reply.status, reply.json()) == (200, {"init_calls": 1})


def test_function_app_registers_the_routes_and_the_warm_up() -> None:

    code = (
        "import json, function_app\n"
        "functions = function_app.app.get_functions()\n"
        "print(json.dumps(sorted((f.get_function_name(), f.get_trigger().type) for f in functions)))"
    )
    assert fresh_python_json(code) == [
        ["health", "httpTrigger"],
        ["not_found", "httpTrigger"],
        ["powerquery", "httpTrigger"],
        ["score", "httpTrigger"],
        ["swagger", "httpTrigger"],
        ["warmup", "warmupTrigger"],
    ]


@pytest.mark.parametrize("path", ["/swagger.json", "/powerquery.pq"])
def test_requests_for_documents_wait_for_a_slow_import_at_most_the_init_wait_each(tmp_path: Path, path: str) -> None:
    """Concurrent requests must not queue for the import one after the other, each with a wait of its own."""
    from concurrent.futures import ThreadPoolExecutor

    (tmp_path / "score.py").write_text(
        "import time\ntime.sleep(3)\n\ndef init():\n    pass\n\ndef run(data):\n    return data\n"
    )
    target = InProcess(
        {"AML_APP_ROOT": str(tmp_path), "AZUREML_ENTRY_SCRIPT": "score.py", "SCORING_INIT_WAIT_MS": "500"}
    )

    def timed() -> tuple[int, float]:
        started = time.perf_counter()
        return target.send(Request("GET", path)).status, time.perf_counter() - started

    try:
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda _: timed(), range(4)))
    finally:
        target.stop()
    assert [status for status, _ in answers] == [503] * 4
    # Each waited its own 0.5 s; queued one after the other, the last would have waited 2 s.
    assert max(elapsed for _, elapsed in answers) < 1.4, answers
