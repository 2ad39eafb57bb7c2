"""The generated Power Query (M) function: one for every tabular schema shape (Inputs-wrapped and bare tables,
pandas records and split orients, NumPy 2-D, lists of records, `--columns` for scripts without a schema), Microsoft's
M parser accepts every variant, the command line says what it wrote or refuses in one line, and `/powerquery.pq`
serves it. tests/test_pq_scoring.py runs the functions with the M evaluator against `adapter serve`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pq_documents import UNDECORATED, positional_answer, swagger_document
from targets import ROOT, SCRIPTS, script_env

from adapter.openapi import mtext, powerquery
from adapter.script import entry_script
from adapter.settings import Settings

PARSER_DIR = Path(__file__).resolve().parent / "powerquery"
IMPORTS = """
import numpy as np
import pandas as pd
from inference_schema.parameter_types.numpy_parameter_type import NumpyParameterType
from inference_schema.parameter_types.pandas_parameter_type import PandasParameterType
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType as S
from inference_schema.schema_decorators import input_schema, output_schema


def init():
    pass

"""


def settings_for(app_root: Path, script: str = "score.py", **env: str) -> Settings:
    return Settings.from_env({"AML_APP_ROOT": str(app_root), "AZUREML_ENTRY_SCRIPT": script, **env})


def plan_for(
    app_root: Path, script: str = "score.py", url: str | None = None, columns: str | None = None, **env: str
) -> powerquery.Plan:
    settings = settings_for(app_root, script, **env)
    return powerquery.plan(settings, entry_script.load(settings), url, columns=columns)


def generate(
    app_root: Path,
    script: str = "score.py",
    url: str | None = None,
    table: str | None = None,
    columns: str | None = None,
    **env: str,
) -> str:
    settings = settings_for(app_root, script, **env)
    return powerquery.generate(settings, entry_script.load(settings), url, table=table, columns=columns)


def write_script(folder: Path, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "score.py").write_text(IMPORTS + body, encoding="utf-8")
    return folder


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


WEIRD_SOURCE = """
SAMPLE = pd.DataFrame({'say "hi"': [1.0], "#(lf) literal": [2.0], "line\\nbreak": ["x"], "naïve € 名": [True]})
GLOBALS = {"mode": 'quote " and #(tab)', "nested": {"list": [1, 2.5, None, True], "deep": {"k": "v"}}, "n": -3}


@input_schema("Inputs", S({"rows": PandasParameterType(SAMPLE), "let": 1.0, "in put": "x"}))
@input_schema("GlobalParameters", S(GLOBALS))
@output_schema(S({"Results": [{"label": "a", "p": 0.5}]}))
def run(Inputs, GlobalParameters):
    return {"Results": []}
"""

TWO_TABLES_SOURCE = """
@input_schema("Inputs", S({"left": PandasParameterType(pd.DataFrame({"a": [1.0]})),
                           "right": PandasParameterType(pd.DataFrame({"b": ["x"]}))}))
@output_schema(S({"Results": [1.0]}))
def run(Inputs):
    return {"Results": []}
"""

DATETIME_SOURCE = """
SAMPLE = pd.DataFrame({"x": [1.0], "when": pd.to_datetime(["2024-01-02"])})


@input_schema("data", PandasParameterType(SAMPLE))
def run(data):
    return [0.0] * len(data)
"""

SHAPES = ["pq_inputs.py", "pq_bare.py", "pq_split.py", "pq_numpy.py", "pq_records_list.py"]


def test_every_variant_parses_with_microsofts_parser(m_parser: Any, tmp_path: Path) -> None:
    weird = write_script(tmp_path / "weird", WEIRD_SOURCE)
    two = write_script(tmp_path / "two", TWO_TABLES_SOURCE)
    dates = write_script(tmp_path / "dates", DATETIME_SOURCE)
    positional = positional_app(tmp_path / "positional", ["p0", "p1", "p2"])
    url = "https://my-app.azurewebsites.net/api/score"
    texts = {
        "sample": generate(ROOT),
        "sample-url": generate(ROOT, url=url),
        "sample-bearer": generate(ROOT, AML_SCORING_KEYS="k1,k2"),
        "sample-bearer-url": generate(ROOT, url=url, AML_SCORING_KEYS="k1"),
        "nested-powerbi-shape": generate(SCRIPTS, "powerbi_shape.py"),
        "record-results": generate(SCRIPTS, "powerquery_batches.py", url="http://127.0.0.1:7071/score"),
        "weird-names": generate(weird, SERVICE_NAME='My "best" model\nv2'),
        "second-table": generate(two, table="right"),
        "datetime-column": generate(dates),
        "undecorated-columns": generate(
            SCRIPTS, "pq_undecorated.py", url=url, columns="id:integer,x:number,label:text"
        ),
        "pandas-orients": generate(SCRIPTS, "swagger_pandas_orients.py"),
        "positional-results": generate(positional),
        **{shape: generate(SCRIPTS, shape, url=url) for shape in SHAPES},
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
    assert mtext.text('a"b') == '"a""b"'
    assert mtext.text("x#(lf)y") == '"x#(#)(lf)y"'
    assert mtext.text("a\r\nb\tc\x00\u2028") == '"a#(cr)#(lf)b#(tab)c#(0000)#(2028)"'
    assert mtext.value({"k": [1, 2.5, None, True, "t"]}) == '[#"k" = {1, 2.5, null, true, "t"}]'
    assert mtext.value(float("nan")) == "null"
    assert mtext.identifier("threshold", set()) == "threshold"
    assert mtext.identifier("in put", set()) == "in_put"
    assert mtext.identifier("let", set()) == "let_"
    assert mtext.identifier("1st", set()) == "_1st"
    assert mtext.identifier("Key", {"Key"}) == "Key_"


def test_the_template_is_a_resource_file_and_every_placeholder_is_filled() -> None:
    from importlib import resources

    template = resources.files("adapter.openapi").joinpath("score_table.pq").read_text(encoding="utf-8")
    assert "ScoreTable = (Source as table" in template and "$payload" in template
    for text in (generate(ROOT), generate(SCRIPTS, "pq_split.py", url="https://a.example/score")):
        assert "$" not in text.replace("$title", "")


# --- One function for every tabular shape -------------------------------------------------------------------------


def test_the_seed_shape_sends_its_table_inside_inputs_and_the_other_members_as_parameters() -> None:
    plan = plan_for(SCRIPTS, "pq_inputs.py")
    assert plan.table_path == ("Inputs", "data") and plan.table_format == "records"
    assert [(c.name, c.type, c.required) for c in plan.columns] == [
        ("id", "integer", True),
        ("x", "number", True),
        ("label", "string", True),
    ]
    assert [(q.name, q.path, q.default) for q in plan.parameters] == [
        ("threshold", ("Inputs", "threshold"), 0.5),
        ("GlobalParameters", ("GlobalParameters",), {"offset": 0.0}),
    ]
    assert plan.result_fields == (("id", "Int64.Type"), ("score", "type number"), ("high", "type logical"))
    text = powerquery.render(plan)
    assert '[#"Inputs" = [#"data" = rows, #"threshold" = arguments[threshold]], ' in text
    assert "optional threshold as nullable number," in text
    assert "threshold = if threshold = null then 0.5 else threshold" in text
    assert 'Record.Combine({[#"offset" = 0.0], GlobalParameters})' in text
    assert 'ResultFieldTypes = {{"id", Int64.Type}, {"score", type number}, {"high", type logical}},' in text


def test_a_parameter_never_takes_a_name_the_function_itself_uses(tmp_path: Path) -> None:
    source = """
@input_schema("Inputs", S({"data": PandasParameterType(pd.DataFrame({"a": [1.0]})), "Rows": 1, "Size": 2, "Key": 3}))
def run(Inputs):
    return [0.0] * len(Inputs["data"])
"""
    plan = plan_for(write_script(tmp_path, source))
    assert [(q.name, q.path) for q in plan.parameters] == [
        ("Rows_", ("Inputs", "Rows")),
        ("Size_", ("Inputs", "Size")),
        ("Key_", ("Inputs", "Key")),
    ]
    assert '#"Rows" = arguments[Rows_]' in powerquery.render(plan)


def test_a_bare_pandas_table_is_sent_on_its_own() -> None:
    plan = plan_for(SCRIPTS, "pq_bare.py")
    assert plan.table_path == ("data",) and plan.table_format == "records" and plan.parameters == ()
    assert plan.result_type == "type number" and plan.result_fields == ()
    assert '[#"data" = rows]' in powerquery.render(plan)


def test_the_split_orient_under_any_name_sends_columns_index_and_data() -> None:
    plan = plan_for(SCRIPTS, "pq_split.py")
    assert plan.table_path == ("input_data",) and plan.table_format == "split"
    assert [(c.name, c.type) for c in plan.columns] == [("id", "integer"), ("x", "number"), ("label", "string")]
    assert plan.result_type == "type number"  # from {"predictions": [...]}
    text = powerquery.render(plan)
    assert '[#"input_data" = [columns = Columns, index = List.Positions(rows),' in text
    assert "data = List.Transform(rows, Record.FieldValues)]]" in text


def test_a_numpy_2d_table_gets_columns_named_from_the_example() -> None:
    plan = plan_for(SCRIPTS, "pq_numpy.py")
    assert plan.table_path == ("data",) and plan.table_format == "values"
    assert [(c.name, c.type) for c in plan.columns] == [
        ("Column1", "number"),
        ("Column2", "number"),
        ("Column3", "number"),
    ]
    assert plan.result_fields[0] == ("id", "Int64.Type")  # a bare list of records back
    renamed = plan_for(SCRIPTS, "pq_numpy.py", columns="id:number,x:number,len:number")
    assert [c.name for c in renamed.columns] == ["id", "x", "len"]


def test_a_list_of_records_without_pandas_is_a_table() -> None:
    plan = plan_for(SCRIPTS, "pq_records_list.py")
    assert plan.table_path == ("Inputs", "rows") and plan.table_format == "records"
    assert [c.name for c in plan.columns] == ["id", "x", "label"]


def test_a_script_without_a_schema_gets_its_columns_from_the_command_line() -> None:
    plan = plan_for(SCRIPTS, "pq_undecorated.py", columns="id:integer, x:number ,label:text,when:datetime,other")
    assert plan.table_path == ("data",) and plan.table_format == "records"
    assert [(c.name, c.type, c.format) for c in plan.columns] == [
        ("id", "integer", ""),
        ("x", "number", ""),
        ("label", "string", ""),
        ("when", "string", "date-time"),
        ("other", "", ""),
    ]
    assert plan.result_type == "type any"
    with pytest.raises(powerquery.PowerQueryError, match="--columns takes name:type pairs"):
        powerquery.parse_columns("a:float")
    with pytest.raises(powerquery.PowerQueryError, match="names 'a' twice"):
        powerquery.parse_columns("a,a:number")


def test_date_time_columns_are_sent_to_the_microsecond_in_utc(tmp_path: Path) -> None:
    plan = plan_for(write_script(tmp_path, DATETIME_SOURCE))
    assert [(c.name, c.format) for c in plan.columns] == [("x", "double"), ("when", "date-time")]
    text = powerquery.render(plan)
    assert 'DateTimeColumns = {"when"},' in text
    assert "DateTimeZone.RemoveZone(DateTimeZone.ToUtc(value))" in text and '"yyyy-MM-ddTHH:mm:ss.ffffff"' in text


RECORDS = {"type": "array", "items": {"type": "object", "required": ["a"], "properties": {"a": {"type": "number"}}}}


def positional_app(folder: Path, names: list[str], length: int | None = None) -> Path:
    """An undecorated script whose swagger.json declares a list of numbers per row with named positions."""
    folder.mkdir(parents=True)
    (folder / "score.py").write_text(UNDECORATED)
    body = {"type": "object", "properties": {"data": RECORDS}}
    (folder / "swagger.json").write_text(json.dumps(swagger_document(body, positional_answer(names, length))))
    return folder


#: azureml-examples' lightgbm-iris: a Booster answering 3 class probabilities per row, its output columns named
#: (by numbers, as its MLmodel writes them).
IRIS_MLMODEL = (
    "flavors:\n  python_function:\n    loader_module: mlflow.lightgbm\n"
    'signature:\n  inputs: \'[{"name": "sepal_length", "type": "double"}, {"name": "petal_length", '
    '"type": "double"}]\'\n  outputs: \'{outputs}\'\n'
)


@pytest.mark.parametrize(
    ("outputs", "fields"),
    [
        (
            '[{"name": 0, "type": "double"}, {"name": 1, "type": "double"}, {"name": 2, "type": "double"}]',
            ["0", "1", "2"],
        ),
        ('[{"type": "double"}, {"type": "double"}]', []),  # unnamed columns: a list column
        ('[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 3]}}]', []),
    ],
)
def test_an_mlflow_models_named_output_columns_name_the_positions_of_its_list_per_row(
    outputs: str, fields: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A library flavor answers a list per row (class probabilities) where the signature names columns: the plan
    makes a record of those names of each row's list, expanded into a number column each; without names, or for a
    tensor, the list stays a list."""
    model = tmp_path / "models" / "iris"
    model.mkdir(parents=True)
    (model / "MLmodel").write_text(IRIS_MLMODEL.replace("{outputs}", outputs))
    app = tmp_path / "app"
    app.mkdir()
    for name in ("AZUREML_MODEL_DIR", "MLFLOW_MODEL_FOLDER"):  # entry_script.load sets them: restored after
        monkeypatch.setenv(name, "")
    env = {"AML_APP_ROOT": str(app), "AZUREML_MODEL_DIR": str(tmp_path / "models"), "MLFLOW_MODEL_FOLDER": "iris"}
    settings = Settings.from_env(env)
    plan = powerquery.plan(settings, entry_script.load(settings))
    assert plan.positional == bool(fields)
    assert plan.result_fields == tuple((name, "type number") for name in fields)
    text = powerquery.render(plan)
    assert ('PositionNames = {"0", "1", "2"},' if fields else "PositionNames = null,") in text


def test_a_users_document_names_the_positions_of_a_fixed_length_list_per_row(tmp_path: Path) -> None:
    plan = plan_for(positional_app(tmp_path / "named", ["low", "high"]))
    assert plan.positional and plan.result_fields == (("low", "type number"), ("high", "type number"))
    # Names for another length than the list's, or repeated: the list stays a list.
    for folder, names, length in (("longer", ["low", "high"], 3), ("twice", ["p", "p"], None)):
        plan = plan_for(positional_app(tmp_path / folder, names, length))
        assert not plan.positional and plan.result_fields == () and plan.result_type == "type list"


def test_a_users_swagger_document_describes_the_table(tmp_path: Path) -> None:
    (tmp_path / "score.py").write_text(UNDECORATED)
    body = {"type": "object", "properties": {"Inputs": {"type": "object", "properties": {"t": RECORDS}}}}
    (tmp_path / "swagger.json").write_text(json.dumps(swagger_document(body)))
    plan = plan_for(tmp_path)
    assert plan.table_path == ("Inputs", "t") and plan.required_columns == ("a",) and plan.parameters == ()


def test_a_users_openapi3_document_with_a_split_table(tmp_path: Path) -> None:
    (tmp_path / "score.py").write_text(UNDECORATED)
    split = {
        "type": "object",
        "properties": {
            "columns": {"type": "array", "items": {"type": "string"}},
            "data": {"type": "array", "items": {"type": "array", "items": {}}},
        },
    }
    body = {
        "type": "object",
        "properties": {"input_data": split},
        "example": {"input_data": {"columns": ["a", "b"], "data": [[1.5, "x"]]}},
    }
    answer = {"type": "object", "properties": {"predictions": {"type": "array", "items": {"type": "number"}}}}
    (tmp_path / "swagger3.json").write_text(json.dumps(swagger_document(body, answer, version="3")))
    plan = plan_for(tmp_path)
    assert plan.table_path == ("input_data",) and plan.table_format == "split"
    assert [(c.name, c.type) for c in plan.columns] == [("a", "number"), ("b", "string")]
    assert plan.result_type == "type number"


def test_a_split_table_without_an_example_takes_its_names_and_types_from_the_schema(tmp_path: Path) -> None:
    (tmp_path / "score.py").write_text(UNDECORATED)
    split = {
        "type": "object",
        "properties": {
            "columns": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}},
            "data": {"type": "array", "items": {"type": "array", "items": [{"type": "number"}, {"type": "string"}]}},
        },
    }
    (tmp_path / "swagger.json").write_text(
        json.dumps(swagger_document({"type": "object", "properties": {"input_data": split}}))
    )
    plan = plan_for(tmp_path)
    assert plan.table_format == "split" and [(c.name, c.type) for c in plan.columns] == [
        ("a", "number"),
        ("b", "string"),
    ]
    split["properties"]["columns"] = {"type": "array", "items": {"type": "string"}}  # type: ignore[index]
    (tmp_path / "swagger.json").write_text(
        json.dumps(swagger_document({"type": "object", "properties": {"input_data": split}}))
    )
    with pytest.raises(powerquery.PowerQueryError, match="gives no column names; give them with --columns"):
        plan_for(tmp_path)
    assert [c.name for c in plan_for(tmp_path, columns="x,y").columns] == ["x", "y"]


def test_odd_keywords_in_a_hand_written_document_are_read_as_unknown(tmp_path: Path) -> None:
    """`required: true` and a list of types (as people write them by hand) once raised TypeError (a 500 on
    /powerquery.pq): they mean "not said"."""
    (tmp_path / "score.py").write_text(UNDECORATED)
    items = {"type": "object", "required": True, "properties": {"a": {"type": ["number", "null"]}, "b": "number"}}
    body = {"type": "object", "properties": {"data": {"type": "array", "items": items}, "k": {"type": 7}}}
    (tmp_path / "swagger.json").write_text(json.dumps(swagger_document(body)))
    plan = plan_for(tmp_path)
    assert [(c.name, c.type, c.required) for c in plan.columns] == [("a", "", False), ("b", "", False)]
    assert [(q.name, q.type) for q in plan.parameters] == [("k", "")]
    assert "optional k as any," in powerquery.render(plan)


def test_a_lone_surrogate_in_a_swagger_column_name_is_refused_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "score.py").write_text(UNDECORATED)
    table = {"type": "array", "items": {"type": "object", "properties": {"bad\ud800": {"type": "number"}}}}
    text = json.dumps(swagger_document({"type": "object", "properties": {"data": table}}))
    (tmp_path / "swagger.json").write_text(text)
    with pytest.raises(powerquery.PowerQueryError, match=r"column 'bad\\ud800' holds .* lone surrogate"):
        plan_for(tmp_path)


def deep_globals_app(folder: Path, depth: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "score.py").write_text(UNDECORATED)
    deep: Any = 1
    for _ in range(depth):
        deep = {"k": deep}
    body = {
        "type": "object",
        "properties": {"data": RECORDS, "GlobalParameters": {"type": "object"}},
        "example": {"data": [{"a": 1.0}], "GlobalParameters": deep},
    }
    (folder / "swagger.json").write_text(json.dumps(swagger_document(body)))
    return folder


def test_a_deeply_nested_example_is_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(powerquery.PowerQueryError, match="'GlobalParameters' is nested more than 32 levels deep"):
        plan_for(deep_globals_app(tmp_path, 900))
    assert plan_for(deep_globals_app(tmp_path / "ok", 20)).parameters[0].name == "GlobalParameters"


def test_the_url_is_a_literal_at_the_web_request_or_a_parameter() -> None:
    with_url = generate(ROOT, url="https://my-app.azurewebsites.net/score")
    assert 'Web.Contents("https://my-app.azurewebsites.net/score",' in with_url
    assert "Url as text" not in with_url
    without = generate(ROOT)
    assert "Web.Contents(Url," in without and "(Source as table, Url as text," in without


@pytest.mark.parametrize(
    ("url", "refused"),
    [
        ("https://my-app.azurewebsites.net/score", False),
        ("http://localhost:7071/score", False),
        ("http://127.0.0.1:7071/score", False),
        ("http://[::1]:7071/score", False),
        ("http://example.com/score", True),
        ("http://10.0.0.4/score", True),
        ("http://localhost.example.com/score", True),
        ("ftp://example.com/score", True),
        ("http://[::1/score", True),
        ("https://[::1/score", True),
    ],
)
def test_plain_http_is_refused_except_on_this_machine(url: str, refused: bool) -> None:
    if refused:
        with pytest.raises(powerquery.PowerQueryError, match="--url must"):
            powerquery.check_url(url)
    else:
        powerquery.check_url(url)


def test_the_key_travels_as_a_header_and_a_blank_key_is_an_error_unless_the_host_is_local() -> None:
    functions = generate(ROOT, url="https://my-app.azurewebsites.net/score")
    assert '[#"x-functions-key" = Key]' in functions and "KeyRequired = true," in functions
    assert "ApiKeyName" not in functions  # POST is anonymous-only in Power Query: no Web API credential path
    bearer = generate(ROOT, url="http://localhost:7071/score", AML_SCORING_KEYS="s3cret-primary,s3cret-secondary")
    assert '[Authorization = "Bearer " & Key]' in bearer and "KeyRequired = true," in bearer
    assert "s3cret" not in bearer  # the function asks for the key; it never holds one
    local = generate(ROOT, url="http://127.0.0.1:7071/score")
    assert "KeyRequired = false," in local  # a local host does not check Functions keys
    assert "KeyRequired = true," in generate(ROOT)  # the URL is an argument: whatever it is, a key is needed


def test_the_bundled_sample_sends_its_data_table() -> None:
    plan = plan_for(ROOT)
    assert plan.table_path == ("Inputs", "data")
    assert plan.required_columns == ("sepal_length", "sepal_width", "petal_length", "petal_width")
    assert [(q.name, q.default) for q in plan.parameters] == [("GlobalParameters", {"method": "predict"})]
    assert plan.result_type == "type text" and plan.auth == "functions"
    assert plan.summary() == "function ScoreTable, table data, 4 columns, batches of 1,000, parameters GlobalParameters"


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


def test_the_command_writes_the_function_and_says_what_it_wrote(tmp_path: Path) -> None:
    out = tmp_path / "score.pq"
    result = run_cli("powerbi_shape.py", "--out", str(out), "--url", "https://my-app.azurewebsites.net/score")
    assert result.returncode == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    assert text.startswith("// ScoreTable:") and 'Web.Contents("https://my-app.azurewebsites.net/score",' in text
    assert result.stdout == (
        "score.pq: function ScoreTable, table data, 2 columns, batches of 1,000, parameters GlobalParameters\n"
    )
    to_stdout = run_cli("pq_undecorated.py", "--columns", "id:integer,x:number,label:text")
    assert to_stdout.returncode == 0 and "Web.Contents(Url," in to_stdout.stdout
    assert to_stdout.stderr == "function ScoreTable, table data, 3 columns, batches of 1,000\n"


@pytest.mark.parametrize(
    ("script", "args", "expected"),
    [
        ("echo_undecorated.py", (), "error: run() is not decorated with inference-schema, so nothing says which"),
        ("raw_http.py", (), "error: run() is decorated with @rawhttp, so nothing says which table columns"),
        ("schema_standard.py", (), "error: run() takes no table (it takes 'a', 'b', 'c')"),
        (
            "powerbi_shape.py",
            ("--table", "nope"),
            "error: There is no table named 'nope'; the tables are 'Inputs.data'.",
        ),
        ("powerbi_shape.py", ("--url", "my-app/score"), "error: --url must be the scoring URL"),
        ("powerbi_shape.py", ("--url", "http://example.com/score"), "error: --url must use https://"),
        ("echo_undecorated.py", ("--columns", "a:wat"), "error: --columns takes name:type pairs"),
    ],
    ids=["undecorated", "rawhttp", "no-table", "unknown-table", "bad-url", "plain-http", "bad-columns"],
)
def test_scripts_it_cannot_serve_get_one_line_and_exit_2(script: str, args: tuple[str, ...], expected: str) -> None:
    result = run_cli(script, *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith(expected), result.stderr


def test_hostile_swagger_files_get_one_line_not_a_traceback(tmp_path: Path) -> None:
    surrogate = tmp_path / "surrogate"
    surrogate.mkdir()
    (surrogate / "score.py").write_text(UNDECORATED)
    table = {"type": "array", "items": {"type": "object", "properties": {"bad\ud800": {"type": "number"}}}}
    document = json.dumps(swagger_document({"type": "object", "properties": {"data": table}}))
    (surrogate / "swagger.json").write_text(document)
    assert "\\ud800" in document  # json.dumps escapes it: the file holds the escape, 6 characters
    result = run_cli("score.py", app_root=surrogate)
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("error: column 'bad\\ud800' holds"), result.stderr
    deep = run_cli("score.py", app_root=deep_globals_app(tmp_path / "deep", 900))
    assert deep.returncode == 2 and len(deep.stderr.splitlines()) == 1, deep.stderr
    assert deep.stderr.startswith("error: the example of 'GlobalParameters' is nested more than 32"), deep.stderr


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


def test_a_lone_surrogate_in_the_users_swagger_gets_a_404_not_a_500(tmp_path: Path) -> None:
    from targets import InProcess, Request

    (tmp_path / "score.py").write_text(UNDECORATED)
    table = {"type": "array", "items": {"type": "object", "properties": {"bad\ud800": {"type": "number"}}}}
    (tmp_path / "swagger.json").write_text(
        json.dumps(swagger_document({"type": "object", "properties": {"data": table}}))
    )
    target = InProcess({"AML_APP_ROOT": str(tmp_path), "AZUREML_ENTRY_SCRIPT": "score.py"})
    try:
        reply = target.send(Request("GET", "/powerquery.pq"))
    finally:
        target.stop()
    assert reply.status == 404, reply.body
    assert "lone surrogate" in reply.json()["message"]  # type: ignore[index]


# --- Whatever a document says: a function or one sentence ---------------------------------------------------------

_words = st.sampled_from(["type", "properties", "items", "example", "columns", "data", "index", "Inputs", "required"])
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.sampled_from(["array", "object", "x"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_words | st.text(max_size=3), inner, max_size=4),
    max_leaves=20,
)
_table_schemas = st.one_of(
    st.fixed_dictionaries(
        {
            "type": st.just("array"),
            "items": st.fixed_dictionaries({"type": st.just("object"), "properties": _json, "required": _json}),
        }
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("object"),
            "properties": st.fixed_dictionaries(
                {"columns": _json, "data": st.fixed_dictionaries({"type": st.just("array"), "items": _json})}
            ),
        }
    ),
    st.fixed_dictionaries(
        {"type": st.just("array"), "items": st.fixed_dictionaries({"type": st.just("array"), "items": _json})}
    ),
    _json,
)


@settings(
    max_examples=300,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    name=st.sampled_from(["data", "input_data", "Rows", "a b", "let"]),
    table=_table_schemas,
    others=_json,
    example=_json,
    answer=_json,
    wrapped=st.booleans(),
)
def test_any_document_gives_a_function_or_one_sentence(
    tmp_path: Path, name: str, table: Any, others: Any, example: Any, answer: Any, wrapped: bool
) -> None:
    properties = {name: table, "other": others}
    body = (
        {"type": "object", "properties": {"Inputs": {"type": "object", "properties": properties}}}
        if wrapped
        else {"type": "object", "properties": properties}
    )
    body["example"] = example
    (tmp_path / "score.py").write_text(UNDECORATED)
    (tmp_path / "swagger.json").write_text(
        json.dumps(swagger_document(body, answer if isinstance(answer, dict) else None))
    )
    try:
        plan = plan_for(tmp_path)
    except powerquery.PowerQueryError as ex:
        assert "\n" not in str(ex)
        return
    text = powerquery.render(plan)
    text.encode("utf-8")  # writable as the CLI and /powerquery.pq write it
    assert "$" not in text.replace("$title", "")
