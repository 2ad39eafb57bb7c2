"""The bundled sample (score.py + models/iris-classifier/1) serves out of the box and answers like azmlinfsrv."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from targets import ROOT, Request, Serve

README_EXAMPLE = {
    "Inputs": {
        "data": [{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}],
        "matrix": [[6.7, 3.0, 5.2, 2.3]],
    },
    "GlobalParameters": {"method": "predict"},
}
JSON_HEADERS = {"Content-Type": "application/json", "X-Request-Id": "sample"}
SAMPLE_ENV = {
    "AML_APP_ROOT": str(ROOT),
    "AZUREML_ENTRY_SCRIPT": "score.py",
    "AZUREML_MODEL_DIR": str(ROOT / "models" / "iris-classifier" / "1"),
}


def post(document: object) -> Request:
    return Request("POST", body=json.dumps(document).encode(), headers=JSON_HEADERS)


def test_serves_out_of_the_box_with_no_configuration(tmp_path: Path) -> None:
    server = Serve({}, tmp_path / "serve.log", clean=True)
    try:
        predicted = server.send(post(README_EXAMPLE))
        proba = server.send(post({**README_EXAMPLE, "GlobalParameters": {"method": "predict_proba"}}))
    finally:
        server.stop()
    assert (predicted.status, predicted.json()) == (200, {"Results": ["setosa", "virginica"]})
    rows = proba.json()["Results"]  # type: ignore[index]
    assert [max(row, key=row.get) for row in rows] == ["setosa", "virginica"]
    assert all(abs(sum(row.values()) - 1) < 1e-9 for row in rows)


@pytest.mark.parametrize(
    "request_",
    [
        post(README_EXAMPLE),
        post(
            {"Inputs": {"data": [{"sepal_length": 5.9, "sepal_width": 3.0, "petal_length": 4.2, "petal_width": 1.5}]}}
        ),
        post({**README_EXAMPLE, "GlobalParameters": {"method": "explain"}}),
        post({"GlobalParameters": {"method": "predict"}}),
        Request("GET", headers=JSON_HEADERS),
    ],
    ids=["predict", "no-globals", "unknown-method", "no-inputs", "get"],
)
def test_sample_answers_like_azmlinfsrv(trios, request_: Request) -> None:  # type: ignore[no-untyped-def]
    from test_differential import comparable

    trio = trios.get(SAMPLE_ENV)
    expected = comparable(trio.reference.send(request_))
    assert comparable(trio.in_process.send(request_)) == expected
    assert comparable(trio.serve.send(request_)) == expected


def test_training_script_reproduces_the_bundled_model(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    out = tmp_path / "model.npz"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "train_sample_model.py"), "--out", str(out)], check=True)
    import numpy as np

    with np.load(out) as fresh, np.load(ROOT / "models" / "iris-classifier" / "1" / "iris_model.npz") as bundled:
        assert fresh.files == bundled.files
        for name in fresh.files:
            if fresh[name].dtype.kind == "U":
                assert (fresh[name] == bundled[name]).all()
            else:
                np.testing.assert_allclose(fresh[name], bundled[name], rtol=1e-6)
