"""The Power BI check (`python -m adapter check`'s "Power BI shape" step): a script is ready when `python -m adapter
powerquery` can write its function, which every tabular schema shape allows; the others are told why in one
sentence; a user's swagger file is also validated as OpenAPI 2.0."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pq_documents import UNDECORATED, swagger_document
from targets import ROOT, SCRIPTS

from adapter.openapi import powerbi
from adapter.script import entry_script
from adapter.settings import Settings

CANNOT = "python -m adapter powerquery cannot write its Power Query function: "
TABLE = {"type": "array", "items": {"type": "object", "properties": {"a": {"type": "number"}}}}


def problems_of(app_root: Path, script: str = "score.py") -> list[str]:
    settings = Settings.from_env({"AML_APP_ROOT": str(app_root), "AZUREML_ENTRY_SCRIPT": script})
    return powerbi.problems(settings, entry_script.load(settings))


@pytest.mark.parametrize(
    "script",
    [
        "powerbi_shape.py",  # Inputs-wrapped, GlobalParameters
        "schema_pandas.py",  # a bare PandasParameterType: what most AML examples do, refused before
        "schema_numpy.py",  # NumPy 2-D
        "pq_split.py",  # pandas' split orient under input_data
        "pq_records_list.py",  # a list of records without pandas
    ],
)
def test_every_tabular_shape_is_ready(script: str) -> None:
    assert problems_of(SCRIPTS, script) == []


def test_the_bundled_sample_is_ready() -> None:
    assert problems_of(ROOT) == []


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("echo_undecorated.py", "run() is not decorated with inference-schema, so nothing says which table columns"),
        ("raw_http.py", "run() is decorated with @rawhttp, so nothing says which table columns"),
        ("schema_standard.py", "run() takes no table (it takes 'a', 'b', 'c')"),
    ],
)
def test_scripts_without_a_table_say_why(script: str, expected: str) -> None:
    found = problems_of(SCRIPTS, script)
    assert len(found) == 1 and found[0].startswith(CANNOT + expected), found


def user_app(folder: Path, document: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "score.py").write_text(UNDECORATED)
    (folder / "swagger.json").write_text(json.dumps(document))
    return folder


def test_a_users_swagger_file_with_a_table_makes_an_undecorated_script_ready(tmp_path: Path) -> None:
    body = {"type": "object", "properties": {"data": TABLE}}
    assert problems_of(user_app(tmp_path / "ok", swagger_document(body))) == []
    no_table = problems_of(user_app(tmp_path / "none", swagger_document({"type": "object", "properties": {}})))
    assert no_table == [
        CANNOT + "run() takes no table: Power BI sends a table as a list of records (PandasParameterType("
        "sample_frame), a list of dicts), pandas' split orient or a NumPy 2-D array."
    ]


def test_an_invalid_user_document_is_reported(tmp_path: Path) -> None:
    body = {"type": "object", "properties": {"data": TABLE}}
    found = problems_of(user_app(tmp_path, swagger_document(body, described=False)))
    assert len(found) == 1 and found[0].startswith("The user's Swagger 2.0 document is not valid OpenAPI 2.0: ")
    (tmp_path / "swagger.json").write_text("{not json")
    assert problems_of(tmp_path) == [
        CANNOT + "The user's swagger file cannot be read: swagger.json in AML_APP_ROOT is not valid JSON: Expecting "
        "property name enclosed in double quotes: line 1 column 2 (char 1)."
    ]
