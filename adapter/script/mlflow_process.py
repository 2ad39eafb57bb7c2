"""What MLflow needs from the process, set before any entry script is imported.

- MLFLOW_MODEL_FOLDER names the MLflow model under AZUREML_MODEL_DIR for the no-code script, as AML sets it.
- MLFLOW_TRACKING_URI: a script that logs with MLflow (or a library that does) writes its runs to `./mlruns`, the
  working directory, which is the app root here: on a Function App that folder is read-only (run from package) or
  shared by every instance, and locally `mlruns/` would land in the package. So unless the app sets its own, runs go
  under the temp folder, per process and disposable, as an AML container's do. MLflow 3 refuses to write a file
  store unless MLFLOW_ALLOW_FILE_STORE says it may (its database store needs SQLAlchemy, which mlflow-skinny leaves
  out), so that is set with it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from adapter.settings import Settings

TRACKING_URI = "MLFLOW_TRACKING_URI"
MODEL_FOLDER = "MLFLOW_MODEL_FOLDER"


def default_tracking_uri() -> str:
    return (Path(tempfile.gettempdir()) / "mlruns").as_uri()


def prepare(settings: Settings) -> None:
    if settings.mlflow_model_folder is not None:
        os.environ[MODEL_FOLDER] = settings.mlflow_model_folder
    if not os.environ.get(TRACKING_URI):
        os.environ[TRACKING_URI] = default_tracking_uri()
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
