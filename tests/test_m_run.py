"""The evaluator end to end: `python -m adapter powerquery` writes the function for a script, `serve` serves the
script, and `python -m tests.powerquery.run` applies the function to a CSV table through real HTTP. Also the CLI's
own contract (typing of CSV columns, arguments, error cells, exit codes)."""

from __future__ import annotations

import csv
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from powerquery.m.values import MError
from powerquery.run import apply, cell_text, read_csv
from powerquery.testing import generated_function
from targets import ROOT, Serve

SCRIPT = """
import pandas as pd
from inference_schema.parameter_types.pandas_parameter_type import PandasParameterType
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType as S
from inference_schema.schema_decorators import input_schema, output_schema


def init():
    pass


@input_schema("Inputs", S({"data": PandasParameterType(pd.DataFrame({"x": [1.0], "label": ["a"]}))}))
@output_schema(S({"Results": [1.0]}))
def run(Inputs):
    frame = Inputs["data"]
    if (frame["x"] < 0).any():
        raise ValueError("negative x")
    return {"Results": [float(x) * 2 for x in frame["x"]]}
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], str, Path]]:
    folder = tmp_path_factory.mktemp("m_run")
    (folder / "score_m.py").write_text(SCRIPT)
    env = {"AML_APP_ROOT": str(folder), "AZUREML_ENTRY_SCRIPT": "score_m.py"}
    server = Serve(env, folder / "serve.log")
    try:
        yield env, server.base, folder
    finally:
        server.stop()


@pytest.mark.slow
def test_the_generated_function_scores_a_shuffled_csv_in_order_with_error_cells_for_bad_rows(
    served: tuple[dict[str, str], str, Path], tmp_path: Path
) -> None:
    env, base, _ = served
    pq = tmp_path / "score.pq"
    pq.write_text(generated_function("--url", base + "/score", env=env), encoding="utf-8")
    xs = [float(i) for i in range(2500)]
    random.Random(7).shuffle(xs)
    bad = {17, 1800}
    for i in bad:
        xs[i] = -1.0
    data = tmp_path / "data.csv"
    with data.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "x", "label"])
        writer.writerows([i, x, f"r{i}"] for i, x in enumerate(xs))
    out = tmp_path / "scored.csv"
    done = subprocess.run(
        [sys.executable, "-m", "tests.powerquery.run", str(pq), "--table", str(data), "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    with out.open(newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["id", "x", "label", "Results"]
    assert [int(r[0]) for r in rows[1:]] == list(range(2500))
    for i, (_, x, _, result) in enumerate(rows[1:]):
        if i in bad:
            assert result.startswith("#error: ") and f"Row {i + 1}" in result, result
        else:
            assert float(result) == float(x) * 2


@pytest.mark.slow
def test_apply_gives_error_cells_as_m_errors(served: tuple[dict[str, str], str, Path]) -> None:
    env, base, _ = served
    columns, rows = apply(
        generated_function("--url", base + "/score", env=env), ["x", "label"], [[1.5, "a"], [-1, "b"], [3, "c"]]
    )
    assert columns == ["x", "label", "Results"]
    assert rows[0][2] == 3 and rows[2][2] == 6
    assert isinstance(rows[1][2], MError) and rows[1][2].reason == "DataSource.Error"


def test_csv_columns_are_typed_from_their_values(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("n,b,t,e,forced\n1,true,x,,2\n2.5,FALSE,7,,3\n,true,y,,\n", encoding="utf-8")
    columns, rows = read_csv(str(path), {"forced": "text"})
    assert columns == ["n", "b", "t", "e", "forced"]
    assert rows == [[1, True, "x", None, "2"], [2.5, False, "7", None, "3"], [None, True, "y", None, None]]
    with pytest.raises(ValueError, match="not a number"):
        read_csv(str(path), {"t": "number"})
    with pytest.raises(ValueError, match="not a column"):
        read_csv(str(path), {"nope": "text"})


def test_cells_are_written_as_text_and_errors_as_hash_error() -> None:
    assert cell_text(MError("DataSource.Error", "Row 3: bad")) == "#error: Row 3: bad"
    assert [cell_text(v) for v in (None, True, 2.0, 0.5, "s")] == ["", "true", "2", "0.5", "s"]
    assert cell_text({"a": [1, None]}) == '{"a":[1,null]}'


def run_cli(tmp_path: Path, pq: str, csv_text: str, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "f.pq").write_text(pq, encoding="utf-8")
    (tmp_path / "t.csv").write_text(csv_text, encoding="utf-8")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.powerquery.run",
            str(tmp_path / "f.pq"),
            "--table",
            str(tmp_path / "t.csv"),
            *args,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_cli_passes_key_and_named_arguments(tmp_path: Path) -> None:
    pq = (
        "(Source as table, optional Key as nullable text, optional Scale as nullable number, optional Tag as any) =>"
        ' Table.AddColumn(Source, "out", each Text.From([a] * (Scale ?? 1)) & "/" & (Key ?? "-") & "/"'
        " & Text.From(Tag[k]?))"
    )
    done = run_cli(tmp_path, pq, "a\n1\n2\n", "--key", "K", "--arg", "Scale=10", "--arg", 'Tag={"k": "v"}')
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["a,out", "1,10/K/v", "2,20/K/v"]


def test_the_cli_writes_error_cells_and_fails_on_a_failed_evaluation(tmp_path: Path) -> None:
    pq = '(Source as table) => Table.AddColumn(Source, "inv", each if [a] = 0 then error "zero" else 1 / [a])'
    done = run_cli(tmp_path, pq, "a\n0\n4\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["a,inv", "0,#error: zero", "4,0.25"]
    failed = run_cli(tmp_path, '(Source as table) => error Error.Record("DataSource.Error", "down")', "a\n1\n")
    assert (failed.returncode, failed.stderr.strip()) == (1, "DataSource.Error: down")


@pytest.mark.parametrize(
    ("pq", "args", "message"),
    [
        ("(Source as table) => Source", ["--arg", "Nope=1"], "no parameter 'Nope'"),
        ("(Source as table) => Source", ["--arg", "x=not json"], "not JSON"),
        ("(Source as table) => Source", ["--types", "a:blob"], "--types"),
        ("1", [], "not a function"),
    ],
)
def test_the_cli_refuses_bad_usage(tmp_path: Path, pq: str, args: list[str], message: str) -> None:
    done = run_cli(tmp_path, pq, "a\n1\n", *args)
    assert done.returncode in (1, 2) and message in done.stderr, done.stderr
