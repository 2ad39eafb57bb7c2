"""A no-code MLflow deployment's requirements: what the model's own `requirements.txt` (or `conda.yaml`) lists, made
installable on a Function App.

AML builds a no-code deployment's environment from the model's files when the deployment names none; the Function App
installs requirements.txt, so those files become its lines, with two changes:

- `mlflow` becomes `mlflow-skinny` (same version spec): the pyfunc loader of the classic flavors (scikit-learn,
  LightGBM, XGBoost...) is in it, without the tracking server, UI and their dependencies (hundreds of MB less, a
  faster cold start). Flavors whose loader needs modules only the full package ships keep `mlflow`, and the import
  says why.
- the flavor's own library is added when the model's files do not list it (MLflow records it, but a hand-made folder
  may not), and AML's serving packages are dropped: the adapter serves the model and provides the `Collector`.
"""

from __future__ import annotations

import re
from pathlib import Path

from adapter import mlflow_model
from adapter.tools import documents
from adapter.tools.importer import requirements as deps
from adapter.tools.importer.deployment_file import Refused

SKINNY = "mlflow-skinny"
#: AML's serving-side packages a model's environment lists: the adapter takes their place.
SERVED_BY_ADAPTER = {
    "azureml-ai-monitoring": "the adapter provides azureml.ai.monitoring's Collector",
    "azureml-mlflow": "only for tracking to an AML workspace, never used to serve",
}


def requirements(folder: Path) -> tuple[deps.Converted, str, list[str]]:
    """(the lines, which file they come from, notes) for the MLflow model in `folder`."""
    try:
        # Through the tools' bounded reader first: the MLmodel comes from elsewhere (an alias bomb, a pipe).
        documents.read_document(folder / mlflow_model.MLMODEL, "The MLmodel file")
        info = mlflow_model.read(folder)
    except documents.DocumentError as ex:
        raise Refused(str(ex)) from None
    except mlflow_model.MLflowModelError as ex:
        raise Refused(str(ex)) from None
    notes: list[str] = []
    pip_file, conda_file = folder / "requirements.txt", folder / "conda.yaml"
    try:
        # conda.yaml first: it is the environment AML builds for a no-code deployment (MLmodel's `env`).
        if conda_file.is_file():
            conda = documents.read_document(conda_file, "The MLflow model's conda file")
            converted, source = deps.from_conda(conda, str(conda_file), folder), f"{folder.name}/conda.yaml"
        elif pip_file.is_file():
            converted, source = deps.from_pip_file(pip_file), f"{folder.name}/requirements.txt"
        else:
            converted, source = deps.Converted(), "the model's flavor (it lists no requirements)"
    except (deps.DependencyError, documents.DocumentError, OSError) as ex:
        raise Refused(f"The MLflow model's requirements cannot be read: {ex}") from None
    if converted.python is None and info.python_version:
        converted.python = info.python_version
    flavor = info.flavor
    full = mlflow_model.NEEDS_FULL_MLFLOW.get(flavor or "")
    lines: list[deps.Line] = []
    has_mlflow = False
    for line in converted.lines:
        if line.name in SERVED_BY_ADAPTER:
            converted.dropped.append(f"{line.text} ({SERVED_BY_ADAPTER[line.name]})")
            continue
        if line.name in ("mlflow", SKINNY):
            has_mlflow = True
            if line.name == "mlflow" and not full:
                spec = re.sub(r"^\s*mlflow(\[[^\]]*\])?", SKINNY, line.text, count=1, flags=re.I)
                line = deps.Line(spec, SKINNY, line.origin)
                notes.append(
                    f"{SKINNY} takes the place of mlflow: it holds the pyfunc loader the {flavor or 'model'} "
                    "flavor needs, without MLflow's tracking server and UI (a far smaller package)."
                )
        lines.append(line)
    if not has_mlflow:
        lines.insert(0, deps.Line("mlflow" if full else SKINNY, "mlflow" if full else SKINNY, "the MLflow model"))
    if full:
        notes.append(f"The full mlflow package stays: {full}.")
    library = mlflow_model.FLAVOR_LIBRARIES.get(flavor or "")
    if library and not any(line.name == deps.normalize(library) for line in lines):
        lines.append(deps.Line(library, deps.normalize(library), f"the {flavor} flavor"))
        notes.append(f"{library} is added: the {flavor} flavor loads the model with it.")
    converted.lines = lines
    return converted, source, notes
