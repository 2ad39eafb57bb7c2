"""Through the real Azure Functions Python workers (tests/worker/harness.py plays the host over gRPC): indexing,
answers identical to `adapter serve`, log records tied to their invocation, and what the platform does to
client addresses, chunked bodies and cookies (docs/platform.md). Every test that needs a worker runs once on each:
the 4.x worker (Python 3.11) and the 3.13+ proxy worker. They skip when a worker is missing, and fail instead when one
was promised (CI=true, or the worker variables .ci/run sets); the regression tests of the fixes also run in-process,
without a worker."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode

import pytest
from targets import ROOT, InProcess, Request, Serve, script_env

sys.path.insert(0, str(Path(__file__).resolve().parent / "worker"))

from harness import WORKERS, FunctionsHost, Worker, WorkerReply, require_worker  # noqa: E402

WORKER_TESTS = Path(__file__).resolve().parent / "worker"
SAMPLE_ENV = {
    "AML_APP_ROOT": str(ROOT),
    "AZUREML_ENTRY_SCRIPT": "score.py",
    "AZUREML_MODEL_DIR": str(ROOT / "models" / "iris-classifier" / "1"),
}
SAMPLE_INPUT = {
    "Inputs": {"data": [{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}]},
    "GlobalParameters": {"method": "predict"},
}
ECHO_ENV = {"AML_APP_ROOT": str(WORKER_TESTS / "scripts"), "AZUREML_ENTRY_SCRIPT": "platform_echo.py"}
#: Headers a live server adds or computes per response, and the run time measured per call.
VOLATILE = {"date", "server", "content-length", "connection", "keep-alive", "x-ms-run-fn-exec-ms"}
#: Sent with every request of a comparison, so both sides see the same host and request id.
COMMON = {"Host": "localhost:7071", "X-Request-Id": "worker-test", "User-Agent": "worker-test"}
ORIGIN = "https://a.example"

EXPIRES = " Expires=Wed, 21 Oct 2026 07:28:00 GMT;"
ACCEPTED_COOKIE = f"a=1;{EXPIRES} Max-Age=60; Domain=example.com; Path=/x; Secure; HttpOnly; SameSite=Lax"
#: Cookies the platform would alter or drop, each with what happens to it there (tests/worker/cookie_app shows it).
ALTERED_COOKIES = {
    "p=pv-7; Partitioned; Secure; Path=/": "the worker drops the whole cookie",
    "q=qv-7; Priority=High": "the worker sends a second cookie named Priority",
    "s=sv 7": "the worker drops the whole cookie",
    "u=uv-\u00e9t\u00e9": "the worker drops the whole cookie",
    "e=c2VjcmV0==": "the host percent-encodes the value (e=c2VjcmV0%3D%3D)",
    'j="jv-7"': "the worker strips the quotes",
    "t=tv-7; Expires=Wed, 21 Oct 2026 07:28:00": "the worker drops the whole cookie (no time zone)",
}


def comparable(status: int, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
    return status, {k: v for k, v in headers.items() if k not in VOLATILE}, body


def answered_alike(
    pair: tuple[FunctionsHost, Serve], request_: Request, *, volatile: frozenset[str] = frozenset()
) -> WorkerReply:
    """The worker's answer to `request_` (sent with the COMMON headers), asserted the same as `serve`'s but for the
    VOLATILE headers and `volatile`."""
    host, serve = pair
    request_.headers = {**COMMON, **request_.headers}
    ours = host.invoke(request_.method, request_.target, request_.headers, request_.body)
    local = serve.send(request_)
    drop = VOLATILE | volatile
    assert (ours.status, {k: v for k, v in ours.headers.items() if k not in drop}, ours.body) == (
        local.status,
        {k: v for k, v in local.headers.items() if k not in drop},
        local.body,
    )
    return ours


# -- fixtures: one worker (and one `serve`) per configuration, each started once for this module ---------------------


@pytest.fixture(scope="module", params=WORKERS)
def worker(request: pytest.FixtureRequest) -> Worker:
    """Each worker in turn: every test that uses one runs on both, all of one worker's tests before the other's."""
    return require_worker(request.param)


@pytest.fixture(scope="module")
def logs(worker: Worker, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp(f"worker-logs-{worker.name}")


@contextmanager
def _pair(worker: Worker, logs: Path, name: str, env: dict[str, str]) -> Iterator[tuple[FunctionsHost, Serve]]:
    with FunctionsHost(ROOT, env, logs / f"{name}.worker.log", worker=worker) as host:
        with Serve(env, logs / f"{name}.serve.log") as serve:
            yield host, serve


@pytest.fixture(scope="module")
def sample(worker: Worker, logs: Path) -> Iterator[tuple[FunctionsHost, Serve]]:
    with _pair(worker, logs, "sample", SAMPLE_ENV) as pair:
        yield pair


@pytest.fixture(scope="module")
def raw(worker: Worker, logs: Path) -> Iterator[tuple[FunctionsHost, Serve]]:
    with _pair(worker, logs, "raw_http", script_env("raw_http.py")) as pair:
        yield pair


@pytest.fixture(scope="module")
def echo(worker: Worker, logs: Path) -> Iterator[FunctionsHost]:
    with FunctionsHost(ROOT, ECHO_ENV, logs / "echo.worker.log", worker=worker) as host:
        yield host


@pytest.fixture(scope="module")
def drills(worker: Worker, logs: Path) -> Iterator[FunctionsHost]:
    # A scoring timeout below the host's functionTimeout (30 min by default) puts run() on a runner thread.
    env = script_env("drills.py", SCORING_TIMEOUT_MS="60000")
    with FunctionsHost(ROOT, env, logs / "drills.worker.log", worker=worker) as host:
        yield host


@pytest.fixture(scope="module")
def inline(worker: Worker, logs: Path) -> Iterator[tuple[FunctionsHost, Serve]]:
    # The default scoring timeout is above the host's functionTimeout: run() runs on the worker's own thread. With
    # CORS, for the comparisons of grants.
    with _pair(worker, logs, "inline", script_env("drills.py", AML_CORS_ORIGINS=ORIGIN)) as pair:
        yield pair


# -- indexing ------------------------------------------------------------------------------------------------------


def test_worker_indexing_reports_the_routes_and_the_warm_up(drills: FunctionsHost) -> None:
    functions = {f.name: (f.route, f.auth_level, sorted(f.methods)) for f in drills.functions}
    all_methods = sorted(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])
    assert functions == {
        "score": ("score", "FUNCTION", all_methods),
        "health": ("/", "ANONYMOUS", all_methods),
        "swagger": ("swagger.json", "ANONYMOUS", all_methods),
        "not_found": ("{*path}", "ANONYMOUS", all_methods),
        "powerquery": ("powerquery.pq", "ANONYMOUS", all_methods),
        "warmup": ("warmup", "", []),
    }
    assert drills.init_response.result.status == drills.protos.StatusResult.Success


def test_with_aml_keys_the_host_serves_score_anonymously(worker: Worker, logs: Path) -> None:
    env = script_env("drills.py", AML_SCORING_KEYS="k-1")
    with _pair(worker, logs, "keys", env) as pair:
        assert pair[0].function("score").auth_level == "ANONYMOUS"
        for key in ("", "Bearer wrong", "Bearer k-1"):  # our own key check instead
            headers = {"Authorization": key} if key else {}
            ours = answered_alike(pair, Request("POST", "/score", headers=headers, body=b'{"kind": "echo"}'))
            assert ours.status == (200 if key == "Bearer k-1" else 401)


# -- the same answers as `adapter serve` ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_",
    [
        Request("POST", "/score", headers={"Content-Type": "application/json"}, body=json.dumps(SAMPLE_INPUT).encode()),
        Request("POST", "/score", headers={"Content-Type": "application/json"}, body=b'{"Inputs": '),
        Request("POST", "/score", headers={"Content-Type": "text/plain"}, body=b"{}"),
        Request("GET", "/"),
        Request("GET", "/swagger.json"),
        Request("GET", "/swagger.json", query=[("version", "3")]),
        Request("GET", "/no/such/path"),
        Request("OPTIONS", "/score"),
        Request("PUT", "/score"),
    ],
    ids=lambda r: f"{r.method} {r.target}",
)
def test_sample_answers_like_serve(sample: tuple[FunctionsHost, Serve], request_: Request) -> None:
    ours = answered_alike(sample, request_)
    if request_.method == "POST" and ours.status == 200:
        assert json.loads(ours.body) == {"Results": ["setosa"]}
        assert "x-ms-run-fn-exec-ms" in ours.headers


@pytest.mark.parametrize(
    "request_",
    [
        Request("GET", "/score", query=[("a", "1"), ("a", "2"), ("b", "")], headers={"X-Custom-Header": "c"}),
        Request("GET", "/score", headers={"Cookie": "k=v; other=w"}),
        Request("POST", "/score", headers={"Content-Type": "application/octet-stream"}, body=bytes(range(256)) * 8),
        Request("POST", "/score", query=[("echo", "bytes")], body=b"\x00\xff raw"),
        Request("GET", "/score", query=[("headers", "1")]),
        Request("GET", "/score", query=[("stream", "1")]),
        Request("GET", "/score", query=[("status", "503")]),
        Request("GET", "/score", query=[("none", "1")]),
        Request("DELETE", "/score"),
    ],
    ids=lambda r: f"{r.method} {r.target}",
)
def test_rawhttp_script_answers_like_serve(raw: tuple[FunctionsHost, Serve], request_: Request) -> None:
    answered_alike(raw, request_)


@pytest.mark.parametrize(
    "request_",
    [
        Request("POST", "/score", headers={"Origin": ORIGIN}, body=b'{"kind": "echo", "payload": 1}'),
        Request("POST", "/score", headers={"Origin": "https://evil.example"}, body=b'{"kind": "echo"}'),
        Request("OPTIONS", "/score", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}),
        Request("GET", "/", headers={"Origin": ORIGIN}),
        Request("POST", "/score", headers={"Origin": ORIGIN}, body=b'{"kind": "raise"}'),
        Request("GET", "/score", headers={"Origin": ORIGIN, "X-Request-Id": "x" * 101}),
        Request("GET", "/swagger.json", headers={"Origin": ORIGIN, "X-Request-Id": "x" * 101}),
    ],
    ids=lambda r: f"{r.method} {r.target} {r.headers.get('Origin')} {len(r.headers.get('X-Request-Id', ''))}",
)
def test_cors_answers_like_serve(inline: tuple[FunctionsHost, Serve], request_: Request) -> None:
    answered_alike(inline, request_)


def test_a_431_carries_the_cors_grant_as_azmlinfsrv_sends_it(inline: tuple[FunctionsHost, Serve]) -> None:
    """Regression (issue 18): request ids sat outside CORS, so their 431 went without the grant and a browser could
    not read why it was refused (test_differential.py compares the same request with azmlinfsrv)."""
    host, _ = inline
    reply = host.invoke("GET", "/score", {"Origin": ORIGIN, "X-Request-Id": "x" * 101})
    assert reply.status == 431
    assert reply.headers["access-control-allow-origin"] == ORIGIN


@pytest.mark.parametrize(
    "request_",
    [Request("GET", "/score"), Request("OPTIONS", "/score"), Request("OPTIONS", "/score", headers={"Origin": ORIGIN})],
    ids=lambda r: f"{r.method} {r.headers}",
)
def test_a_chunked_request_with_no_body_to_carry_is_answered_as_without_one(
    sample: tuple[FunctionsHost, Serve], request_: Request
) -> None:
    """Regression (issue 18): the 411 came before the method decisions, so a chunked GET or OPTIONS (whose body no
    script reads) got 411 where azmlinfsrv answers it as usual."""
    host, _ = sample
    headers = {**COMMON, **request_.headers}
    plain = host.invoke(request_.method, request_.target, headers)
    chunked = host.invoke(request_.method, request_.target, {**headers, "Transfer-Encoding": "chunked"}, None)
    assert plain.status != 411
    assert comparable(chunked.status, chunked.headers, chunked.body) == comparable(
        plain.status, plain.headers, plain.body
    )


def test_the_powerquery_function_behind_a_trailing_slash_scores_at_score(sample: tuple[FunctionsHost, Serve]) -> None:
    """Regression (issue 18): `/powerquery.pq/` (the route takes it) wrote `/powerquery.pq/score` as the URL."""
    for target in ("/powerquery.pq", "/powerquery.pq/"):
        reply = answered_alike(sample, Request("GET", target))
        assert reply.status == 200, reply.body
        assert b'"http://localhost:7071/score"' in reply.body, target


@pytest.fixture(scope="module")
def init_fails(worker: Worker, logs: Path) -> Iterator[tuple[FunctionsHost, Serve]]:
    with _pair(worker, logs, "init_fails", script_env("init_fails.py")) as pair:
        yield pair


def test_an_init_failure_answers_like_serve_and_its_traceback_reaches_the_host(
    init_fails: tuple[FunctionsHost, Serve],
) -> None:
    host, _ = init_fails
    invocation = host.invoke_rpc("POST", "/score", COMMON, b"{}")
    # Retry-After: the seconds left of the back-off, counted from each side's own failure.
    ours = answered_alike(init_fails, Request("POST", "/score", body=b"{}"), volatile=frozenset({"retry-after"}))
    assert ours.status == 503
    failed = [log for log in invocation.logs if log.message.startswith("Entry script init_fails.py failed")]
    assert len(failed) == 1 and "model file not found" in failed[0].exception + failed[0].message


def test_the_warm_up_logs_with_its_invocation_id(worker: Worker, logs: Path) -> None:
    """Regression (issue 18): the warm-up took no context, so the import's and init()'s records (an init() failure
    and its traceback among them) reached the host without an invocation id, and the host drops those."""
    with FunctionsHost(ROOT, script_env("init_fails.py"), logs / "warmup.worker.log", worker=worker) as host:
        warm_up = host.warm_up()
        assert warm_up.response.result.status == host.protos.StatusResult.Success
        stray = [log for log in host.logs if log.category.startswith("adapter") and not log.invocation_id]
    assert stray == []
    failed = [log for log in warm_up.logs if log.message.startswith("Entry script init_fails.py failed")]
    assert len(failed) == 1
    assert any(log.message.startswith("Warm-up: ") for log in warm_up.logs)


def test_16_concurrent_cold_calls_run_init_once(worker: Worker, logs: Path, tmp_path: Path) -> None:
    counter = tmp_path / "init-calls.txt"
    env = script_env("init_counter.py", INIT_COUNTER_FILE=str(counter))
    with FunctionsHost(ROOT, env, logs / "init_counter.worker.log", worker=worker) as host:
        with ThreadPoolExecutor(16) as pool:
            replies = list(pool.map(lambda i: host.invoke("POST", "/score", {}, b"{}"), range(16)))
    assert [(r.status, json.loads(r.body)) for r in replies] == [(200, {"init_calls": 1})] * 16
    assert counter.read_text().count("\n") == 1


# -- logs ---------------------------------------------------------------------------------------------------------


def test_logs_written_by_run_on_the_runner_thread_carry_the_invocation_id(drills: FunctionsHost) -> None:
    """Without the invocation id the host drops a record (it never reaches Application Insights). run() runs on
    the adapter's runner thread here, not on the worker's thread that called the function."""
    invocation = drills.invoke_rpc("POST", "/score", {}, b'{"kind": "print", "payload": "p-7"}')
    assert invocation.response.result.status == drills.protos.StatusResult.Success
    printed = [log for log in drills.logs if log.category == "adapter.score" and "p-7" in log.message]
    assert [log.message for log in printed] == ["printed by run() p-7"]
    assert printed[0].invocation_id == invocation.request.invocation_id
    assert printed[0] in invocation.logs
    access = [log for log in invocation.logs if log.category == "adapter.request"]
    assert len(access) == 1 and access[0].message.startswith('"POST /score" 200 ')


def test_logs_written_by_run_on_the_worker_thread_carry_the_invocation_id(inline: tuple[FunctionsHost, Serve]) -> None:
    """run() inline, on the thread the worker called the function on (scoring timeout above functionTimeout)."""
    host, _ = inline
    invocation = host.invoke_rpc("POST", "/score", {}, b'{"kind": "print", "payload": "p-9"}')
    printed = [log for log in host.logs if log.category == "adapter.score" and "p-9" in log.message]
    assert [log.message for log in printed] == ["printed by run() p-9"]
    assert printed[0].invocation_id == invocation.request.invocation_id


def test_print_to_stderr_goes_to_the_worker_output_not_to_the_invocation_log(drills: FunctionsHost) -> None:
    drills.invoke("POST", "/score", {}, b'{"kind": "print", "payload": "p-8"}')
    assert not any("to stderr from run() p-8" in log.message for log in drills.logs)
    assert "to stderr from run() p-8" in drills.worker_output()


# -- what the platform hands a script ----------------------------------------------------------------------------------


def test_a_chunked_request_arrives_without_its_body_and_gets_411(echo: FunctionsHost) -> None:
    """The host forwards a body only with Content-Length > 0: a chunked request arrives with its
    Transfer-Encoding header, no Content-Length and an empty body (docs/platform.md), which the adapter answers
    with 411 rather than hand run() an empty body."""
    reply = echo.invoke("POST", "/score", {"Transfer-Encoding": "chunked", "Content-Type": "text/plain"}, None)
    assert reply.status == 411
    assert "Content-Length" in json.loads(reply.body)["message"]


FORWARDED = [
    ("203.0.113.7:51234", "203.0.113.7"),
    ("6.6.6.6, 203.0.113.7:51234", "203.0.113.7"),  # the first entry is whatever the client sent
    ("6.6.6.6, [2001:db8::5]:443", "2001:db8::5"),
    ("10.0.0.1,203.0.113.9", "203.0.113.9"),
    ("2001:db8::7", "2001:db8::7"),
]


@pytest.mark.parametrize(("forwarded", "address"), FORWARDED)
def test_remote_addr_is_the_address_the_front_end_appended(echo: FunctionsHost, forwarded: str, address: str) -> None:
    reply = echo.invoke("GET", "/score", {"X-Forwarded-For": forwarded})
    assert json.loads(reply.body)["remote_addr"] == address


@pytest.fixture
def echo_in_process() -> Iterator[InProcess]:
    target = InProcess(ECHO_ENV)
    yield target
    target.stop()


def test_remote_addr_is_never_the_client_supplied_first_entry(echo_in_process: InProcess) -> None:
    """Regression (issue 11): the first X-Forwarded-For entry was taken, which any client can forge."""
    for forwarded, address in FORWARDED:
        reply = echo_in_process.send(Request("GET", headers={"X-Forwarded-For": forwarded}))
        assert reply.json()["remote_addr"] == address, forwarded  # type: ignore[index]


# -- cookies ---------------------------------------------------------------------------------------------------------


def _cookie_target(cookies: list[str]) -> str:
    return "/score?" + urlencode([("cookie", c) for c in cookies])


def test_the_worker_itself_alters_these_cookies(worker: Worker, logs: Path) -> None:
    """What the platform does with no adapter in between (a bare function app): why the adapter refuses them."""
    accepted = ACCEPTED_COOKIE.replace(EXPIRES, "") if worker.proxy else ACCEPTED_COOKIE  # it would crash the proxy
    with FunctionsHost(WORKER_TESTS / "cookie_app", {}, logs / "cookie_app.log", worker=worker) as host:
        sent = {}
        for header in [accepted, *ALTERED_COOKIES]:
            invocation = host.invoke_rpc("POST", "/cookies", {}, json.dumps([header]).encode())
            sent[header] = [(c.name, c.value) for c in invocation.response.return_value.http.cookies]
    assert sent[accepted] == [("a", "1")]
    assert sent["p=pv-7; Partitioned; Secure; Path=/"] == []
    assert sent["q=qv-7; Priority=High"] == [("q", "qv-7"), ("Priority", "High")]
    assert sent["s=sv 7"] == [] and sent["u=uv-\u00e9t\u00e9"] == []
    assert sent['j="jv-7"'] == [("j", "jv-7")]
    assert sent["t=tv-7; Expires=Wed, 21 Oct 2026 07:28:00"] == []


def test_cookies_the_platform_carries_arrive_whole(echo: FunctionsHost) -> None:
    werkzeug_default = "sid=abc-123; Path=/; HttpOnly"
    invocation = echo.invoke_rpc("GET", _cookie_target([ACCEPTED_COOKIE, werkzeug_default]))
    a, sid = invocation.response.return_value.http.cookies
    assert (a.name, a.value, a.domain.value, a.path.value, a.max_age.value) == ("a", "1", "example.com", "/x", 60)
    assert (a.secure.value, a.http_only.value, a.same_site) == (True, True, echo.protos.RpcHttpCookie.Lax)
    if echo.worker.proxy:  # Expires would crash this worker: Max-Age alone says the same to a browser
        assert not a.HasField("expires")
    else:
        assert a.expires.value.seconds == 1792567680  # Wed, 21 Oct 2026 07:28:00 GMT
    assert (sid.name, sid.value, sid.path.value, sid.http_only.value) == ("sid", "abc-123", "/", True)
    reply = echo.invoke("GET", _cookie_target([werkzeug_default]))
    assert reply.headers["set-cookie"] == "sid=abc-123; domain=; path=/; httponly"  # as ASP.NET Core writes it


def test_an_expires_cookie_never_crashes_the_worker(echo: FunctionsHost) -> None:
    """Regression (issue 18): on the 3.13 proxy worker a cookie with Expires killed the process (upstream
    azure-functions-python-worker#1908) and every invocation in flight with it; it now goes as Max-Age there."""
    when = datetime.now(timezone.utc) + timedelta(hours=1)
    cookie = f"x=1; Expires={when.strftime('%a, %d %b %Y %H:%M:%S GMT')}; Path=/"
    invocation = echo.invoke_rpc("GET", _cookie_target([cookie]))
    (sent,) = invocation.response.return_value.http.cookies
    assert (sent.name, sent.value, sent.path.value) == ("x", "1", "/")
    if echo.worker.proxy:
        assert not sent.HasField("expires") and 3500 <= sent.max_age.value <= 3600
    else:
        assert sent.expires.value.seconds == int(when.timestamp()) and not sent.HasField("max_age")
    assert echo.alive() and echo.invoke("GET", "/").status == 200


@pytest.mark.parametrize("worker", ["proxy"], indirect=True)
def test_the_proxy_worker_itself_dies_on_an_expires_cookie(worker: Worker, logs: Path) -> None:
    """Why the adapter never hands the 3.13 worker Expires (a bare function app, no adapter). When this fails,
    upstream fixed #1908 and `adapter.http.cookies.EXPIRES_CRASHES_WORKER` can narrow."""
    with FunctionsHost(WORKER_TESTS / "cookie_app", {}, logs / "cookie_app_expires.log", worker=worker) as host:
        with pytest.raises(RuntimeError, match="no answer"):
            host.invoke_rpc("POST", "/cookies", {}, json.dumps([ACCEPTED_COOKIE]).encode())
        assert not host.alive()


@pytest.mark.parametrize("cookie", list(ALTERED_COOKIES))
def test_cookies_the_platform_would_alter_are_refused_with_a_logged_reason(echo: FunctionsHost, cookie: str) -> None:
    invocation = echo.invoke_rpc("GET", _cookie_target([cookie, "kept=1"]))
    http = invocation.response.return_value.http
    assert http.status_code == "200" and json.loads(http.body.bytes)["length"] == 0
    assert [(c.name, c.value) for c in http.cookies] == [("kept", "1")]  # never a changed or extra cookie
    name = cookie.partition("=")[0]
    errors = [log for log in invocation.logs if log.level == "Error"]
    assert len(errors) == 1 and errors[0].message.startswith(f"Set-Cookie {name!r} not sent: ")
    value = cookie.partition("=")[2].partition(";")[0].strip('"')
    assert value not in errors[0].message  # a cookie's value may be a secret


def test_refused_cookies_are_logged_not_sent_in_process(
    echo_in_process: InProcess, caplog: pytest.LogCaptureFixture
) -> None:
    """Regression (issue 11): such cookies went out to be silently altered or dropped by the worker."""
    caplog.set_level(logging.ERROR, logger="adapter")
    cookies = ["p=1; Partitioned; Secure", "kept=1; Path=/"]
    reply = echo_in_process.send(Request("GET", query=[("cookie", c) for c in cookies]))
    assert reply.status == 200
    assert reply.headers["set-cookie"] == "kept=1; Path=/"
    assert [r.getMessage().partition(":")[0] for r in caplog.records] == ["Set-Cookie 'p' not sent"]


def test_worker_reply_is_a_plain_tuple(echo: FunctionsHost) -> None:
    """Other tests unpack `invoke` as (status, headers, body, logs)."""
    status, headers, body, logs = echo.invoke("HEAD", "/")
    assert isinstance(echo.invoke("GET", "/"), WorkerReply)
    assert (status, body, headers["content-type"]) == (200, b"", "text/html; charset=utf-8")
    assert any(log.category == "adapter.request" for log in logs)
