"""Data collection (issue 15): scripts using `azureml.monitoring.ModelDataCollector` (SDK v1) or
`azureml.ai.monitoring.Collector` (SDK v2) run unchanged, their data goes to the log (and to JSON Lines files with
AML_DATA_COLLECTION_DIR) with the request id the client got back, and collecting never fails a request."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import fresh_python_json
from targets import Request, Serve, script_env

from adapter import request_context
from adapter.azureml import data_collection
from adapter.azureml.data_collection import MESSAGE_PREFIX, Config
from adapter.azureml.monitoring_v1 import ModelDataCollector
from adapter.azureml.monitoring_v2 import BasicCorrelationContext, Collector


@pytest.fixture(autouse=True)
def _only_the_log(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("AML_DATA_COLLECTION")]:
        monkeypatch.delenv(name)


def records(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    """The collected records in the log, parsed (which also proves each is valid JSON)."""
    found = []
    for record in caplog.records:
        message = record.getMessage()
        if record.name == "adapter.datacollection" and message.startswith(MESSAGE_PREFIX):
            found.append(json.loads(message[len(MESSAGE_PREFIX) :]))
    return found


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


@pytest.fixture
def request_id() -> Iterator[str]:
    token = request_context.request_id.set("req-42")
    yield "req-42"
    request_context.request_id.reset(token)


# --- SDK v1: ModelDataCollector ---


def test_v1_inputs_return_azureml_monitorings_correlation_headers(
    caplog: pytest.LogCaptureFixture, request_id: str
) -> None:
    caplog.set_level(logging.INFO)
    inputs = ModelDataCollector("best", designation="inputs", feature_names=["f1", "f2"], model_version="3")
    correlation = inputs.collect([[1, 2], [3, 4]], user_correlation_id="mine")
    assert correlation is not None
    assert list(correlation) == [
        "$aml_dc_scoring_timestamp",
        "$aml_request_id",
        "$aml_dc_correlation_id",
        "$aml_dc_boundary",
        "$aml_workspace",
        "$aml_service_name",
        "$aml_model_name",
        "$aml_model_version",
    ]
    assert correlation["$aml_request_id"] == request_id
    assert str(correlation["$aml_dc_correlation_id"]).startswith("mine-")
    assert correlation["$aml_model_name"] == "best" and correlation["$aml_model_version"] == "3"
    [record] = records(caplog)
    assert record == {
        "collection": "best.inputs",
        "designation": "inputs",
        "model": "best",
        "model_version": "3",
        "correlation_id": correlation["$aml_dc_correlation_id"],
        "request_id": request_id,
        "columns": ["f1", "f2"],
        "rows": [[1, 2], [3, 4]],
        "row_count": 2,
        "truncated": False,
    }


def test_v1_add_correlations_ties_predictions_to_their_inputs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    inputs = ModelDataCollector("m", designation="inputs")
    predictions = ModelDataCollector("m", designation="predictions", feature_names=["p"])
    correlation = inputs.collect(np.array([1.0, 2.0]))
    assert correlation is not None
    values = [correlation[name] for name in ModelDataCollector.CORRELATION_HEADERS]
    assert predictions.add_correlations([0.5], correlation) == [0.5, *values]
    as_array = predictions.add_correlations(np.array([0.5, 0.7]), correlation)
    assert as_array.shape == (1, 10)
    frame = predictions.add_correlations(pd.DataFrame({"p": [0.5, 0.7]}), correlation)
    assert list(frame.columns) == ["p", *ModelDataCollector.CORRELATION_HEADERS]
    assert predictions.add_correlations([0.5], None) == [0.5]
    assert predictions.collect(frame) is None  # only "inputs" returns correlations, as in AML
    assert predictions.collect(predictions.add_correlations([0.9], correlation)) is None
    first, by_frame, by_list = records(caplog)
    assert first["rows"] == [[1.0, 2.0]]  # a 1-D array is one row, as AML's collector writes it
    assert by_frame["correlation_id"] == by_list["correlation_id"] == correlation["$aml_dc_correlation_id"]
    assert by_list["columns"] == ["p", *ModelDataCollector.CORRELATION_HEADERS]


def test_v1_designations(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    ModelDataCollector("m").collect([1])
    ModelDataCollector("m", designation="signals", collection_name="drift").collect([2])
    wrong = ModelDataCollector("m", designation="outputs")
    assert wrong.collect([3]) is None
    assert [(r["collection"], r["designation"]) for r in records(caplog)] == [
        ("m.general", "general"),
        ("m.drift", "signals"),
    ]
    assert any("Incorrect designation value 'outputs'" in w for w in warnings(caplog))


# --- SDK v2: Collector ---


def test_v2_collect_returns_the_context_that_correlates_inputs_and_outputs(
    caplog: pytest.LogCaptureFixture, request_id: str
) -> None:
    caplog.set_level(logging.INFO)
    inputs, outputs = Collector(name="model_inputs"), Collector(name="model_outputs")
    frame = pd.DataFrame({"x": [1.5, float("nan")], "when": pd.to_datetime(["2024-01-02", "2024-03-04"])})
    context = inputs.collect(frame)
    assert isinstance(context, BasicCorrelationContext) and context.get_id()
    assert outputs.collect(pd.DataFrame({"score": [3]}), context) is context
    mine = BasicCorrelationContext(id="my-id", headers={"h": "v"})
    assert inputs.collect(frame, mine) is mine
    first, second, third = records(caplog)
    assert first["correlation_id"] == second["correlation_id"] == context.get_id()
    assert third["correlation_id"] == "my-id"
    assert first["request_id"] == request_id and "designation" not in first
    assert first["columns"] == ["x", "when"]
    assert first["rows"] == [[1.5, "2024-01-02T00:00:00"], [None, "2024-03-04T00:00:00"]]  # NaN as null: valid JSON


def test_bad_values_are_logged_and_skipped_and_on_error_is_told(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    seen: list[Exception] = []
    collector = Collector(name="c", on_error=seen.append)
    context = collector.collect([object()])
    assert context.get_id()  # the script goes on as usual
    assert len(seen) == 1 and isinstance(seen[0], TypeError)
    assert Collector(name="d", on_error=lambda e: 1 / 0).collect({"s": {1j}}) is not None  # its on_error may fail too
    v1 = ModelDataCollector("m", designation="inputs")
    assert v1.collect([b"bytes"]) is not None  # still returns its correlations
    nested: list[object] = []
    for _ in range(3000):  # small enough to fit the cap, too deep for `json`
        nested = [nested]
    v1.collect([nested])
    assert records(caplog) == []
    skipped = [w for w in warnings(caplog) if "skipped its data" in w]
    assert len(skipped) == 4, skipped
    assert "not JSON serializable" in skipped[0]


def test_control_characters_never_reach_the_log_raw(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    text = "a\x1b[31mred\r\nforged line\x07\x85\u2028é✓"
    Collector(name="c").collect([text])
    ModelDataCollector("m", feature_names=7)  # type: ignore[arg-type]  # not names: collected without, no raise

    class Hostile(Exception):
        pass

    def on_error(error: Exception) -> None:
        raise Hostile("bad\r\nWARNING forged\ud800")

    Collector(name="d", on_error=on_error).collect([object()])
    for record in caplog.records:
        message = record.getMessage()
        assert not any(ch in message for ch in "\x1b\r\n\x07\x85\u2028\ud800"), message
        message.encode("utf-8")  # what a log handler writing UTF-8 does
    [record] = records(caplog)
    assert record["rows"] == [[text]]  # the JSON still says exactly what was collected, and é✓ stay readable
    assert "é✓" in caplog.records[0].getMessage()


def test_huge_data_is_capped_with_a_clear_marker(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO)
    monkeypatch.setenv("AML_DATA_COLLECTION_MAX_CHARS", "2000")
    collector = Collector(name="big")
    collector.collect(pd.DataFrame(np.arange(3_000_000).reshape(-1, 3)))  # a million rows
    collector.collect(["x" * 50_000_000])  # one row larger than the cap
    collector.collect(np.zeros((10, 100_000)))  # rows wider than the cap
    many, one, wide = records(caplog)
    assert many["row_count"] == 1_000_000 and many["truncated"] is True
    assert 0 < len(many["rows"]) < 1_000_000  # type: ignore[arg-type]
    assert many["rows"][:2] == [[0, 1, 2], [3, 4, 5]]  # type: ignore[index]
    assert many["truncation"] == (
        f"kept {len(many['rows'])} of 1000000 rows: the data is capped at 2000 characters "  # type: ignore[arg-type]
        "(AML_DATA_COLLECTION_MAX_CHARS)"
    )
    assert (one["rows"], one["row_count"], one["truncated"]) == ([], 1, True)
    assert (wide["rows"], wide["row_count"], wide["truncated"]) == ([], 10, True)
    for record in caplog.records:
        assert len(record.getMessage()) < 2000 + 400  # the cap, plus the record's own fields


def test_files_one_per_collection_and_day(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request_id: str) -> None:
    monkeypatch.setenv("AML_DATA_COLLECTION_DIR", str(tmp_path / "collected"))
    monkeypatch.setenv("AML_DATA_COLLECTION_LOG", "false")
    Collector(name="model_inputs").collect(pd.DataFrame({"a": [1, 2]}))
    Collector(name="model_inputs").collect(pd.DataFrame({"a": [3]}))
    Collector(name="../../escape").collect([1])
    files = sorted(p.relative_to(tmp_path / "collected") for p in (tmp_path / "collected").rglob("*.jsonl"))
    assert [f.parent.name for f in files] == ["%2E.%2F..%2Fescape", "model_inputs"]  # inside, not hidden
    assert all(f.name.endswith(".jsonl") and len(f.stem) == len("2024-01-31") for f in files)
    lines = (tmp_path / "collected" / files[1]).read_text().splitlines()
    first, second = (json.loads(line) for line in lines)
    assert first["rows"] == [[1], [2]] and second["rows"] == [[3]]
    assert first["request_id"] == request_id and first["time"].endswith("+00:00")


def test_an_unwritable_folder_is_reported_once_and_the_log_still_gets_the_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Here a file stands where the folder should be, which stops even root (a read-only share behaves alike)."""
    caplog.set_level(logging.INFO)
    blocked = tmp_path / "blocked"
    blocked.write_text("not a folder")
    monkeypatch.setenv("AML_DATA_COLLECTION_DIR", str(blocked))
    collector = Collector(name="c")
    for i in range(3):
        collector.collect([i])
    assert [r["rows"] for r in records(caplog)] == [[[0]], [[1]], [[2]]]
    [warning] = [w for w in warnings(caplog) if "cannot write" in w]
    assert str(blocked / "c") in warning and "the log still gets each record" in warning


def test_settings() -> None:
    assert Config.from_env({}) == Config()
    config = Config.from_env(
        {
            "AML_DATA_COLLECTION_LOG": "off",
            "AML_DATA_COLLECTION_DIR": "data",
            "AML_DATA_COLLECTION_MAX_CHARS": "10",
            "AML_DATA_COLLECTION_FILE_MAX_CHARS": "lots",
            "AML_DATA_COLLECTION_SAMPLE_RATE": "0.25",
            "AML_APP_ROOT": "/srv/app",
        }
    )
    assert config == Config(
        False, Path("/srv/app/data"), data_collection.MIN_MAX_CHARS, Config().file_max_chars, sample_rate=0.25
    )
    for bad in ("2", "-0.1", "half", "nan"):
        assert Config.from_env({"AML_DATA_COLLECTION_SAMPLE_RATE": bad}).sample_rate == 1.0


def test_nothing_is_read_when_nothing_would_see_it(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    monkeypatch.setenv("AML_DATA_COLLECTION_LOG", "false")

    class Exploding:
        def __getattribute__(self, name: str) -> object:
            raise AssertionError("the data was read")

    Collector(name="c").collect(Exploding())
    assert caplog.records == []  # reading it would have raised, and been logged as skipped data


# --- imports: ours whether or not the Azure packages are installed ---

IMPORT_CHECK = """
import json
from adapter.azureml import shim
shim.install()
from azureml.monitoring import ModelDataCollector
from azureml.monitoring.modeldatacollector import ModelDataCollector as FromModule
from azureml.ai.monitoring import Collector
from azureml.ai.monitoring.context import BasicCorrelationContext
print(json.dumps([ModelDataCollector.__module__, FromModule is ModelDataCollector, Collector.__module__,
                  BasicCorrelationContext.__module__]))
"""
OURS = ["adapter.azureml.monitoring_v1", True, "adapter.azureml.monitoring_v2", "adapter.azureml.monitoring_v2"]


def run_import_check(extra: Path | None) -> object:
    return fresh_python_json(IMPORT_CHECK, path=[extra] if extra else [])


def test_imports_without_the_azure_packages() -> None:
    assert run_import_check(None) == OURS


def test_imports_are_ours_even_with_the_azure_packages_installed(tmp_path: Path) -> None:
    """They cannot work in a Function App (v1: a native library and AKS storage; v2: AML's sidecar)."""
    broken = "raise ImportError('the installed package must not be used')\n"
    for relative in (
        "azureml/__init__.py",
        "azureml/ai/__init__.py",
        "azureml/monitoring/__init__.py",
        "azureml/monitoring/modeldatacollector.py",
        "azureml/ai/monitoring/__init__.py",
        "azureml/ai/monitoring/context/__init__.py",
    ):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(broken if "monitoring" in relative else "")
    assert run_import_check(tmp_path) == OURS


# --- end to end: unchanged scripts through `adapter serve` ---


def collected(log: Path) -> list[dict[str, object]]:
    return [
        json.loads(line.split(MESSAGE_PREFIX, 1)[1]) for line in log.read_text().splitlines() if MESSAGE_PREFIX in line
    ]


def test_a_v1_script_answers_and_its_rows_reach_the_log_and_files_with_the_request_id(tmp_path: Path) -> None:
    env = script_env("collect_v1.py", AML_DATA_COLLECTION_DIR=str(tmp_path / "dc"))
    server = Serve(env, tmp_path / "serve.log")
    try:
        body = json.dumps({"data": [[1, 2, 3], [4, 5, 6]]}).encode()
        reply = server.send(Request("POST", body=body, headers={"X-Request-Id": "client-v1"}))
        assert reply.status == 200
        assert json.loads(reply.json()) == {"result": [14.5, 19.0]}  # type: ignore[arg-type]
        anonymous = server.send(Request("POST", body=body))
        generated = anonymous.headers["x-request-id"]
    finally:
        server.stop()
    logged = collected(tmp_path / "serve.log")
    assert [(r["collection"], r["request_id"]) for r in logged] == [
        ("sklearn_regression_model.pkl.inputs", "client-v1"),
        ("sklearn_regression_model.pkl.predictions", "client-v1"),
        ("sklearn_regression_model.pkl.inputs", generated),
        ("sklearn_regression_model.pkl.predictions", generated),
    ]
    inputs, predictions = logged[:2]
    assert inputs["columns"] == ["feat1", "feat2", "feat3"] and inputs["rows"] == [[1, 2, 3], [4, 5, 6]]
    assert predictions["rows"][0][:2] == [14.5, 19.0]  # type: ignore[index]
    assert predictions["correlation_id"] == inputs["correlation_id"]
    filed = [
        json.loads(line)
        for path in sorted((tmp_path / "dc").rglob("*.jsonl"))
        for line in path.read_text().splitlines()
    ]
    assert sorted((r["collection"], r["request_id"], r["rows"][0][0]) for r in filed) == sorted(  # type: ignore[index]
        (r["collection"], r["request_id"], r["rows"][0][0])
        for r in logged  # type: ignore[index]
    )


def test_a_v2_script_answers_and_its_rows_reach_the_log_with_the_request_id(tmp_path: Path) -> None:
    server = Serve(script_env("collect_v2.py"), tmp_path / "serve.log")
    try:
        body = json.dumps({"data": {"col1": [1, 2, 3], "col2": [2, 3, 4]}}).encode()
        reply = server.send(Request("POST", body=body, headers={"X-Request-Id": "client-v2"}))
    finally:
        server.stop()
    assert reply.status == 200
    assert reply.json() == {"score": {"0": 4, "1": 7, "2": 10}}
    inputs, outputs = collected(tmp_path / "serve.log")
    assert inputs == {
        "collection": "model_inputs",
        "correlation_id": inputs["correlation_id"],
        "request_id": "client-v2",
        "columns": ["col1", "col2"],
        "rows": [[1, 2], [2, 3], [3, 4]],
        "row_count": 3,
        "truncated": False,
    }
    assert outputs["rows"] == [[4], [7], [10]]
    assert outputs["correlation_id"] == inputs["correlation_id"] and outputs["request_id"] == "client-v2"


def test_the_collection_benchmark_runs() -> None:
    """`python -m bench.collection` keeps working; its numbers belong in its report, not in pass/fail."""
    from bench import collection

    result = collection.measure(calls=3, repeats=2)
    assert set(result["ratio"]) == {"log", "files"} and result["run_us"] > 0
    assert "| log record |" in collection.markdown(result)
    assert set(result["parts"]) == {"rows_from_pandas", "log_record", "context", "pandas_to_json"}
    assert "What a `collect` cannot do without" in collection.markdown(result)
    assert logging.getLogger("adapter.datacollection").handlers == []  # it cleaned up after itself


@pytest.mark.parametrize("timeout_ms", ["", "60000"])
def test_through_the_functions_in_process_the_records_carry_the_request_id(
    caplog: pytest.LogCaptureFixture, timeout_ms: str
) -> None:
    """The function the Functions worker calls, with run() inline and (with a timeout shorter than the host's) on a
    runner thread: either way the collector knows the request."""
    from targets import InProcess

    caplog.set_level(logging.INFO)
    target = InProcess(script_env("collect_v2.py", **({"SCORING_TIMEOUT_MS": timeout_ms} if timeout_ms else {})))
    try:
        body = json.dumps({"data": {"col1": [1], "col2": [5]}}).encode()
        reply = target.send(Request("POST", body=body, headers={"X-Request-Id": "in-process-1"}))
    finally:
        target.stop()
    assert reply.status == 200 and reply.json() == {"score": {"0": 7}}
    assert [(r["collection"], r["request_id"]) for r in records(caplog)] == [
        ("model_inputs", "in-process-1"),
        ("model_outputs", "in-process-1"),
    ]


# --- issue 21 point 9 (and 11 for the files): hostile text, client-chosen ids, names, and what the folder holds ---


def test_a_lone_surrogate_is_escaped_and_the_record_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Python strings may hold a lone surrogate (`"\\ud800"`, e.g. from `json.loads`), which UTF-8 cannot encode: the
    record keeps it as the JSON escape `\\ud800`, which reads back as the same string."""
    caplog.set_level(logging.INFO)
    monkeypatch.setenv("AML_DATA_COLLECTION_DIR", str(tmp_path))
    text = "a\ud800b\udfff"
    Collector(name="c").collect(pd.DataFrame({"k\udc80": [text]}))
    assert [w for w in warnings(caplog) if "skipped" in w or "cannot write" in w] == []
    [logged] = records(caplog)
    [line] = (tmp_path / "c").glob("*.jsonl")
    filed = json.loads(line.read_bytes().decode("utf-8"))  # valid UTF-8: no raw surrogate in the file
    for record in (logged, filed):
        assert record["rows"] == [[text]] and record["columns"] == ["k\udc80"]
    assert "\\ud800" in line.read_text() and "\\ud800" in caplog.records[0].getMessage()


def ids_the_old_sampling_dropped(count: int) -> list[str]:
    """Request ids a client can choose so that a rate of 0.5 keyed on the id would never collect them."""
    import zlib

    return [i for i in (f"chosen-{n}" for n in range(count * 4)) if zlib.crc32(i.encode()) >= 2**31][:count]


def test_sampling_is_the_adapters_own_draw_not_the_clients_request_id(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO)
    monkeypatch.setenv("AML_DATA_COLLECTION_SAMPLE_RATE", "0.5")
    inputs, outputs = Collector(name="in"), Collector(name="out")
    chosen = ids_the_old_sampling_dropped(100)
    for request_id in chosen + ["same-id"] * 100:  # also one id sent again and again
        token = request_context.request_id.set("".join(request_id))  # a new string per request, as parsed
        try:
            outputs.collect([1], inputs.collect([1]))
        finally:
            request_context.request_id.reset(token)
    for _ in range(100):  # a one-character id is one and the same object every time: the invocation tells apart
        token, invocation = request_context.request_id.set("a"), request_context.invocation.set(object())
        try:
            outputs.collect([1], inputs.collect([1]))
        finally:
            request_context.invocation.reset(invocation)
            request_context.request_id.reset(token)
    collected = [r["request_id"] for r in records(caplog) if r["collection"] == "in"]
    assert [r["collection"] for r in records(caplog)] == ["in", "out"] * len(collected)  # a request's pair together
    assert 20 <= sum(1 for i in collected if i.startswith("chosen-")) <= 80  # about half; the old scheme kept 0
    assert 20 <= collected.count("same-id") <= 80
    assert 20 <= collected.count("a") <= 80


def test_collection_names_get_folders_of_their_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One folder per name, whatever it holds: the folder name is an escaped form of the name (`%XX` of its UTF-8,
    as in URLs), never outside the data folder and never hidden."""
    monkeypatch.setenv("AML_DATA_COLLECTION_DIR", str(tmp_path))
    monkeypatch.setenv("AML_DATA_COLLECTION_LOG", "false")
    names = ["a/b", "a_b", "a b", "a%2Fb", "a\\b", "..", ".", ".git", "", "é", "a\ud800", "x" * 300, "x" * 301]
    for name in names:
        ModelDataCollector(name).collect([name])  # v1: the collection is `NAME.general`
        Collector(name=name).collect([name]) if name else None
    folders = [p for p in tmp_path.iterdir()]
    assert all(p.is_dir() and not p.name.startswith(".") and len(p.name) <= 200 for p in folders)
    by_folder = {
        p.name: {json.loads(line)["collection"] for f in p.glob("*.jsonl") for line in f.read_text().splitlines()}
        for p in folders
    }
    assert all(len(collections) == 1 for collections in by_folder.values()), by_folder
    assert len(by_folder) == len(names) * 2 - 1
    assert {"a%2Fb", "a_b", "a%20b", "a%2Fb.general", "%2Egit", "%2E..general"} <= set(by_folder)
    assert data_collection.safe_name("model_inputs") == "model_inputs"  # the usual names stay as they are


def test_a_fifo_where_the_file_goes_is_refused_without_hanging(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import threading

    caplog.set_level(logging.INFO)
    monkeypatch.setenv("AML_DATA_COLLECTION_DIR", str(tmp_path))
    collector = Collector(name="c")
    collector.collect([0])  # makes the folder and today's file
    [today] = (tmp_path / "c").glob("*.jsonl")
    today.unlink()
    os.mkfifo(today)
    done = threading.Event()
    worker = threading.Thread(target=lambda: (collector.collect([1]), done.set()), daemon=True)
    worker.start()
    try:
        assert done.wait(10), "collect() hung on a FIFO"
    finally:
        with open(today, "rb", opener=lambda p, f: os.open(p, f | os.O_NONBLOCK)):  # frees a writer that hung
            pass
    [warning] = [w for w in warnings(caplog) if "cannot write" in w]
    assert "not a regular file" in warning and [r["rows"] for r in records(caplog)] == [[[0]], [[1]]]


# --- issue 18 point 5: numeric tables are serialised a batch of rows at a time, with the same bytes as row by row ---

NUMERIC_TABLES = {
    "floats": lambda rng: pd.DataFrame(rng.random((9000, 8))),
    "ints-and-bools": lambda rng: pd.DataFrame({"i": np.arange(9000), "b": np.arange(9000) % 3 == 0}),
    "nullable-and-nan": lambda rng: pd.DataFrame(
        {"n": pd.array([*range(4999), None], dtype="Int64"), "f": [float("nan"), 1e300 * 10, *rng.random(4998)]}
    ),
    "uint8-array": lambda rng: rng.integers(0, 255, size=(20000, 3), dtype=np.uint8),
    "wide-ints": lambda rng: rng.integers(-(10**12), 10**12, size=(3000, 40)),
    "no-columns": lambda rng: np.zeros((5000, 0)),
}


@pytest.mark.parametrize("kind", NUMERIC_TABLES)
def test_numeric_tables_keep_exactly_the_rows_the_row_by_row_path_keeps(kind: str) -> None:
    data = NUMERIC_TABLES[kind](np.random.default_rng(7))
    head = {"collection": "c", "correlation_id": None, "request_id": None}
    for cap in (256, 300, 2000, 16384, 200_000, 1 << 20):
        batched = data_collection.Table.of(data)
        assert batched.numeric_width is not None and batched.small is None  # the path under test
        one_by_one = data_collection.Table.of(data)
        one_by_one.numeric_width = None
        expected = data_collection.record_text(head, one_by_one, cap, "MAX_CHARS")
        assert data_collection.record_text(head, batched, cap, "MAX_CHARS") == expected, cap
        json.loads(expected)


@pytest.mark.parametrize(
    ("env", "asked"),
    [
        ({}, False),
        ({"AML_DATA_COLLECTION_LOG": "true"}, True),
        ({"AML_DATA_COLLECTION_LOG": "1"}, True),
        ({"AML_DATA_COLLECTION_LOG": "false"}, False),
        ({"AML_DATA_COLLECTION_LOG": " "}, False),
        ({"AML_DATA_COLLECTION_DIR": "collected"}, True),
        ({"AML_DATA_COLLECTION_LOG": "false", "AML_DATA_COLLECTION_DIR": "collected"}, True),
        ({"AML_DATA_COLLECTION_SAMPLE_RATE": "0.5"}, False),
    ],
)
def test_collection_is_asked_for_by_turning_the_log_on_or_naming_a_folder(env: dict[str, str], asked: bool) -> None:
    """What makes the no-code MLflow script collect (docs/mlflow.md): collection is on by default for a score.py,
    but AML's MLflow script collects nothing unless the deployment's data_collector enables it."""
    assert data_collection.requested(env) is asked
    assert Config.from_env(env).log is ("false" not in env.get("AML_DATA_COLLECTION_LOG", ""))  # defaults unchanged
