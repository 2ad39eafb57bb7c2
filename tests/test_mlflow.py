"""MLflow models served without a score.py, as AML's no-code deployments serve them (docs/mlflow.md).

The models are built here (tests/mlflow_models.py), one per signature kind, and each request's status and answer is
AML's contract as its MLflow scoring script states it: the prediction of the model's own pyfunc `predict()` as JSON (a
list for arrays, records for DataFrames), azmlinfsrv's 400 for a missing `input_data`, the generic 500 for anything
the model or the schema refuses. tests/test_mlflow_oracle.py sends the same requests through azmlinfsrv running the
adapter's script.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import mlflow_models
import numpy as np
import pandas as pd
import pytest
from openapi_spec_validator import validate
from targets import ROOT, InProcess, Request

from adapter import mlflow_model
from adapter.openapi import answer_shape
from adapter.settings import ConfigError, Settings

#: Saving an MLflow model runs subprocesses (MLflow infers the environment with pip), so every test here starts one.
pytestmark = pytest.mark.process

MISSING = "A value is not provided for the 'input_data' parameter."
SCRIPT_ERROR = "An unexpected error occurred in scoring script. Check the logs for more info."
DIA_ROW = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]


def split(columns: list[Any], data: list[list[Any]], index: bool = True) -> dict[str, Any]:
    frame: dict[str, Any] = {"columns": columns, "data": data}
    if index:
        frame["index"] = list(range(len(data)))
    return frame


def frame(columns: list[Any], data: list[list[Any]]) -> pd.DataFrame:
    return pd.DataFrame(data, columns=columns)


def array(data: list[Any]) -> np.ndarray:
    return np.asarray(data, dtype="float64")


# (model, request body, what AML answers: a function of the loaded pyfunc model, or (status, message)).
Expected = Callable[[Any], Any] | tuple[int, str]
CASES: list[tuple[str, dict[str, Any], Expected]] = [
    # Columns: the split orient, with or without index, columns in any order.
    ("diabetes", {"input_data": split(mlflow_models.DIABETES, [DIA_ROW, DIA_ROW[::-1]])},
     lambda m: m.predict(frame(mlflow_models.DIABETES, [DIA_ROW, DIA_ROW[::-1]])).tolist()),
    ("diabetes", {"input_data": split(mlflow_models.DIABETES, [DIA_ROW], index=False)},
     lambda m: m.predict(frame(mlflow_models.DIABETES, [DIA_ROW])).tolist()),
    ("diabetes", {"input_data": split(mlflow_models.DIABETES[:3], [[1.0, 2.0, 3.0]])}, (500, SCRIPT_ERROR)),
    ("diabetes", {"input_data": [DIA_ROW]}, (500, SCRIPT_ERROR)),
    ("diabetes", {"data": [DIA_ROW]}, (400, MISSING)),
    # Params sent to a model without a params schema: ignored.
    ("diabetes", {"input_data": split(mlflow_models.DIABETES, [DIA_ROW]), "params": {"x": 1}},
     lambda m: m.predict(frame(mlflow_models.DIABETES, [DIA_ROW])).tolist()),
    ("iris-lightgbm", {"input_data": split(mlflow_models.IRIS, [[1.0, 2.0, 3.0, 4.0], [10.0, 2.0, 9.0, 8.0]])},
     lambda m: m.predict(frame(mlflow_models.IRIS, [[1.0, 2.0, 3.0, 4.0], [10.0, 2.0, 9.0, 8.0]])).tolist()),
    ("columns", {"input_data": split(["a", "b"], [[1.0, 2], [3.5, 1]])},
     lambda m: m.predict(frame(["a", "b"], [[1.0, 2], [3.5, 1]])).tolist()),
    ("columns", {"input_data": split(["b", "a"], [[2, 1.0]])},
     lambda m: m.predict(frame(["a", "b"], [[1.0, 2]])).tolist()),
    ("columns", {"input_data": split(["a", "b"], [[1.0, "x"]])}, (500, SCRIPT_ERROR)),
    # An unnamed tensor: an array.
    ("tensor", {"input_data": [[1.0, 2.0, 3.0], [0.0, 0.0, 1.0]]},
     lambda m: m.predict(array([[1.0, 2.0, 3.0], [0.0, 0.0, 1.0]])).tolist()),
    ("tensor", {"input_data": [[1, 2, 3]]}, lambda m: m.predict(array([[1, 2, 3]])).tolist()),
    ("tensor", {"input_data": [[1.0, 2.0]]}, (500, SCRIPT_ERROR)),
    ("tensor", {"input_data": split([0, 1, 2], [[1.0, 2.0, 3.0]])}, (500, SCRIPT_ERROR)),
    # Named tensors: an object of arrays.
    ("named-tensors", {"input_data": {"x": [[1.0, 2.0]], "y": [[0.5, 0.25]]}},
     lambda m: m.predict({"x": array([[1.0, 2.0]]), "y": array([[0.5, 0.25]])}).tolist()),
    ("named-tensors", {"input_data": {"x": [[1.0, 2.0]]}}, (500, SCRIPT_ERROR)),
    # Params: the signature's defaults, what is sent, a wrong type refused; a DataFrame answer is records.
    ("params", {"input_data": split(["x"], [[1.0], [2.0]])},
     lambda m: m.predict(frame(["x"], [[1.0], [2.0]])).to_dict(orient="records")),
    ("params", {"input_data": split(["x"], [[1.0]]), "params": {"scale": 3.0, "shift": 1, "label": "hi"}},
     lambda m: m.predict(frame(["x"], [[1.0]]), params={"scale": 3.0, "shift": 1, "label": "hi"}).to_dict("records")),
    ("params", {"input_data": split(["x"], [[1.0]]), "params": {"scale": "big"}}, (500, SCRIPT_ERROR)),
    ("params", {"input_data": split(["x"], [[1.0]]), "params": {"unknown": 1}},
     lambda m: m.predict(frame(["x"], [[1.0]])).to_dict(orient="records")),
    # No signature: arrays, named arrays or a split DataFrame, as sent.
    ("no-signature", {"input_data": [[1.0, 2.0], [0.0, 0.0]]},
     lambda m: m.predict(array([[1.0, 2.0], [0.0, 0.0]])).tolist()),
    ("no-signature", {"input_data": "[[1.0, 2.0]]"}, lambda m: m.predict(array([[1.0, 2.0]])).tolist()),
    ("no-signature", {"input_data": {"a": [1.0]}}, (500, SCRIPT_ERROR)),
    ("no-signature", {}, (400, MISSING)),
]  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every model of tests/mlflow_models.py, under one AZUREML_MODEL_DIR."""
    root = tmp_path_factory.mktemp("mlflow-models")
    for name, build in mlflow_models.BUILDERS.items():
        build(root / name)
    return root


@pytest.fixture(scope="module")
def loaded(built: Path) -> dict[str, Any]:
    import mlflow.pyfunc

    return {name: mlflow.pyfunc.load_model(str(built / name)) for name in mlflow_models.BUILDERS}


@pytest.fixture
def no_code(built: Path, tmp_path: Path) -> Iterator[Callable[..., InProcess]]:
    """An app without a score.py serving one of the built models; AZUREML_MODEL_DIR and MLFLOW_MODEL_FOLDER name it
    as AML names it."""
    started: list[InProcess] = []

    def start(model: str, **extra: str) -> InProcess:
        app = tmp_path / "app"
        app.mkdir(exist_ok=True)
        env = {"AML_APP_ROOT": str(app), "AZUREML_MODEL_DIR": str(built), "MLFLOW_MODEL_FOLDER": model, **extra}
        target = InProcess(env)
        started.append(target)
        return target

    yield start
    for target in started:
        target.stop()
    os.environ.pop("MLFLOW_MODEL_FOLDER", None)


def post(target: InProcess, body: dict[str, Any]) -> tuple[int, Any]:
    reply = target.send(
        Request("POST", "/score", headers={"Content-Type": "application/json"}, body=json.dumps(body).encode())
    )
    return reply.status, reply.json()


@pytest.mark.parametrize("model", sorted({case[0] for case in CASES}))
def test_each_signature_kind_answers_as_amls_mlflow_script(
    model: str, no_code: Callable[..., InProcess], loaded: dict[str, Any]
) -> None:
    target = no_code(model)
    for name, body, expected in CASES:
        if name != model:
            continue
        status, answer = post(target, body)
        if isinstance(expected, tuple):
            assert (status, answer) == (expected[0], {"message": expected[1]}), body
        else:
            assert (status, answer) == (200, expected(loaded[model])), body


def test_a_split_dataframe_without_index_serves_a_model_without_signature(
    no_code: Callable[..., InProcess], loaded: dict[str, Any]
) -> None:
    """A documented difference: AML's script reads `{"columns", "data"}` without `index` as named arrays there."""
    status, answer = post(no_code("no-signature"), {"input_data": split([0, 1], [[1.0, 2.0]], index=False)})
    assert (status, answer) == (200, loaded["no-signature"].predict(array([[1.0, 2.0]])).tolist())


@pytest.mark.parametrize("model", list(mlflow_models.BUILDERS))
def test_swagger_describes_input_data_and_params_from_the_signature(
    model: str, no_code: Callable[..., InProcess], built: Path
) -> None:
    target = no_code(model)
    documents = {}
    for version in ("2", "3", "3.1"):
        reply = target.send(Request("GET", "/swagger.json", query=[("version", version)]))
        assert reply.status == 200, (version, reply.body)
        documents[version] = reply.json()
        validate(documents[version])
    service_input = documents["2"]["definitions"]["ServiceInput"]
    assert set(service_input["properties"]) == {"input_data", "params"}
    example = service_input["example"]
    info = mlflow_model.read(built / model)
    if info.signature is None:
        assert service_input["properties"]["input_data"] == {"type": "object"}
        return
    if info.input_example:
        assert example["input_data"] == {**info.example_value(), "index": [0, 1]}
    elif not info.signature.tensor_inputs:
        assert example["input_data"]["columns"] == [c.name for c in info.signature.inputs]
        assert service_input["properties"]["input_data"]["format"] == "pandas.DataFrame:split"
    if info.signature.params:
        assert example["params"] == {p.name: p.default for p in info.signature.params}
    # The example is a request the model answers, with the shape the output schema declares (what `check` verifies).
    status, answer = post(target, example)
    assert status == 200
    assert answer_shape.contradictions(documents["2"]["definitions"]["ServiceOutput"], answer) == []


def collected(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """The data collection records in the log (what Application Insights gets)."""
    from adapter.azureml.data_collection import MESSAGE_PREFIX

    messages = [r.getMessage() for r in caplog.records if r.name == "adapter.datacollection"]
    return [json.loads(m[len(MESSAGE_PREFIX) :]) for m in messages if m.startswith(MESSAGE_PREFIX)]


def test_nothing_is_collected_unless_the_app_asks_for_it(
    no_code: Callable[..., InProcess], caplog: pytest.LogCaptureFixture
) -> None:
    """AML's MLflow script collects only for a deployment whose data_collector enables it; collection being on by
    default in the adapter sent every no-code request's rows and predictions to Application Insights."""
    caplog.set_level("INFO")
    body = {"input_data": split(["x"], [[1.0], [2.0]])}
    assert post(no_code("params"), body)[0] == 200
    assert collected(caplog) == []
    assert "Data collection is off for the MLflow model" in caplog.text
    caplog.clear()
    status, answer = post(no_code("params", AML_DATA_COLLECTION_LOG="true"), body)
    assert status == 200
    records = collected(caplog)
    assert [(r["collection"], r["rows"]) for r in records] == [
        ("model_inputs", [[1.0], [2.0]]),
        ("model_outputs", [[row["y"], row["label"]] for row in answer]),
    ]


def test_inputs_and_outputs_are_collected(no_code: Callable[..., InProcess], tmp_path: Path) -> None:
    """A collection folder asks for collection too."""
    target = no_code("params", AML_DATA_COLLECTION_DIR=str(tmp_path / "collected"))
    status, answer = post(target, {"input_data": split(["x"], [[1.0], [2.0]])})
    assert status == 200
    inputs = [json.loads(line) for f in (tmp_path / "collected" / "model_inputs").glob("*.jsonl") for line in f.open()]
    outputs = [
        json.loads(line) for f in (tmp_path / "collected" / "model_outputs").glob("*.jsonl") for line in f.open()
    ]
    assert [r["rows"] for r in inputs] == [[[1.0], [2.0]]] and inputs[0]["columns"] == ["x"]
    assert outputs[0]["correlation_id"] == inputs[0]["correlation_id"]
    assert outputs[0]["rows"] == [[row["y"], row["label"]] for row in answer]


# Which script serves: settings.


def test_no_score_py_and_an_mlmodel_select_the_adapters_script(built: Path, tmp_path: Path) -> None:
    env = {"AML_APP_ROOT": str(tmp_path), "AZUREML_MODEL_DIR": str(built / "columns")}
    settings = Settings.from_env(env)
    assert settings.entry_script == mlflow_model.ADAPTER_SCRIPT and settings.mlflow_model_folder == "."
    # AML's layout: the registered folder inside the version folder, found without MLFLOW_MODEL_FOLDER.
    version = tmp_path / "models" / "m" / "1"
    shutil.copytree(built / "tensor", version / "model")
    settings = Settings.from_env({"AML_APP_ROOT": str(tmp_path)})
    assert settings.model_dir == version and settings.mlflow_model_folder == "model"
    # A score.py is the user's choice, and wins.
    (tmp_path / "score.py").write_text("def init():\n    pass\n\n\ndef run(data):\n    return data\n")
    assert Settings.from_env({"AML_APP_ROOT": str(tmp_path)}).entry_script == tmp_path / "score.py"
    named = {"AML_APP_ROOT": str(tmp_path), "AZUREML_ENTRY_SCRIPT": mlflow_model.ENTRY_SCRIPT_NAME}
    assert Settings.from_env(named).entry_script == mlflow_model.ADAPTER_SCRIPT


def test_amls_script_name_without_an_mlflow_model_says_what_is_missing(built: Path, tmp_path: Path) -> None:
    env = {
        "AML_APP_ROOT": str(tmp_path),
        "AZUREML_MODEL_DIR": str(built),
        "AZUREML_ENTRY_SCRIPT": "mlflow_score_script.py",
    }
    with pytest.raises(ConfigError, match="holds no single MLflow model folder"):
        Settings.from_env(env)  # seven models: which one is MLFLOW_MODEL_FOLDER's to say
    with pytest.raises(ConfigError, match="MLFLOW_MODEL_FOLDER='../..'"):
        Settings.from_env({**env, "MLFLOW_MODEL_FOLDER": "../.."})  # never outside AZUREML_MODEL_DIR
    with pytest.raises(ConfigError, match="holds no MLflow model"):
        Settings.from_env({"AML_APP_ROOT": str(tmp_path), "AZUREML_MODEL_DIR": str(tmp_path)})


def test_scripts_that_log_with_mlflow_write_no_mlruns_into_the_app(tmp_path: Path) -> None:
    (tmp_path / "score.py").write_text(
        "import mlflow\n\n\ndef init():\n    with mlflow.start_run():\n        mlflow.log_param('p', 1)\n\n\n"
        "def run(data):\n    return mlflow.get_tracking_uri()\n"
    )
    saved = os.environ.pop("MLFLOW_TRACKING_URI", None)
    target = InProcess({"AML_APP_ROOT": str(tmp_path)})
    try:
        reply = target.send(Request("POST", "/score", body=b"{}"))
        assert reply.status == 200, reply.body
        assert not (tmp_path / "mlruns").exists() and not (tmp_path / "mlflow.db").exists()
        assert reply.json().startswith("file://")
    finally:
        target.stop()
        os.environ.pop("MLFLOW_TRACKING_URI", None)
        if saved is not None:
            os.environ["MLFLOW_TRACKING_URI"] = saved


# Import.


def test_import_turns_a_no_code_deployment_into_an_app_that_answers_its_sample(
    built: Path, tmp_path: Path, loaded: dict[str, Any]
) -> None:
    """The shape of azureml-examples' cli/endpoints/online/ncd: a deployment YAML with an MLflow model and no code."""
    from test_import import app_copy, run_import

    ncd = tmp_path / "ncd"
    shutil.copytree(built / "iris-lightgbm", ncd / "lightgbm-iris" / "model")
    (ncd / "lightgbm-deployment.yaml").write_text(
        "$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json\n"
        "name: lightgbm-deployment\nendpoint_name: my-endpoint\nmodel:\n  name: iris-ncd\n  version: 3\n"
        "  path: lightgbm-iris/model\n  type: mlflow_model\ninstance_type: Standard_DS3_v2\ninstance_count: 1\n"
    )
    app = app_copy(tmp_path)
    done = run_import(str(ncd / "lightgbm-deployment.yaml"), "--into", str(app), "--no-check")
    assert done.returncode == 0, done.stderr
    assert "served by the adapter's MLflow scoring script" in done.stdout
    assert (app / "models" / "iris-ncd" / "3" / "model" / "MLmodel").is_file() and not (app / "score.py").exists()
    values = json.loads((app / "local.settings.json").read_text())["Values"]
    assert values["AZUREML_ENTRY_SCRIPT"] == "mlflow_score_script.py" and values["MLFLOW_MODEL_FOLDER"] == "model"
    assert "AML_DATA_COLLECTION_LOG" not in values  # no data_collector: nothing collected, as on AML
    lines = (app / "requirements.txt").read_text().splitlines()
    assert any(line.startswith("mlflow-skinny") for line in lines) and "lightgbm" in lines
    assert not any(line.startswith("mlflow=") for line in lines)
    target = InProcess({"AML_APP_ROOT": str(app), **values})
    try:
        rows = [[1.0, 2.0, 3.0, 4.0], [10.0, 2.0, 9.0, 8.0]]
        status, answer = post(target, {"input_data": split(mlflow_models.IRIS, rows)})
        assert (status, answer) == (200, loaded["iris-lightgbm"].predict(frame(mlflow_models.IRIS, rows)).tolist())
    finally:
        target.stop()
    # check: the model loads, the swagger example goes through run() with the declared shape, nothing is written.
    checked = subprocess.run(
        [sys.executable, "-m", "adapter", "check", "--no-wheels"],
        cwd=app,
        env={k: v for k, v in os.environ.items() if not k.startswith(("AML_", "AZUREML_", "MLFLOW_"))},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    for step in ("entry script imports", "init()", "run() answers the example", "app folder stays unchanged"):
        assert re.search(rf"{re.escape(step)} \.+ ok", checked.stdout), checked.stdout


def test_import_makes_the_models_conda_file_installable(tmp_path: Path) -> None:
    from adapter.tools.importer import mlflow as mlflow_deps

    model = tmp_path / "model"
    model.mkdir()
    (model / "MLmodel").write_text(
        "flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n    python_version: 3.12.1\n"
        "  sklearn:\n    pickled_model: model.pkl\n"
    )
    (model / "conda.yaml").write_text(
        "dependencies:\n- python=3.12\n- pip\n- pip:\n  - mlflow==2.19.0\n  - cloudpickle==3.1.1\n"
        "  - azureml-inference-server-http\n  - azureml-ai-monitoring\n"
    )
    converted, source, notes = mlflow_deps.requirements(model)
    assert [line.text for line in converted.lines] == ["mlflow-skinny==2.19.0", "cloudpickle==3.1.1", "scikit-learn"]
    assert source == "model/conda.yaml" and converted.python == "3.12"
    assert any("azureml-ai-monitoring" in d for d in converted.dropped)
    # A flavor whose loader needs the full package keeps it, and says why.
    (model / "MLmodel").write_text("flavors:\n  python_function:\n    loader_module: mlflow.transformers\n")
    converted, _, notes = mlflow_deps.requirements(model)
    assert converted.lines[0].text == "mlflow==2.19.0" and any("full mlflow" in n for n in notes)


def test_models_add_of_an_mlflow_folder_says_it_serves_without_a_script(built: Path, tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "adapter", "models", "add", "m", str(built / "columns")],
        cwd=ROOT,
        env={**os.environ, "AML_APP_ROOT": str(app)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "MLflow model" in done.stdout and "without a score.py" in done.stdout


def test_check_names_mlflow_tracking_uri_when_a_script_writes_mlruns(tmp_path: Path) -> None:
    from adapter.tools.check import mlflow as check_mlflow

    written = [tmp_path / "mlruns" / "0" / "meta.yaml", tmp_path / "out.txt"]
    assert "MLFLOW_TRACKING_URI" in check_mlflow.tracking_hint(written, tmp_path)[0]
    assert check_mlflow.tracking_hint([tmp_path / "out.txt"], tmp_path) == []


def test_describing_the_api_never_loads_the_model_and_a_missing_mlflow_is_a_503_that_says_what_to_add(
    no_code: Callable[..., InProcess], monkeypatch: pytest.MonkeyPatch
) -> None:
    target = no_code("columns")
    assert target.send(Request("GET", "/swagger.json")).status == 200
    assert target.deployment.scoring is not None
    module = target.deployment.scoring.scorer.imported().module
    assert module.scorer.model is None  # swagger came from MLmodel alone: init() has not run
    monkeypatch.setitem(sys.modules, "mlflow.pyfunc", None)  # as on an app whose requirements.txt lacks MLflow
    reply = target.send(
        Request("POST", "/score", headers={"Content-Type": "application/json"}, body=b'{"input_data": []}')
    )
    assert reply.status == 503 and "retry-after" in reply.headers
    assert "add mlflow-skinny" in reply.json()["message"]


def test_import_of_a_registered_mlflow_model_takes_the_downloaded_folder(built: Path, tmp_path: Path) -> None:
    from test_import import app_copy, run_import

    deployment = tmp_path / "deployment.yml"
    deployment.write_text("$schema: managedOnlineDeployment.schema.json\nname: blue\nmodel: azureml:diabetes:4\n")
    downloaded = tmp_path / "downloaded" / "diabetes" / "model"
    shutil.copytree(built / "diabetes", downloaded)
    app = app_copy(tmp_path)
    done = run_import(str(deployment), "--into", str(app), "--no-check", "--model", f"diabetes:4={downloaded}")
    assert done.returncode == 0, done.stderr
    assert (app / "models" / "diabetes" / "4" / "model" / "MLmodel").is_file()
    settings = Settings.from_env(
        {"AML_APP_ROOT": str(app), **json.loads((app / "local.settings.json").read_text())["Values"]}
    )
    assert settings.entry_script == mlflow_model.ADAPTER_SCRIPT and settings.mlflow_model_folder == "model"
    # A folder without MLmodel cannot be served without code: refused, nothing written.
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "model.pkl").write_bytes(b"x")
    done = run_import(str(deployment), "--into", str(app), "--no-check", "--model", f"diabetes:5={plain}")
    assert done.returncode == 2 and "has no MLmodel file" in done.stderr


def _without_hanging(call: Callable[[], Any], fifo: Path) -> list[Any]:
    """`call()`'s result (or the exception it raised), or [] when it still waits after 10 s on the named pipe, which
    is then opened for writing so that the stuck thread ends."""
    import threading

    found: list[Any] = []

    def attempt() -> None:
        try:
            found.append(call())
        except Exception as ex:
            found.append(ex)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(10)
    if worker.is_alive():
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(10)
        return []
    return found


COLUMNS_MLMODEL = (
    "flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n"
    'signature:\n  inputs: \'[{"name": "a", "type": "double"}, {"name": "b", "type": "double"}]\'\n'
    '  outputs: \'[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1]}}]\'\n'
    "saved_input_example_info:\n  artifact_path: input_example.json\n  type: dataframe\n  pandas_orient: split\n"
)


def test_a_named_pipe_for_the_input_example_is_skipped_with_a_warning_and_the_signature_describes_the_api(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Reading the example with read_text() waited for a writer forever: the script never imported, and every request
    was a 503 "still starting" with nothing logged."""
    model = tmp_path / "models" / "m" / "1" / "model"
    model.mkdir(parents=True)
    (model / "MLmodel").write_text(COLUMNS_MLMODEL)
    os.mkfifo(model / "input_example.json")
    info = mlflow_model.read(model)
    assert _without_hanging(info.example_value, model / "input_example.json") == [None]
    assert "The model's input example input_example.json cannot be read (input_example.json is not a regular " in (
        caplog.text
    )
    target = InProcess({"AML_APP_ROOT": str(tmp_path), "MLFLOW_MODEL_FOLDER": "model"})
    try:
        reply = target.send(Request("GET", "/swagger.json"))
        assert reply.status == 200, reply.body
        example = reply.json()["definitions"]["ServiceInput"]["example"]["input_data"]
        assert example["columns"] == ["a", "b"]  # the placeholder row built from the signature
    finally:
        target.stop()
        os.environ.pop("MLFLOW_MODEL_FOLDER", None)


def test_an_mlmodel_that_is_a_named_pipe_is_refused_not_waited_on(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "MLmodel")
    found = _without_hanging(lambda: mlflow_model.read(tmp_path), tmp_path / "MLmodel")
    assert len(found) == 1 and isinstance(found[0], mlflow_model.MLflowModelError), found
    assert "is not a regular file: it is a named pipe (FIFO)" in str(found[0])


def test_mlflow_runs_go_to_a_private_folder_of_each_process_and_a_set_tracking_uri_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runs folder was $TMPDIR/mlruns for every process of every user: readable by all, and another user could
    make it first to read or plant runs."""
    from urllib.parse import unquote, urlparse

    from adapter.script import mlflow_process

    def folder(uri: str) -> Path:
        assert uri.startswith("file://"), uri
        return Path(unquote(urlparse(uri).path))

    mine = mlflow_process.default_tracking_uri()
    assert mlflow_process.default_tracking_uri() == mine  # one folder for the whole process
    private = folder(mine).parent  # MLflow makes `mlruns` inside it
    info = private.stat()
    assert private.is_dir() and stat.S_IMODE(info.st_mode) == 0o700 and info.st_uid == os.getuid()
    program = "from adapter.script import mlflow_process\nprint(mlflow_process.default_tracking_uri())"
    other = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    ).stdout.strip()
    assert folder(other).parent.parent == private.parent and folder(other).parent != private
    assert not folder(other).parent.exists()  # the other process's runs went with it
    # An app's own MLFLOW_TRACKING_URI is left as it is.
    (tmp_path / "score.py").write_text("def init():\n    pass\n\n\ndef run(data):\n    return data\n")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://tracking.example:5000")
    mlflow_process.prepare(Settings.from_env({"AML_APP_ROOT": str(tmp_path)}))
    assert os.environ["MLFLOW_TRACKING_URI"] == "http://tracking.example:5000"
