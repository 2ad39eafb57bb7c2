"""`/swagger.json`: the same documents and errors as azmlinfsrv 1.5.1 for every kind of score script, valid OpenAPI
every time, plus what we do better (paths under the real prefix, the real auth, no `init()`, built once, fixed-up
schemas) and `python -m adapter swagger`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate
from targets import ROOT, SCRIPTS, InProcess, Reply, Request, Serve, script_env

ID = {"X-Request-Id": "swagger-test"}
USER_FILES = Path(__file__).resolve().parent / "scripts_swagger_user"
TRANSPORT = {"date", "server", "x-ms-server-version", "content-length", "connection", "keep-alive", "transfer-encoding"}

VERSIONS: dict[str, list[tuple[str, str]]] = {
    "default": [],
    "v2": [("version", "2")],
    "v2.0": [("version", "2.0")],
    "v3": [("version", "3")],
    "v3.0": [("version", "3.0")],
    "v3.1": [("version", "3.1")],
    "invalid": [("version", "7")],
    "empty": [("version", "")],
}


def user_env(folder: str) -> dict[str, str]:
    return {"AML_APP_ROOT": str(USER_FILES / folder), "AZUREML_ENTRY_SCRIPT": "score.py"}


APPS: dict[str, dict[str, str]] = {
    "numpy": script_env("schema_numpy.py"),
    "pandas-records": script_env("schema_pandas.py"),
    "pandas-orients": script_env("swagger_pandas_orients.py"),
    "pandas-split-values": script_env("swagger_pandas_split.py"),
    "standard": script_env("schema_standard.py"),
    "standard-nested": script_env("swagger_standard_nested.py"),
    "mixed-list": script_env("swagger_mixed_list.py"),
    "powerbi": script_env("powerbi_shape.py"),
    "undecorated": script_env("echo_undecorated.py"),
    "rawhttp": script_env("raw_http.py"),
    "driver": script_env("driver_outer.py"),
    "user-files": user_env("preferred"),
    "user-fallback": user_env("fallback"),
    "path-prefix": script_env(
        "schema_numpy.py", SERVICE_PATH_PREFIX="/ml/iris/", SERVICE_NAME="Iris scorer", SERVICE_VERSION="2.1.0"
    ),
    "cors": script_env("schema_numpy.py", AML_CORS_ORIGINS="https://a.example"),
    # With AML-style keys our security definitions are AML's own, so the 2.0 document is azmlinfsrv's, byte for byte.
    "bearer-keys": script_env("powerbi_shape.py", AML_SCORING_KEYS="primary-key,secondary-key"),
}
ROUTING = {
    "head": Request("HEAD", "/swagger.json", headers=dict(ID)),
    "options": Request("OPTIONS", "/swagger.json", headers=dict(ID)),
    "post": Request("POST", "/swagger.json", headers=dict(ID), body=b"{}"),
    "repeated-version": Request("GET", "/swagger.json", query=[("version", "3"), ("version", "7")], headers=ID),
    "legacy-id": Request("GET", "/swagger.json", headers={"x-ms-request-id": "legacy-1", "TraceId": "t-1"}),
    "id-too-long": Request("GET", "/swagger.json", headers={"X-Request-Id": "x" * 101}),
}


def requests_for(app: str) -> dict[str, Request]:
    headers = {**ID, "Origin": "https://a.example"} if app == "cors" else ID
    cases = {
        name: Request("GET", "/swagger.json", query=query, headers=dict(headers)) for name, query in VERSIONS.items()
    }
    return {**cases, **ROUTING} if app == "numpy" else cases


PARAMS = [(app, case) for app in APPS for case in requests_for(app)]


def strict_json(body: bytes) -> Any:
    """Parse as standard JSON: no NaN or Infinity, which Python's json would accept."""

    def reject(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(body, parse_constant=reject)


def without_security(document: Any) -> Any:
    """The document less what describes auth, which is ours by design (tested on its own below)."""
    if not isinstance(document, dict):
        return document
    document = json.loads(json.dumps(document))
    document.pop("securityDefinitions", None)
    document.pop("security", None)
    document.get("components", {}).pop("securitySchemes", None)
    for item in document.get("paths", {}).values():
        for operation in item.values():
            operation.pop("security", None)
    return document


def headers_of(reply: Reply) -> dict[str, str]:
    headers = {k: v for k, v in reply.headers.items() if k not in TRANSPORT}
    if "allow" in headers:  # Flask lists a set of methods, in no stable order
        headers["allow"] = ", ".join(sorted(headers["allow"].split(", ")))
    for name in ("x-request-id", "x-ms-request-id"):
        if len(headers.get(name, "")) == 36:
            headers[name] = "<uuid4>"
    return headers


@pytest.mark.parametrize(("app", "case"), PARAMS, ids=[f"{a}-{c}" for a, c in PARAMS])
def test_same_document_as_azmlinfsrv(trios, app: str, case: str) -> None:  # type: ignore[no-untyped-def]
    trio = trios.get(APPS[app])
    request = requests_for(app)[case]
    expected = trio.reference.send(request)
    for target in (trio.in_process, trio.serve):
        reply = target.send(request)
        assert (reply.status, headers_of(reply)) == (expected.status, headers_of(expected))
        if reply.status != 200 or request.method != "GET":
            assert reply.body == expected.body
            continue
        ours = strict_json(reply.body)
        validate(ours)
        # Same structure, values and key order, security aside.
        assert json.dumps(without_security(ours)) == json.dumps(without_security(json.loads(expected.body)))
        if "AML_SCORING_KEYS" in APPS[app] and ours.get("swagger") == "2.0":
            assert reply.body == expected.body


def in_process(env: dict[str, str], version: str = "2") -> tuple[int, Any]:
    target = InProcess(env)
    try:
        reply = target.send(Request("GET", "/swagger.json", query=[("version", version)]))
    finally:
        target.stop()
    return reply.status, reply.json()


def test_security_describes_the_function_key_when_the_host_checks_keys() -> None:
    functions_key = {
        "FunctionsKey": {
            "type": "apiKey",
            "name": "x-functions-key",
            "in": "header",
            "description": "A function key or host key of the Function App.",
        },
        "FunctionsKeyQuery": {
            "type": "apiKey",
            "name": "code",
            "in": "query",
            "description": "The same key as a query parameter, for clients that cannot set headers.",
        },
    }
    either = [{"FunctionsKey": []}, {"FunctionsKeyQuery": []}]
    _, v2 = in_process(script_env("powerbi_shape.py"))
    assert v2["securityDefinitions"] == functions_key
    assert v2["paths"]["/score"]["post"]["security"] == either
    for version in ("3", "3.1"):
        _, v3 = in_process(script_env("powerbi_shape.py"), version)
        validate(v3)
        assert v3["components"]["securitySchemes"] == functions_key
        assert v3["paths"]["/score"]["post"]["security"] == either
        # The health probe and this document are anonymous: no document-wide requirement (azmlinfsrv has one).
        assert "security" not in v3
        assert all("security" not in v3["paths"][p]["get"] for p in ("/", "/swagger.json"))


def test_security_describes_a_bearer_key_when_aml_scoring_keys_are_set() -> None:
    bearer = {
        "Bearer": {
            "type": "apiKey",
            "name": "Authorization",
            "in": "header",
            "description": "For example: Bearer abc123",
        }
    }
    for version in ("2", "3", "3.1"):
        _, document = in_process(script_env("powerbi_shape.py", AML_SCORING_KEYS="k1"), version)
        schemes = document.get("securityDefinitions") or document["components"]["securitySchemes"]
        assert schemes == bearer
        assert document["paths"]["/score"]["post"]["security"] == [{"Bearer": []}]
        assert "security" not in document


def make_app(tmp_path: Path, route_prefix: str) -> Path:
    """A copy of this Function App whose host.json has its own routePrefix."""
    app = tmp_path / "app"
    shutil.copytree(ROOT / "adapter", app / "adapter", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "function_app.py", app)
    (app / "host.json").write_text(
        json.dumps({"version": "2.0", "extensions": {"http": {"routePrefix": route_prefix}}})
    )
    return app


def test_paths_are_where_the_app_really_serves_them(tmp_path: Path) -> None:
    """With host.json's routePrefix "api/v1", a client following the document reaches every route."""
    app = make_app(tmp_path, "api/v1")
    server = Serve(
        script_env("powerbi_shape.py"), tmp_path / "serve.log", app_root=app, health_path="/api/v1/", clean=True
    )
    try:
        document = server.send(Request("GET", "/api/v1/swagger.json")).json()
        assert isinstance(document, dict)
        validate(document)
        assert list(document["paths"]) == ["/api/v1/", "/api/v1/score", "/api/v1/swagger.json"]
        assert server.send(Request("GET", "/api/v1/")).body == b"Healthy"
        example = document["definitions"]["ServiceInput"]["example"]
        body = json.dumps(example).encode()
        scored = server.send(Request("POST", "/api/v1/score", headers={"Content-Type": "application/json"}, body=body))
        assert scored.status == 200 and "Results" in scored.json()  # type: ignore[operator]
        assert server.send(Request("GET", "/api/v1/swagger.json", query=[("version", "3")])).json()["paths"]  # type: ignore[index]
    finally:
        server.stop()


def test_a_gateway_prefix_goes_before_the_route_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    from adapter.openapi import swagger
    from adapter.script import entry_script
    from adapter.settings import Settings

    monkeypatch.chdir(os.getcwd())  # loading the script moves to its folder

    settings = Settings.from_env({**script_env("schema_numpy.py"), "SERVICE_PATH_PREFIX": "/gateway/ml/"})
    document = swagger.build(settings, entry_script.load(settings), "3.1", route_prefix="api")
    assert list(document["paths"]) == ["/gateway/ml/api/", "/gateway/ml/api/score", "/gateway/ml/api/swagger.json"]
    validate(document)


def test_serving_the_document_never_runs_init_and_builds_it_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from inference_schema import schema_util

    counted = schema_util.get_supported_versions
    calls: list[str] = []

    def counting(run: Any) -> Any:
        calls.append(run.__name__)
        return counted(run)

    monkeypatch.setattr(schema_util, "get_supported_versions", counting)
    counter = tmp_path / "init-calls.txt"
    target = InProcess({**script_env("init_counter.py"), "INIT_COUNTER_FILE": str(counter)})
    try:
        for version in ("2", "3", "3.1", "2", "7", "3"):
            target.send(Request("GET", "/swagger.json", query=[("version", version)]))
        assert not counter.exists()  # no init(): no model loaded just to describe the API
        assert len(calls) == 3  # one look per version, on the first request only
        assert target.send(Request("POST", body=b"x")).json() == {"init_calls": 1}
    finally:
        target.stop()


def test_the_document_is_served_while_init_keeps_failing() -> None:
    status, document = in_process({**script_env("init_fails.py"), "INIT_FAILS_MARKER": "/nonexistent"})
    assert status == 200 and document["definitions"]["ServiceInput"] == {"type": "object", "example": {}}


def test_a_script_that_cannot_be_imported_gets_a_503_json(tmp_path: Path) -> None:
    (tmp_path / "score.py").write_text("import missing_module_xyz\n")
    target = InProcess({"AML_APP_ROOT": str(tmp_path), "AZUREML_ENTRY_SCRIPT": "score.py"})
    try:
        reply = target.send(Request("GET", "/swagger.json"))
    finally:
        target.stop()
    assert reply.status == 503 and int(reply.headers["retry-after"]) >= 1
    # /swagger.json is anonymous: the import error (which may quote secrets) stays in the logs and on /score.
    assert reply.json() == {"message": "The entry script is not ready yet; the function logs say why."}


def test_invalid_configuration_is_a_500_json_without_details() -> None:
    """/swagger.json is anonymous: paths and values of a broken configuration stay in the logs."""
    status, body = in_process({**script_env("schema_numpy.py"), "AZUREML_ENTRY_SCRIPT": "nope.py"})
    assert (status, body) == (500, {"message": "The service is misconfigured; the function logs say how."})


def test_a_broken_user_swagger_file_is_a_500_naming_it(tmp_path: Path) -> None:
    shutil.copy(SCRIPTS / "schema_numpy.py", tmp_path / "score.py")
    (tmp_path / "swagger3.json").write_text('{"openapi": ')
    env = {"AML_APP_ROOT": str(tmp_path), "AZUREML_ENTRY_SCRIPT": "score.py"}
    status, body = in_process(env, "3")
    assert status == 500
    assert body["message"].startswith("swagger3.json in AML_APP_ROOT is not valid JSON: Expecting value")


def test_invalid_schemas_from_inference_schema_are_fixed(trios) -> None:  # type: ignore[no-untyped-def]
    """azmlinfsrv serves `"required": []`, `"required": [1, null]` and the example `NaN` as inference-schema writes
    them; ours are valid and strict JSON, and otherwise the same documents."""
    trio = trios.get(script_env("swagger_fixups.py", AML_SCORING_KEYS="k"))
    for version, where in (("2", "definitions"), ("3", "components"), ("3.1", "components")):
        request = Request("GET", "/swagger.json", query=[("version", version)])
        theirs_body = trio.reference.send(request).body
        ours = strict_json(trio.in_process.send(request).body)
        theirs = json.loads(theirs_body)
        validate(ours)
        with pytest.raises(ValueError):
            strict_json(theirs_body)
        if version != "3.1":
            with pytest.raises(Exception):  # noqa: B017 (the validator's error type varies with the version)
                validate(theirs)
        schemas = ours[where] if version == "2" else ours[where]["schemas"]
        service_input = schemas["ServiceInput"]
        assert service_input["properties"]["lookup"]["required"] == ["1", "null", "k"]
        empty_required = service_input["properties"]["options"].get("required")
        assert empty_required == ([] if version == "3.1" else None)  # 3.1's JSON Schema allows an empty list
        assert service_input["example"]["threshold"] is None
        assert schemas["ServiceOutput"]["example"]["Results"] == [None]
        for document in (ours, theirs):
            document_schemas = document[where] if version == "2" else document[where]["schemas"]
            del document_schemas["ServiceInput"], document_schemas["ServiceOutput"]
        assert json.dumps(without_security(ours)) == json.dumps(without_security(theirs))


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AML_", "AZUREML_", "SERVICE_"))}
    return subprocess.run(
        [sys.executable, "-m", "adapter", "swagger", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_swagger_command_writes_what_the_route_serves(tmp_path: Path) -> None:
    env = script_env("powerbi_shape.py", SERVICE_NAME="Power BI demo")
    out = tmp_path / "swagger31.json"
    done = run_cli(env, "--version", "3.1", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text()) == in_process(env, "3.1")[1]
    printed = run_cli(env)
    assert printed.returncode == 0 and json.loads(printed.stdout)["swagger"] == "2.0"


@pytest.mark.parametrize(
    ("env", "args", "status", "message"),
    [
        (script_env("swagger_mixed_list.py"), (), 1, "Swagger version [2] is not supported for the scoring script."),
        (script_env("schema_numpy.py"), ("--version", "4"), 1, "Swagger version [4] is not valid."),
        (script_env("schema_numpy.py", AZUREML_ENTRY_SCRIPT="nope.py"), (), 2, "AZUREML_ENTRY_SCRIPT must name"),
        (script_env("init_fails.py"), (), 0, ""),  # init() is not run, so its failure does not matter
    ],
)
def test_the_swagger_command_says_what_is_wrong(
    env: dict[str, str], args: tuple[str, ...], status: int, message: str
) -> None:
    done = run_cli(env, *args)
    assert done.returncode == status
    assert message in done.stderr and "Traceback" not in done.stderr


def test_the_swagger_command_names_a_script_that_cannot_be_imported(tmp_path: Path) -> None:
    (tmp_path / "score.py").write_text("import missing_module_xyz\n")
    done = run_cli({"AML_APP_ROOT": str(tmp_path), "AZUREML_ENTRY_SCRIPT": "score.py"})
    assert done.returncode == 1
    assert "error: the entry script score.py failed to import: ModuleNotFoundError(" in done.stderr


@pytest.mark.parametrize("kind", ["fifo", "folder"])
def test_a_user_swagger_file_that_is_not_a_regular_file_is_refused_without_opening_it(
    tmp_path: Path, kind: str
) -> None:
    """Issue 21 point 11: a FIFO named swagger.json hung GET /swagger.json (and the thread serving it) in open()."""
    import threading

    shutil.copy(SCRIPTS / "schema_numpy.py", tmp_path / "score.py")
    user_file = tmp_path / "swagger.json"
    os.mkfifo(user_file) if kind == "fifo" else user_file.mkdir()
    env = {"AML_APP_ROOT": str(tmp_path), "AZUREML_ENTRY_SCRIPT": "score.py"}
    answer: list[tuple[int, Any]] = []
    worker = threading.Thread(target=lambda: answer.append(in_process(env)), daemon=True)
    worker.start()
    worker.join(15)
    if worker.is_alive() and kind == "fifo":  # frees the thread that hung in open()
        os.close(os.open(user_file, os.O_WRONLY | os.O_NONBLOCK))
    assert answer, "GET /swagger.json hung"
    it_is = "a named pipe (FIFO)" if kind == "fifo" else "a folder"
    assert answer[0] == (500, {"message": f"swagger.json in AML_APP_ROOT is not a regular file: it is {it_is}."})
