"""The Power BI shape check: the bundled sample passes, and each way a script can miss the shape is named plainly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from targets import ROOT, SCRIPTS

from adapter.openapi import powerbi
from adapter.script import entry_script
from adapter.settings import Settings

USER_FILES = Path(__file__).resolve().parent / "scripts_swagger_user"
IMPORTS = """
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType as S
from inference_schema.schema_decorators import input_schema, output_schema


def init():
    pass

"""


def problems_of(app_root: Path, script: str = "score.py") -> list[str]:
    settings = Settings.from_env({"AML_APP_ROOT": str(app_root), "AZUREML_ENTRY_SCRIPT": script})
    return powerbi.problems(settings, entry_script.load(settings))


def problems_of_source(tmp_path: Path, source: str) -> list[str]:
    (tmp_path / "score.py").write_text(IMPORTS + source)
    return problems_of(tmp_path)


def test_the_bundled_sample_is_power_bi_ready() -> None:
    assert problems_of(ROOT) == []


def test_a_nested_inputs_and_global_parameters_script_is_ready() -> None:
    assert problems_of(SCRIPTS, "powerbi_shape.py") == []


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("echo_undecorated.py", ["run() is not decorated with inference-schema"]),
        ("raw_http.py", ["run() is decorated with @rawhttp, so there is no schema for Power BI to read."]),
        (
            "schema_numpy.py",
            [
                "run() has no 'Inputs' parameter (it takes 'data'); Power BI sends its data as 'Inputs'.",
                "run()'s output is described as an array; Power BI reads an object with 'Results'",
            ],
        ),
        (
            "schema_standard.py",
            [
                "run() has no 'Inputs' parameter (it takes 'a', 'b', 'c')",
                "run()'s output is not described (no @output_schema)",
            ],
        ),
        (
            "swagger_mixed_list.py",
            [
                "There is no valid Swagger 2.0 document, which Power BI reads: Swagger version [2] is not supported "
                "for the scoring script."
            ],
        ),
    ],
)
def test_scripts_that_miss_the_shape_say_why(script: str, expected: list[str]) -> None:
    found = problems_of(SCRIPTS, script)
    assert len(found) == len(expected), found
    for problem, start in zip(found, expected, strict=True):
        assert problem.startswith(start)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            '@input_schema("inputs", S({"data": [1.0]}))\n@output_schema(S({"Results": [1.0]}))\n'
            "def run(inputs):\n    return {}\n",
            "The input 'inputs' must be named exactly 'Inputs': Power BI's names are case-sensitive.",
        ),
        (
            '@input_schema("Inputs", S([1.0, 2.0]))\n@output_schema(S({"Results": [1.0]}))\n'
            "def run(Inputs):\n    return {}\n",
            "'Inputs' is described as an array; Power BI needs an object of named tables or values",
        ),
        (
            '@input_schema("limit", S(3))\n@input_schema("Inputs", S({"data": [1.0]}))\n'
            '@output_schema(S({"Results": [1.0]}))\ndef run(Inputs, limit):\n    return {}\n',
            "Power BI sends only 'Inputs' and 'GlobalParameters', but run() also takes 'limit'.",
        ),
        (
            '@input_schema("GlobalParameters", S({"k": 1}))\n@input_schema("Inputs", S({"data": [1.0]}))\n'
            '@output_schema(S({"Results": [1.0]}))\ndef run(GlobalParameters, Inputs):\n    return {}\n',
            "'Inputs' must be run()'s first parameter; the first is 'GlobalParameters'.",
        ),
        (
            '@input_schema("Inputs", S({"data": [1.0]}))\n@output_schema(S({"results": [1.0]}))\n'
            "def run(Inputs):\n    return {}\n",
            "The output 'results' must be named exactly 'Results': Power BI's names are case-sensitive.",
        ),
        (
            '@input_schema("Inputs", S({"data": [1.0]}))\n@output_schema(S({"scores": [1.0]}))\n'
            "def run(Inputs):\n    return {}\n",
            "run()'s output has no 'Results' (it has 'scores'); Power BI reads the scores from it.",
        ),
    ],
    ids=[
        "lower-case-inputs",
        "inputs-not-object",
        "extra-parameter",
        "order",
        "results-case",
        "no-results",
    ],
)
def test_each_missing_piece_is_named(tmp_path: Path, source: str, expected: str) -> None:
    found = problems_of_source(tmp_path, source)
    assert any(problem.startswith(expected) for problem in found), found


def test_the_users_swagger_file_is_what_power_bi_reads() -> None:
    # fallback/: a script with no 2.0 document of its own, but the user's swagger2.json has the shape.
    assert problems_of(USER_FILES / "fallback") == []
    assert problems_of(USER_FILES / "preferred") == []


def test_an_invalid_user_document_is_reported(tmp_path: Path) -> None:
    document = json.loads((USER_FILES / "preferred" / "swagger.json").read_text())
    del document["paths"]["/score"]["post"]["responses"]["200"]["description"]
    (tmp_path / "swagger.json").write_text(json.dumps(document))
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "swagger2.json").write_text("{not json")
    source = '@input_schema("Inputs", S({"x": 1.0}))\ndef run(Inputs):\n    return {}\n'
    found = problems_of_source(tmp_path, source)
    assert len(found) == 1 and found[0].startswith("The user's Swagger 2.0 document is not valid OpenAPI 2.0: ")
    (tmp_path / "broken" / "score.py").write_text(IMPORTS + source)
    assert problems_of(tmp_path / "broken") == [
        "There is no valid Swagger 2.0 document, which Power BI reads: swagger2.json in AML_APP_ROOT is not valid "
        "JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)."
    ]


def test_a_document_fetched_from_a_service_can_be_checked_on_its_own() -> None:
    assert powerbi.document_problems({"openapi": "3.0.3"}) == [
        "The Swagger document is not version 2.0, the version Power BI reads."
    ]
    document = json.loads((USER_FILES / "preferred" / "swagger.json").read_text())
    assert powerbi.document_problems(document) == []
