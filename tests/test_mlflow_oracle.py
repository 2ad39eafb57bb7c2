"""The adapter's MLflow script under azmlinfsrv 1.5.1 answers every request of tests/test_mlflow.py as the adapter
serves it (status and body): the script is an entry script like any other, so azmlinfsrv can run it unchanged, and
what it answers there is what it answers on a Function App."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import requests
from targets import ROOT, InProcess, Reference, Request
from test_mlflow import CASES, built  # noqa: F401  # the module-scoped fixture that builds the models

from adapter import mlflow_model


@pytest.mark.parametrize("model", sorted({case[0] for case in CASES}))
def test_azmlinfsrv_running_our_script_answers_as_we_do(model: str, built: Path, tmp_path: Path) -> None:  # noqa: F811
    bodies: list[dict[str, Any]] = [body for name, body, _ in CASES if name == model]
    env = {
        "AML_APP_ROOT": str(mlflow_model.ADAPTER_SCRIPT.parent),
        "AZUREML_ENTRY_SCRIPT": mlflow_model.ENTRY_SCRIPT_NAME,
        "AZUREML_MODEL_DIR": str(built),
        "MLFLOW_MODEL_FOLDER": model,
        "PYTHONPATH": str(ROOT),
    }
    reference = Reference(env, tmp_path / "azmlinfsrv.log")
    try:
        theirs = [
            (r.status_code, r.json())
            for r in (requests.post(f"{reference.base}/score", json=body, timeout=60) for body in bodies)
        ]
    finally:
        reference.stop()
    app = tmp_path / "app"
    app.mkdir()
    ours = InProcess({"AML_APP_ROOT": str(app), "AZUREML_MODEL_DIR": str(built), "MLFLOW_MODEL_FOLDER": model})
    try:
        mine = []
        for body in bodies:
            reply = ours.send(
                Request("POST", "/score", headers={"Content-Type": "application/json"}, body=json.dumps(body).encode())
            )
            mine.append((reply.status, reply.json()))
    finally:
        ours.stop()
        os.environ.pop("MLFLOW_MODEL_FOLDER", None)
    assert mine == theirs
