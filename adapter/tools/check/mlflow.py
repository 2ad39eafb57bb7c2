"""What `check` says about MLflow: a script that writes MLflow runs into the app folder (`mlruns/`, `mlflow.db`)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

#: What MLflow writes in the working directory when its tracking URI points there.
MLFLOW_FILES = ("mlruns", "mlflow.db", "mlartifacts")


def tracking_hint(written: Iterable[Path], root: Path) -> list[str]:
    """A line naming MLFLOW_TRACKING_URI when MLflow's run store is among the files written, else none."""
    for path in written:
        try:
            first = path.relative_to(root).parts[0]
        except (ValueError, IndexError):
            continue
        if first in MLFLOW_FILES:
            return [
                f"MLflow wrote its runs to {first} in the app folder: the app sets MLFLOW_TRACKING_URI to a folder "
                "under the temp folder unless it is set already; unset it, or point it at a temp folder or a "
                "tracking server."
            ]
    return []
