"""What MLflow needs from the process, set before any entry script is imported.

- MLFLOW_MODEL_FOLDER names the MLflow model under AZUREML_MODEL_DIR for the no-code script, as AML sets it.
- MLFLOW_TRACKING_URI: a script that logs with MLflow (or a library that does) writes its runs to `./mlruns`, the
  working directory, which is the app root here: on a Function App that folder is read-only (run from package) or
  shared by every instance, and locally `mlruns/` would land in the package. So unless the app sets its own, runs go
  into a private folder of this process under the temp folder (`mlruns-XXXXXXXX/mlruns`, the folder mode 0700,
  made once per process and deleted when it exits), as an AML container's are its own and disposable: a fixed
  `/tmp/mlruns` would be shared by every process and user of the machine, readable by all, and could be made in
  advance by another user to read or plant runs. MLflow 3 refuses to write a file store unless
  MLFLOW_ALLOW_FILE_STORE says it may (its database store needs SQLAlchemy, which mlflow-skinny leaves out), so that
  is set with it.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
from pathlib import Path

from adapter.settings import Settings

TRACKING_URI = "MLFLOW_TRACKING_URI"
MODEL_FOLDER = "MLFLOW_MODEL_FOLDER"

_lock = threading.Lock()
_runs: Path | None = None


def default_tracking_uri() -> str:
    """This process's own MLflow runs folder as a file URI: `mlruns` in a private folder made on first use (mkdtemp
    makes it 0700, with a name nobody can claim in advance), the same for every later call in this process, deleted
    at exit. `mlruns` itself is left for MLflow to make: its file store sets up the default experiment only in a
    folder it creates. A process this one starts (or forks) inherits MLFLOW_TRACKING_URI, so shares it, as it
    shares the app's other files."""
    global _runs
    with _lock:
        if _runs is None:
            _runs = Path(tempfile.mkdtemp(prefix="mlruns-"))
            atexit.register(_remove, os.getpid(), _runs)
        return (_runs / "mlruns").as_uri()


def _remove(pid: int, folder: Path) -> None:
    if os.getpid() == pid:  # a forked child that exits normally leaves its parent's runs alone
        shutil.rmtree(folder, ignore_errors=True)


def prepare(settings: Settings) -> None:
    if settings.mlflow_model_folder is not None:
        os.environ[MODEL_FOLDER] = settings.mlflow_model_folder
    if not os.environ.get(TRACKING_URI):
        os.environ[TRACKING_URI] = default_tracking_uri()
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
