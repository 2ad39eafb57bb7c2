"""The generated Power Query (M) function: Microsoft's M parser accepts every variant, the command line refuses
scripts it cannot serve in one line, and the batching contract the function follows scores a 50,000-row table
through `adapter serve` exactly once per row, in order, across a cold instance's 503."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from targets import ROOT, SCRIPTS, Serve, script_env

from adapter.openapi import powerquery
from adapter.script import entry_script
from adapter.settings import Settings

PARSER_DIR = Path(__file__).resolve().parent / "powerquery"
IMPORTS = """
import pandas as pd
from inference_schema.parameter_types.pandas_parameter_type import PandasParameterType
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType as S
from inference_schema.schema_decorators import input_schema, output_schema


def init():
    pass

"""


def settings_for(app_root: Path, script: str = "score.py", **env: str) -> Settings:
    return Settings.from_env({"AML_APP_ROOT": str(app_root), "AZUREML_ENTRY_SCRIPT": script, **env})


def plan_for(app_root: Path, script: str = "score.py", url: str | None = None, **env: str) -> powerquery.Plan:
    settings = settings_for(app_root, script, **env)
    return powerquery.plan(settings, entry_script.load(settings), url)


def generate(
    app_root: Path, script: str = "score.py", url: str | None = None, table: str | None = None, **env: str
) -> str:
    settings = settings_for(app_root, script, **env)
    return powerquery.generate(settings, entry_script.load(settings), url, table)


# --- Microsoft's M parser -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def m_parser() -> Callable[[dict[str, str], Path], subprocess.CompletedProcess[str]]:
    """Runs tests/powerquery/parse.js (@microsoft/powerquery-parser, installed by `npm ci` there, as .ci/run does)
    on named texts. In CI a missing node or parser fails the tests instead of skipping them."""
    node = shutil.which("node")
    missing = (
        "node is not installed"
        if node is None
        else "the M parser is not installed: run npm ci in tests/powerquery"
        if not (PARSER_DIR / "node_modules" / "@microsoft" / "powerquery-parser").is_dir()
        else None
    )
    if missing is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{missing} (.ci/run installs it)")
        pytest.skip(missing)
    assert node is not None

    def parse(texts: dict[str, str], folder: Path) -> subprocess.CompletedProcess[str]:
        files = []
        for name, text in texts.items():
            path = folder / f"{name}.pq"
            path.write_text(text, encoding="utf-8")
            files.append(str(path))
        return subprocess.run(
            [node, str(PARSER_DIR / "parse.js"), *files], capture_output=True, text=True, timeout=120, check=False
        )

    return parse


WEIRD_SOURCE = (
    IMPORTS
    + """
SAMPLE = pd.DataFrame({'say "hi"': [1.0], "#(lf) literal": [2.0], "line\\nbreak": ["x"], "naïve € 名": [True]})
GLOBALS = {"mode": 'quote " and #(tab)', "nested": {"list": [1, 2.5, None, True], "deep": {"k": "v"}}, "n": -3}


@input_schema("Inputs", S({"rows": PandasParameterType(SAMPLE), "other": [1.0]}))
@input_schema("GlobalParameters", S(GLOBALS))
@output_schema(S({"Results": [{"label": "a", "p": 0.5}]}))
def run(Inputs, GlobalParameters):
    return {"Results": []}
"""
)

TWO_TABLES_SOURCE = (
    IMPORTS
    + """
@input_schema("Inputs", S({"left": PandasParameterType(pd.DataFrame({"a": [1.0]})),
                           "right": PandasParameterType(pd.DataFrame({"b": ["x"]}))}))
@output_schema(S({"Results": [1.0]}))
def run(Inputs):
    return {"Results": []}
"""
)


def test_every_variant_parses_with_microsofts_parser(m_parser: Any, tmp_path: Path) -> None:
    (tmp_path / "weird").mkdir()
    (tmp_path / "weird" / "score.py").write_text(WEIRD_SOURCE, encoding="utf-8")
    (tmp_path / "two").mkdir()
    (tmp_path / "two" / "score.py").write_text(TWO_TABLES_SOURCE)
    url = "https://my-app.azurewebsites.net/api/score"
    texts = {
        "sample": generate(ROOT),
        "sample-url": generate(ROOT, url=url),
        "sample-bearer": generate(ROOT, AML_SCORING_KEYS="k1,k2"),
        "sample-bearer-url": generate(ROOT, url=url, AML_SCORING_KEYS="k1"),
        "nested-powerbi-shape": generate(SCRIPTS, "powerbi_shape.py"),
        "record-results": generate(SCRIPTS, "powerquery_batches.py", url="http://127.0.0.1:7071/score"),
        "weird-names": generate(tmp_path / "weird", SERVICE_NAME='My "best" model\nv2'),
        "second-table": generate(tmp_path / "two", table="right"),
    }
    result = m_parser(texts, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("ok ") == len(texts)


def test_the_parser_check_fails_on_broken_m(m_parser: Any, tmp_path: Path) -> None:
    text = generate(ROOT)
    broken = text[: text.rindex(")")] + text[text.rindex(")") + 1 :]  # drop the last closing parenthesis
    result = m_parser({"broken": broken}, tmp_path)
    assert result.returncode == 1
    assert "broken.pq:" in result.stderr and "error" in result.stderr


def test_text_literals_escape_what_could_end_them() -> None:
    assert powerquery.m_text('a"b') == '"a""b"'
    assert powerquery.m_text("x#(lf)y") == '"x#(#)(lf)y"'
    assert powerquery.m_text("a\r\nb\tc\x00\u2028") == '"a#(cr)#(lf)b#(tab)c#(0000)#(2028)"'
    assert powerquery.m_value({"k": [1, 2.5, None, True, "t"]}) == '[#"k" = {1, 2.5, null, true, "t"}]'
    assert powerquery.m_value(float("nan")) == "null"


def test_the_url_is_a_literal_at_the_web_request_or_a_parameter() -> None:
    with_url = generate(ROOT, url="https://my-app.azurewebsites.net/score")
    assert 'Web.Contents("https://my-app.azurewebsites.net/score",' in with_url
    assert "Url as text" not in with_url
    without = generate(ROOT)
    assert "Web.Contents(Url," in without and "(Source as table, Url as text," in without


def test_the_key_travels_as_the_deployment_wants_it() -> None:
    functions = generate(ROOT)
    assert '#"x-functions-key" = Key' in functions and 'ApiKeyName = "code"' in functions
    bearer = generate(ROOT, AML_SCORING_KEYS="s3cret-primary,s3cret-secondary")
    assert 'Authorization = "Bearer " & Key' in bearer and "ApiKeyName" not in bearer
    assert "s3cret" not in bearer  # the function asks for the key; it never holds one


def test_the_m_text_carries_the_plan() -> None:
    plan = plan_for(SCRIPTS, "powerquery_batches.py")
    text = powerquery.render(plan)
    assert plan.table_input == "data" and [c.name for c in plan.columns] == ["id", "x", "label"]
    assert plan.global_parameters == {"offset": 0.0} and plan.result_fields == ("id", "score", "seq")
    for line in (
        'TableInput = "data",',
        'Columns = {"id", "x", "label"},',
        'RequiredColumns = {"id", "x", "label"},',
        'DefaultGlobalParameters = [#"offset" = 0.0],',
        'ResultFields = {"id", "score", "seq"},',
        f"DefaultBatchSize = {plan.batch_size},",
        f"MaxRetries = {powerquery.MAX_RETRIES},",
        "RetriedStatuses = {429, 503},",
    ):
        assert line in text


def test_the_bundled_sample_sends_its_data_table() -> None:
    plan = plan_for(ROOT)
    assert plan.table_input == "data"
    assert plan.required_columns == ("sepal_length", "sepal_width", "petal_length", "petal_width")
    assert plan.global_parameters == {"method": "predict"}
    assert plan.result_type == "type text" and plan.auth == "functions"


def test_a_users_swagger_document_describes_the_table(tmp_path: Path) -> None:
    (tmp_path / "score.py").write_text("def init():\n    pass\n\n\ndef run(data):\n    return data\n")
    table = {"type": "array", "items": {"type": "object", "required": ["a"], "properties": {"a": {"type": "number"}}}}
    document = {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/score": {
                "post": {
                    "parameters": [{"name": "body", "in": "body", "schema": {"$ref": "#/definitions/In"}}],
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
        "definitions": {
            "In": {"type": "object", "properties": {"Inputs": {"type": "object", "properties": {"t": table}}}}
        },
    }
    (tmp_path / "swagger.json").write_text(json.dumps(document))
    plan = plan_for(tmp_path)
    assert plan.table_input == "t" and plan.required_columns == ("a",) and plan.global_parameters is None


def test_the_default_batch_stays_far_below_the_body_limit() -> None:
    wide = tuple(powerquery.Column(f"text_column_{i}", "string", True) for i in range(300))
    size = powerquery.default_batch_size(wide)
    rows = [{c.name: "x" * 250 for c in wide}] * size
    body = json.dumps({"Inputs": {"data": rows}}).encode()
    assert len(body) <= powerquery.BATCH_BODY_BYTES < 100 * 2**20 // 20
    narrow = (powerquery.Column("x", "number", True),)
    assert powerquery.default_batch_size(narrow) == powerquery.MAX_BATCH_ROWS
    huge = tuple(powerquery.Column(f"c{i}", "object", True) for i in range(10_000))
    assert powerquery.default_batch_size(huge) == 1


# --- The command line ---------------------------------------------------------------------------------------------


def run_cli(script: str, *args: str, app_root: Path = SCRIPTS) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AML_", "AZUREML_", "SCORING_", "SERVICE_"))}
    env.update(AML_APP_ROOT=str(app_root), AZUREML_ENTRY_SCRIPT=script)
    return subprocess.run(
        [sys.executable, "-m", "adapter", "powerquery", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_command_writes_the_function(tmp_path: Path) -> None:
    out = tmp_path / "score.pq"
    result = run_cli("powerbi_shape.py", "--out", str(out), "--url", "https://my-app.azurewebsites.net/score")
    assert result.returncode == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    assert text.startswith("// ScoreTable:") and 'Web.Contents("https://my-app.azurewebsites.net/score",' in text
    assert result.stdout == ""
    to_stdout = run_cli("powerbi_shape.py")
    assert to_stdout.returncode == 0 and "Web.Contents(Url," in to_stdout.stdout


@pytest.mark.parametrize(
    ("script", "args", "expected"),
    [
        ("echo_undecorated.py", (), "error: run() is not decorated with inference-schema"),
        ("raw_http.py", (), "error: run() is decorated with @rawhttp"),
        ("schema_standard.py", (), "error: run() has no 'Inputs' parameter (it takes 'a', 'b', 'c')"),
        ("powerbi_shape.py", ("--table", "nope"), "error: 'Inputs' has no table named 'nope'; its tables are 'data'."),
        ("powerbi_shape.py", ("--url", "my-app/score"), "error: --url must be the scoring URL"),
    ],
    ids=["undecorated", "rawhttp", "no-inputs", "unknown-table", "bad-url"],
)
def test_scripts_it_cannot_serve_get_one_line_and_exit_2(script: str, args: tuple[str, ...], expected: str) -> None:
    result = run_cli(script, *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith(expected), result.stderr


def test_inputs_without_a_table_is_refused(tmp_path: Path) -> None:
    (tmp_path / "score.py").write_text(
        IMPORTS + '@input_schema("Inputs", S({"x": 1.0}))\ndef run(Inputs):\n    return {}\n'
    )
    result = run_cli("score.py", app_root=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: 'Inputs' holds no table (a list of records"), result.stderr


# --- The batching contract, from Python, against `adapter serve` --------------------------------------------------


class ScoringFailed(Exception):
    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class PowerQueryContract:
    """What the generated M function does, step by step, in Python: check the columns, send the schema's columns
    in batches of `batch_size`, retry 429/503 after Retry-After (else 1, 2, 4... s), read error bodies, check one
    result per row, append the results (records expanded; names the table already has become `Results.<name>`)."""

    url: str
    plan: powerquery.Plan
    sleep: Callable[[float], None] = time.sleep
    session: requests.Session = field(default_factory=requests.Session)
    requests_sent: int = 0
    pauses: list[float] = field(default_factory=list)

    def score(
        self,
        table: list[dict[str, Any]],
        global_parameters: dict[str, Any] | None = None,
        batch_size: int | None = None,
    ) -> list[dict[str, Any]]:
        names = list(table[0]) if table else []
        missing = [c for c in self.plan.required_columns if c not in names]
        if missing:
            raise ScoringFailed(f"The table is missing the column(s) {', '.join(missing)} that the model needs")
        size = batch_size or self.plan.batch_size
        sent = [c.name for c in self.plan.columns if c.name in names] if self.plan.columns else names
        globals_ = self.plan.global_parameters
        if global_parameters is not None:
            globals_ = {**(globals_ or {}), **global_parameters}
        results: list[Any] = []
        for start in range(0, len(table), size):
            batch = table[start : start + size]
            payload: dict[str, Any] = {"Inputs": {self.plan.table_input: [{c: row[c] for c in sent} for row in batch]}}
            if globals_ is not None:
                payload["GlobalParameters"] = globals_
            first, last = start + 1, start + len(batch)
            response = self._post(json.dumps(payload).encode())
            if not 200 <= response.status_code < 300:
                raise ScoringFailed(self._failure(response, first, last), response.status_code)
            results += self._results_of(response.json(), len(batch), first, last)
        return self._append(table, names, results)

    def _post(self, body: bytes) -> requests.Response:
        for attempt in range(powerquery.MAX_RETRIES + 1):
            self.requests_sent += 1
            response = self.session.post(
                self.url, data=body, headers={"Content-Type": "application/json"}, timeout=powerquery.REQUEST_TIMEOUT_S
            )
            if response.status_code not in powerquery.RETRIED_STATUSES or attempt == powerquery.MAX_RETRIES:
                break
            try:
                pause = min(max(float(response.headers["Retry-After"].strip()), 0.5), 120)
            except (KeyError, ValueError):
                pause = min(2.0**attempt, 60)
            self.pauses.append(pause)
            self.sleep(pause)
        return response

    @staticmethod
    def _failure(response: requests.Response, first: int, last: int) -> str:
        try:
            message = response.json()["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text[:2000] or "(no message)"
        hint = " Try a smaller BatchSize." if response.status_code in powerquery.TOO_BIG_STATUSES else ""
        return f"The scoring service answered HTTP {response.status_code} for rows {first} to {last}: {message}{hint}"

    @staticmethod
    def _results_of(answer: Any, rows: int, first: int, last: int) -> list[Any]:
        results = answer.get("Results") if isinstance(answer, dict) else None
        if isinstance(results, dict) and len(results) == 1 and isinstance(next(iter(results.values())), list):
            results = next(iter(results.values()))
        if not isinstance(results, list):
            raise ScoringFailed(f"The answer for rows {first} to {last} has no Results list.")
        if len(results) != rows:
            raise ScoringFailed(f"The service returned {len(results)} results for the {rows} rows {first} to {last}")
        return results

    def _append(self, table: list[dict[str, Any]], names: list[str], results: list[Any]) -> list[dict[str, Any]]:
        records = any(isinstance(r, dict) for r in results) and all(isinstance(r, dict) or r is None for r in results)
        if not records:
            column = _unique("Results", names)
            return [{**row, column: result} for row, result in zip(table, results, strict=True)]
        fields = list(dict.fromkeys([*self.plan.result_fields, *(k for r in results if r for k in r)]))
        renamed = {f: _unique(f"Results.{f}", names) if f in names else f for f in fields}
        return [
            {**row, **{renamed[f]: (result or {}).get(f) for f in fields}}
            for row, result in zip(table, results, strict=True)
        ]


def _unique(name: str, taken: list[str]) -> str:
    while name in taken:
        name += "_"
    return name


def _serve(logs: Path) -> Serve:
    return Serve(script_env("powerquery_batches.py", SCORING_INIT_RETRY_MS="1000"), logs / "powerquery.serve.log")


@pytest.fixture
def cold_serve(tmp_path: Path) -> Iterator[Serve]:
    """`adapter serve` on powerquery_batches.py, never called yet: its init() fails once, then works."""
    server = _serve(tmp_path)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def warm_serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    """The same, shared by the tests that do not count on a cold start (the contract retries it either way)."""
    server = _serve(tmp_path_factory.mktemp("logs"))
    yield server
    server.stop()


ROWS = 50_000


def test_a_50000_row_table_is_scored_once_per_row_in_order(cold_serve: Serve) -> None:
    plan = plan_for(SCRIPTS, "powerquery_batches.py")
    client = PowerQueryContract(cold_serve.base + "/score", plan)
    # `name` is not in the schema: it stays in the table and is not sent.
    table = [{"name": f"row {i}", "id": i, "x": i / 7, "label": "abc"[i % 3]} for i in range(ROWS)]
    started = time.monotonic()
    scored = client.score(table, global_parameters={"offset": 1.5})
    elapsed = time.monotonic() - started

    batches = math.ceil(ROWS / plan.batch_size)
    assert client.pauses == [1.0], "the cold instance's 503 is retried once, after its Retry-After"
    assert client.requests_sent == batches + 1
    assert len(scored) == ROWS
    for i, row in enumerate(scored):
        assert row["name"] == f"row {i}" and row["id"] == i  # the input row, unchanged, in its place
        assert row["Results.id"] == i  # its own result ("id" was taken, so the result's id is Results.id)
        assert row["score"] == pytest.approx(i / 7 * 2 + 1.5)  # GlobalParameters: the override reached run()
        assert row["seq"] == i  # scored exactly once, in order: no row repeated or skipped across batches
    print(f"{ROWS} rows in {batches} batches of {plan.batch_size}: {elapsed:.1f} s including a 1 s retry pause")


def test_a_ragged_last_batch_stays_aligned(warm_serve: Serve) -> None:
    plan = plan_for(SCRIPTS, "powerquery_batches.py")
    client = PowerQueryContract(warm_serve.base + "/score", plan)
    table = [{"id": i, "x": float(i), "label": "a"} for i in range(1_000)]
    scored = client.score(table, batch_size=333)
    assert client.requests_sent - len(client.pauses) == 4
    assert [row["Results.id"] for row in scored] == list(range(1_000))
    assert [row["score"] for row in scored] == [2.0 * i for i in range(1_000)]  # the default offset, 0.0


def test_an_error_answer_becomes_a_readable_error_naming_the_rows(warm_serve: Serve) -> None:
    plan = plan_for(SCRIPTS, "powerquery_batches.py")
    client = PowerQueryContract(warm_serve.base + "/score", plan)
    table = [{"id": i, "x": None if i == 1_234 else 1.0, "label": "a"} for i in range(2_000)]
    with pytest.raises(ScoringFailed) as failure:
        client.score(table, batch_size=1_000)
    assert failure.value.status == 400
    assert str(failure.value) == "The scoring service answered HTTP 400 for rows 1001 to 2000: row id 1234 has no x"


def test_missing_columns_are_named_before_anything_is_sent(warm_serve: Serve) -> None:
    plan = plan_for(SCRIPTS, "powerquery_batches.py")
    client = PowerQueryContract(warm_serve.base + "/score", plan)
    with pytest.raises(ScoringFailed, match="missing the column[(]s[)] x, label that the model needs"):
        client.score([{"id": 1, "X": 1.0}])
    assert client.requests_sent == 0


# --- GET /powerquery.pq -------------------------------------------------------------------------------------------


def test_the_app_serves_its_power_query_function_with_its_own_scoring_url(m_parser: Any, tmp_path: Path) -> None:
    from targets import InProcess, Request

    target = InProcess(script_env("powerbi_shape.py", AML_SCORING_KEYS="k"))
    try:
        reply = target.send(Request("GET", "/powerquery.pq"))
        again = target.send(Request("GET", "/powerquery.pq", headers={"Authorization": "Bearer wrong"}))
    finally:
        target.stop()
    assert reply.status == 200 and reply.headers["content-type"] == "text/plain; charset=utf-8"
    text = reply.body.decode()
    assert '"http://localhost:7071/score"' in text  # the URL the function was fetched from, at /score
    assert again.status == 200 and again.body == reply.body  # anonymous, and the same answer each time
    settings = settings_for(SCRIPTS, "powerbi_shape.py", AML_SCORING_KEYS="k")
    assert text == powerquery.generate(settings, entry_script.load(settings), "http://localhost:7071/score")
    result = m_parser({"served": text}, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_script_without_a_table_schema_gets_a_404_saying_why() -> None:
    from targets import InProcess, Request

    target = InProcess(script_env("echo_undecorated.py"))
    try:
        reply = target.send(Request("GET", "/powerquery.pq"))
    finally:
        target.stop()
    assert reply.status == 404
    assert reply.json()["message"].startswith(  # type: ignore[index]
        "There is no Power Query function for this script: run() is not decorated with inference-schema"
    )
