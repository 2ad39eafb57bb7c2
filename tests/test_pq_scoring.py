"""The generated Power Query functions, executed: for each tabular schema shape, the function `powerquery` writes is
run by the M evaluator (tests/powerquery) against `adapter serve` on a 10,000-row table whose ids are shuffled and
which holds 3 bad rows. Every other row gets its own result, in its place (checked against the model's formula and
against scoring the row alone), and the bad rows get error cells naming them. Also: the cold start's 503 retried,
the key rules, StopOnError, and the command line on a CSV file."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import random
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pq_evaluator import MError, apply, apply_typed, traffic
from targets import ROOT, SCRIPTS, Serve, script_env

from adapter.openapi import powerquery
from adapter.script import entry_script
from adapter.settings import Settings

ROWS = 10_000
BAD_IDS = (17, 4_321, 9_998)  # ids whose x is negative: the model refuses them
LABELS = ("a", "bb", "ccc")


def source_rows(count: int = ROWS, bad: tuple[int, ...] = BAD_IDS, seed: int = 19) -> list[dict[str, Any]]:
    """`count` rows with shuffled ids: id, x (a number, negative for the bad ids), label, and `name`, which no
    schema has (it stays in the table and is not sent)."""
    ids = list(range(count))
    random.Random(seed).shuffle(ids)
    return [
        {"name": f"row {i}", "id": i, "x": -1.0 if i in bad else (i * 37 % 1000) / 8, "label": LABELS[i % 3]}
        for i in ids
    ]


def expected(row: dict[str, Any], threshold: float = 0.5, offset: float = 0.0) -> dict[str, Any]:
    """tests/scripts/pq_shapes.py's model for one row."""
    value = row["x"] * 2 + len(row["label"]) + offset
    return {"id": row["id"], "score": value, "high": value > threshold}


@dataclass(frozen=True)
class Shape:
    script: str
    #: The table's columns and a row's cells, from a source row.
    columns: tuple[str, ...]
    cells: Callable[[dict[str, Any]], list[Any]]
    #: The result cells of a good row, by result column.
    results: Callable[[dict[str, Any]], dict[str, Any]]
    arguments: dict[str, Any] = field(default_factory=dict)
    columns_option: str | None = None
    #: What the service says about a bad row (its own 400, or run() raising: the adapter's 500).
    message: str = ""
    status: int = 400


def _records(row: dict[str, Any]) -> list[Any]:
    return [row["name"], row["id"], row["x"], row["label"]]


def _record_results(row: dict[str, Any], threshold: float = 0.5, offset: float = 0.0) -> dict[str, Any]:
    result = expected(row, threshold, offset)
    return {"Results.id": result["id"], "score": result["score"], "high": result["high"]}


RAISED = "An unexpected error occurred in scoring script"
SHAPES = {
    "inputs-records-with-parameters": Shape(
        "pq_inputs.py",
        ("name", "id", "x", "label"),
        _records,
        lambda row: _record_results(row, threshold=10.0, offset=1.5),
        arguments={"threshold": 10.0, "GlobalParameters": {"offset": 1.5}},
        message="row id {id} has a negative x",
    ),
    "bare-pandas-records": Shape(
        "pq_bare.py",
        ("name", "id", "x", "label"),
        _records,
        lambda row: {"Results": expected(row)["score"]},
        message=RAISED,
        status=500,
    ),
    "split-orient-input-data": Shape(
        "pq_split.py",
        ("name", "id", "x", "label"),
        _records,
        lambda row: {"Results": expected(row)["score"]},
        message=RAISED,
        status=500,
    ),
    "numpy-2d": Shape(
        "pq_numpy.py",
        ("name", "Column1", "Column2", "Column3"),
        lambda row: [row["name"], row["id"], row["x"], len(row["label"])],
        lambda row: expected(row),
        message=RAISED,
        status=500,
    ),
    "list-of-records": Shape(
        "pq_records_list.py",
        ("name", "id", "x", "label"),
        _records,
        _record_results,
        message=RAISED,
        status=500,
    ),
    "undecorated-with-columns": Shape(
        "pq_undecorated.py",
        ("name", "id", "x", "label"),
        _records,
        lambda row: {"Results": expected(row)["score"]},
        columns_option="id:integer,x:number,label:text",
        message=RAISED,
        status=500,
    ),
}


def function_text(script: str, url: str, columns: str | None = None, **env: str) -> str:
    settings = Settings.from_env({"AML_APP_ROOT": str(SCRIPTS), "AZUREML_ENTRY_SCRIPT": script, **env})
    return powerquery.generate(settings, entry_script.load(settings), url, columns=columns)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Serve]]:
    """`adapter serve` per script, started on first use and kept for the module."""
    logs = tmp_path_factory.mktemp("serve-logs")
    started: dict[str, Serve] = {}

    def get(script: str) -> Serve:
        if script not in started:
            started[script] = Serve(script_env(script), logs / f"{script}.log")
        return started[script]

    yield get
    for server in started.values():
        server.stop()


def close(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, int | float) and isinstance(b, int | float) and math.isclose(a, b, rel_tol=1e-12)
    return bool(a == b)


@pytest.mark.parametrize("shape_name", list(SHAPES))
def test_each_shape_scores_10000_shuffled_rows_in_place_and_names_its_3_bad_rows(
    shape_name: str, servers: Callable[[str], Serve]
) -> None:
    shape = SHAPES[shape_name]
    server = servers(shape.script)
    text = function_text(shape.script, server.base + "/score", shape.columns_option)
    rows = source_rows()
    sent_before = traffic()
    columns, scored = apply(text, shape.columns, [shape.cells(r) for r in rows], arguments=shape.arguments)
    requests = traffic() - sent_before

    result_columns = list(shape.results(rows[0]))
    assert columns == [*shape.columns, *result_columns]
    assert len(scored) == ROWS
    bad_seen = []
    for position, (row, out) in enumerate(zip(rows, scored, strict=True), start=1):
        assert out[: len(shape.columns)] == shape.cells(row)  # the row itself, unchanged, in its place
        cells = dict(zip(result_columns, out[len(shape.columns) :], strict=True))
        if row["id"] in BAD_IDS:
            bad_seen.append(row["id"])
            for cell in cells.values():
                assert isinstance(cell, MError), (position, cells)
                assert cell.message.startswith(f"Row {position}: the scoring service answered HTTP {shape.status}: ")
                assert shape.message.format(id=row["id"]) in cell.message
        else:
            want = shape.results(row)
            assert all(close(cells[k], want[k]) for k in want), (position, cells, want)
    assert sorted(bad_seen) == sorted(BAD_IDS)
    # 10 batches, and for each bad row a split of its batch in halves down to the row: about 2 log2(1000) more.
    assert 10 < requests <= 10 + len(BAD_IDS) * 2 * 10, requests

    # Each result is what scoring its row alone gives.
    for row in random.Random(shape_name).sample([r for r in rows if r["id"] not in BAD_IDS], 3):
        _, alone = apply(text, shape.columns, [shape.cells(row)], arguments=shape.arguments)
        position = rows.index(row)
        assert all(close(a, b) for a, b in zip(alone[0], scored[position], strict=True))


def test_stop_on_error_makes_a_bad_row_fail_the_whole_call(servers: Callable[[str], Serve]) -> None:
    shape = SHAPES["inputs-records-with-parameters"]
    text = function_text(shape.script, servers(shape.script).base + "/score")
    rows = source_rows(count=40, bad=(7,))
    with pytest.raises(MError) as failure:
        apply(text, shape.columns, [shape.cells(r) for r in rows], arguments={"StopOnError": True, "BatchSize": 16})
    position = next(i for i, r in enumerate(rows) if r["id"] == 7)
    first = position // 16 * 16 + 1
    assert failure.value.message == (
        f"The scoring service answered HTTP 400 for rows {first} to {min(first + 15, 40)}: row id 7 has a negative x"
    )


def test_a_cold_instance_is_waited_for_and_the_batches_stay_aligned(tmp_path: Path) -> None:
    """powerquery_batches.py fails its first init(): the adapter answers 503 with Retry-After, the function waits
    and sends again; its results carry a process-wide sequence number, so each row was scored exactly once."""
    server = Serve(script_env("powerquery_batches.py", SCORING_INIT_RETRY_MS="1000"), tmp_path / "serve.log")
    try:
        text = function_text("powerquery_batches.py", server.base + "/score")
        table = [[f"row {i}", i, i / 7, "abc"[i % 3]] for i in range(2_500)]
        sent_before = traffic()
        columns, scored = apply(text, ["name", "id", "x", "label"], table, arguments={"BatchSize": 1_000})
        requests = traffic() - sent_before
    finally:
        server.stop()
    assert columns == ["name", "id", "x", "label", "Results.id", "score", "seq"]
    assert requests == 3 + 1  # three batches, the first sent twice (503, then scored)
    assert [row[4] for row in scored] == list(range(2_500))
    assert [row[6] for row in scored] == list(range(2_500))  # in order, once each
    assert all(row[5] == pytest.approx(row[2] * 2) for row in scored)


def test_the_key_is_sent_as_a_bearer_token_and_a_blank_key_is_refused(tmp_path: Path) -> None:
    server = Serve(script_env("pq_bare.py", AML_SCORING_KEYS="k-one,k-two"), tmp_path / "serve.log")
    try:
        text = function_text("pq_bare.py", server.base + "/score", AML_SCORING_KEYS="k-one,k-two")
        rows = source_rows(count=5, bad=())
        table = [_records(r) for r in rows]
        _, scored = apply(text, SHAPES["bare-pandas-records"].columns, table, key="k-two")
        assert [row[4] for row in scored] == [expected(r)["score"] for r in rows]
        with pytest.raises(MError, match="Key is blank: pass the service key"):
            apply(text, SHAPES["bare-pandas-records"].columns, table, key=" ")
        with pytest.raises(MError) as refused:
            apply(text, SHAPES["bare-pandas-records"].columns, table, key="wrong")
        assert "401" in refused.value.message or "credentials" in refused.value.message.lower()
    finally:
        server.stop()


def test_a_functions_key_is_required_unless_the_host_is_local(servers: Callable[[str], Serve]) -> None:
    remote = function_text("pq_bare.py", "https://my-app.azurewebsites.net/score")
    with pytest.raises(MError, match="Key is blank: pass the function key as the Key argument"):
        apply(remote, ["id", "x", "label"], [[1, 1.0, "a"]])


def test_the_command_line_scores_a_csv_file(servers: Callable[[str], Serve], tmp_path: Path) -> None:
    """`python -m tests.powerquery.run` on what `python -m adapter powerquery` wrote: a 10,000-row CSV table in,
    the scored table out, error cells as `#error: message`."""
    shape = SHAPES["inputs-records-with-parameters"]
    url = servers(shape.script).base + "/score"
    function = tmp_path / "score.pq"
    function.write_text(function_text(shape.script, url), encoding="utf-8")
    rows = source_rows()
    data = tmp_path / "data.csv"
    with data.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(shape.columns)
        writer.writerows(shape.cells(r) for r in rows)
    scored = tmp_path / "scored.csv"
    command = [sys.executable, "-m", "tests.powerquery.run", str(function), "--table", str(data), "--out", str(scored)]
    command += ["--arg", "threshold=10", "--arg", 'GlobalParameters={"offset": 1.5}']
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    with scored.open(newline="", encoding="utf-8") as read:
        lines = list(csv.reader(read))
    assert lines[0] == [*shape.columns, "Results.id", "score", "high"]
    assert len(lines) == ROWS + 1
    for position, (row, line) in enumerate(zip(rows, lines[1:], strict=True), start=1):
        assert line[1] == str(row["id"])
        if row["id"] in BAD_IDS:
            assert line[4].startswith(f"#error: Row {position}: the scoring service answered HTTP 400: ")
        else:
            want = expected(row, threshold=10.0, offset=1.5)
            assert int(line[4]) == row["id"] and float(line[5]) == pytest.approx(want["score"])
            assert line[6].lower() == str(want["high"]).lower()


def test_a_logical_in_a_number_column_is_not_sent_and_its_row_says_why(servers: Callable[[str], Serve]) -> None:
    """pandas would read `true` as 1.0 and score it silently: the function keeps such a row back instead."""
    shape = SHAPES["inputs-records-with-parameters"]
    text = function_text(shape.script, servers(shape.script).base + "/score")
    rows = source_rows(count=20, bad=())
    table = [shape.cells(r) for r in rows]
    table[6][2] = True  # x of the 7th row
    sent_before = traffic()
    _, scored = apply(text, shape.columns, table, arguments=shape.arguments)
    assert traffic() - sent_before <= 6  # the other rows go in a few whole halves; the 7th is never sent
    for position, (row, out) in enumerate(zip(rows, scored, strict=True), start=1):
        if position == 7:
            assert isinstance(out[4], MError)
            assert out[4].message == "Row 7: column x holds true where the model takes a number; the row was not sent."
        else:
            assert out[5] == pytest.approx(expected(row, threshold=10.0, offset=1.5)["score"])


def test_a_service_refusing_every_row_stops_the_call_after_a_few_requests(servers: Callable[[str], Serve]) -> None:
    """Finding a refused row costs about two requests; when every row is refused (a bug in run()), the function
    stops after MAX_REFUSED_ROWS of a batch instead of sending each row alone."""
    shape = SHAPES["bare-pandas-records"]
    text = function_text(shape.script, servers(shape.script).base + "/score")
    rows = source_rows(count=1_000, bad=tuple(range(1_000)))
    sent_before = traffic()
    with pytest.raises(MError) as failure:
        apply(text, shape.columns, [shape.cells(r) for r in rows])
    requests = traffic() - sent_before
    allowed = powerquery.MAX_REFUSED_ROWS
    assert failure.value.message.startswith(
        f"The scoring service refused more than {allowed} rows of a batch, the last row {allowed + 1} "
        f"(HTTP 500: {RAISED}"
    )
    assert requests < 4 * (powerquery.MAX_REFUSED_ROWS + 10), requests


def test_date_times_with_a_zone_or_seven_digits_are_sent_as_pandas_reads_them(servers: Callable[[str], Serve]) -> None:
    """A zone, or Power Query's seven fractional digits, in a date-time column made pandas answer 500: the function
    sends UTC to the microsecond."""
    text = function_text("pq_dates.py", servers("pq_dates.py").base + "/score")
    plus_one = dt.timezone(dt.timedelta(hours=1))
    table = [
        [1, dt.datetime(2024, 1, 2, 3, 4, 5, 123456)],
        [2, dt.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=plus_one)],
        [3, dt.date(2024, 5, 6)],
        [4, None],
    ]
    _, scored = apply(text, ["id", "when"], table)
    assert [row[2] for row in scored] == [
        "2024-01-02T03:04:05.123456",
        "2024-01-02T02:04:05.123456",
        "2024-05-06T00:00:00",
        None,
    ]


def test_the_function_the_app_serves_scores_against_it(servers: Callable[[str], Serve]) -> None:
    """`GET /powerquery.pq` writes the app's own scoring URL into the function: fetched and run as it is."""
    import requests

    shape = SHAPES["split-orient-input-data"]
    server = servers(shape.script)
    served = requests.get(server.base + "/powerquery.pq", timeout=30)
    assert served.status_code == 200
    assert f'Web.Contents("{server.base}/score",' in served.text
    rows = source_rows(count=30, bad=(4,))
    _, scored = apply(served.text, shape.columns, [shape.cells(r) for r in rows])
    for row, out in zip(rows, scored, strict=True):
        if row["id"] == 4:
            assert isinstance(out[4], MError)
        else:
            assert out[4] == pytest.approx(expected(row)["score"])


def test_a_body_that_is_the_table_itself(tmp_path: Path) -> None:
    """A user's document whose body is a bare list of records (no name at all): the batch is the body."""
    from pq_documents import swagger_document

    app = tmp_path / "app"
    app.mkdir()
    (app / "score.py").write_text(
        "import json\nfrom pq_shapes import score\n\n\ndef init():\n    pass\n\n\n"
        "def run(data):\n    rows = json.loads(data) if isinstance(data, (str, bytes)) else data\n"
        "    return [score(r['id'], r['x'], r['label'])['score'] for r in rows]\n"
    )
    (app / "pq_shapes.py").write_text((SCRIPTS / "pq_shapes.py").read_text())
    table = {"type": "array", "items": {"type": "object", "properties": {c: {} for c in ("id", "x", "label")}}}
    (app / "swagger.json").write_text(json.dumps(swagger_document(table)))
    env = {"AML_APP_ROOT": str(app), "AZUREML_ENTRY_SCRIPT": "score.py"}
    server = Serve(env, tmp_path / "serve.log")
    try:
        settings = Settings.from_env(env)
        text = powerquery.generate(settings, entry_script.load(settings), server.base + "/score")
        rows = source_rows(count=25, bad=(3,))
        _, scored = apply(text, ["name", "id", "x", "label"], [_records(r) for r in rows])
    finally:
        server.stop()
    for row, out in zip(rows, scored, strict=True):
        if row["id"] == 3:
            assert isinstance(out[4], MError)
        else:
            assert out[4] == pytest.approx(expected(row)["score"])


def test_a_list_per_row_with_named_positions_becomes_typed_columns_and_a_wrong_length_an_error_cell(
    tmp_path: Path,
) -> None:
    """A user's document declares a list of 3 numbers per row, its positions named (as the MLflow script declares a
    library flavor's class probabilities): each becomes a number column, named as record fields are (`x` and `id`
    are the table's own columns); a row answered with 2 values gets an error in its cells, and a null result nulls."""
    from pq_documents import positional_answer, swagger_document

    app = tmp_path / "app"
    app.mkdir()
    (app / "score.py").write_text(
        "import json\n\n\ndef init():\n    pass\n\n\n"
        "def run(data):\n    rows = json.loads(data) if isinstance(data, (str, bytes)) else data\n"
        "    return [None if r['id'] == 7 else [r['x'], r['x'] * 2, r['id']][: 2 if r['id'] % 5 == 0 else 3]\n"
        "            for r in rows]\n"
    )
    table = {"type": "array", "items": {"type": "object", "properties": {c: {} for c in ("id", "x", "label")}}}
    document = swagger_document(table, positional_answer(["x", "double", "id"]))
    (app / "swagger.json").write_text(json.dumps(document))
    env = {"AML_APP_ROOT": str(app), "AZUREML_ENTRY_SCRIPT": "score.py"}
    server = Serve(env, tmp_path / "serve.log")
    try:
        settings = Settings.from_env(env)
        text = powerquery.generate(settings, entry_script.load(settings), server.base + "/score")
        rows = source_rows(count=25, bad=())
        sent_before = traffic()
        columns, types, scored = apply_typed(text, ["name", "id", "x", "label"], [_records(r) for r in rows])
        requests = traffic() - sent_before
    finally:
        server.stop()
    assert columns == ["name", "id", "x", "label", "Results.x", "double", "Results.id"]
    assert types[4:] == ["number", "number", "number"]
    assert requests == 1  # a wrong-length row is the answer's problem, not a refused row: no batch is split
    for position, (row, out) in enumerate(zip(rows, scored, strict=True), start=1):
        assert out[:4] == _records(row)
        if row["id"] == 7:
            assert out[4:] == [None, None, None]
        elif row["id"] % 5 == 0:
            for cell in out[4:]:
                assert isinstance(cell, MError)
                assert cell.message == (
                    f"Row {position}: the scoring service's result is a list of 2 values where the schema names 3 "
                    "(x, double, id)."
                )
        else:
            assert out[4:] == [row["x"], row["x"] * 2, row["id"]]
