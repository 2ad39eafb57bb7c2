"""MLflow model folders (an `MLmodel` file beside the model's files): finding one under AZUREML_MODEL_DIR and reading
what its `MLmodel` says (flavors, signature, input example), without MLflow.

AML serves such a model without a score.py ("no-code"): its MLflow images run their own scoring script with
AZUREML_MODEL_DIR and MLFLOW_MODEL_FOLDER naming the model. The adapter does the same with its own script
(`adapter/script/mlflow_score_script.py`); this module is what settings, `import`, `models add` and `check` need to
know about the folder. Reading MLmodel takes PyYAML, which MLflow itself requires (so every app that serves an MLflow
model has it); it is imported only here, only when an MLmodel is read.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapter import paths

logger = logging.getLogger("adapter")

MLMODEL = "MLmodel"
#: The most of an MLmodel file and of a saved input example that is read: both are read when the script is imported,
#: and are kilobytes (a signature of thousands of columns stays well under this).
READ_LIMIT = 16 << 20
#: AML's name for its MLflow scoring script (AZUREML_ENTRY_SCRIPT in its MLflow images): naming it when the app has
#: no file of that name selects the adapter's own.
ENTRY_SCRIPT_NAME = "mlflow_score_script.py"
#: Output schema keyword naming the positions of each row's list, in order: written for a 2-D answer whose columns
#: the output signature names (a library flavor answers a list of class probabilities per row, not records), so a
#: client (the Power Query function) can give each position its column. A vendor extension, valid in every OpenAPI
#: version; a user's swagger file may declare it too.
COLUMN_NAMES = "x-column-names"
#: The adapter's no-code entry script.
ADAPTER_SCRIPT = Path(__file__).resolve().parent / "script" / ENTRY_SCRIPT_NAME
#: Where an MLmodel is looked for under AZUREML_MODEL_DIR: the folder itself, a registered folder inside a version
#: folder (AML's layout: VERSION/model/MLmodel), or that under `models/NAME/VERSION/` when several are bundled.
SEARCH = (MLMODEL, f"*/{MLMODEL}", f"*/*/*/{MLMODEL}")

#: MLflow's column types (`mlflow.types.DataType`) as pandas dtypes, as `Schema.pandas_types()` maps them.
PANDAS_TYPES = {
    "boolean": "bool",
    "integer": "int32",
    "long": "int64",
    "float": "float32",
    "double": "float64",
    "string": "object",
    "binary": "object",
    "datetime": "datetime64[ns]",
}
#: Flavors whose pyfunc loader needs the full `mlflow` package rather than `mlflow-skinny` (their loaders import
#: parts skinny leaves out), with why.
NEEDS_FULL_MLFLOW = {
    "transformers": "the transformers flavor loads through modules only the full mlflow package ships",
    "langchain": "the langchain flavor loads through modules only the full mlflow package ships",
    "openai": "the openai flavor loads through modules only the full mlflow package ships",
    "hftransformersv2": "AML's hftransformersv2 flavor is served by AML's own images only",
}
#: The library each classic flavor's loader imports, as a PyPI name.
FLAVOR_LIBRARIES = {
    "sklearn": "scikit-learn",
    "lightgbm": "lightgbm",
    "xgboost": "xgboost",
    "catboost": "catboost",
    "statsmodels": "statsmodels",
    "prophet": "prophet",
    "pytorch": "torch",
    "tensorflow": "tensorflow",
    "keras": "keras",
    "onnx": "onnxruntime",
    "spacy": "spacy",
    "h2o": "h2o",
    "paddle": "paddlepaddle",
    "fastai": "fastai",
    "pmdarima": "pmdarima",
    "spark": "pyspark",
}


class MLflowModelError(Exception):
    """An MLflow model folder that cannot be read or used; the message says why."""


@dataclass(frozen=True)
class Column:
    """One input or output of a signature: a named or unnamed column, or a tensor."""

    name: str | int | None
    #: The column's MLflow type ("double", "string"...), or "tensor".
    type: str
    #: For a tensor: its numpy dtype and shape (-1 for any size).
    dtype: str | None = None
    shape: tuple[int, ...] | None = None
    required: bool = True

    @property
    def is_tensor(self) -> bool:
        return self.type == "tensor"

    @property
    def pandas_type(self) -> str:
        return PANDAS_TYPES.get(self.type, "object")


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: Any = None
    shape: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Signature:
    inputs: tuple[Column, ...]
    outputs: tuple[Column, ...]
    params: tuple[Param, ...] | None = None

    @property
    def tensor_inputs(self) -> bool:
        return bool(self.inputs) and all(c.is_tensor for c in self.inputs)

    @property
    def named_inputs(self) -> bool:
        return all(c.name is not None for c in self.inputs)


@dataclass(frozen=True)
class MLmodel:
    folder: Path
    flavors: dict[str, dict[str, Any]]
    signature: Signature | None
    #: `saved_input_example_info`: where the example is and of which type ("dataframe", "ndarray"...).
    input_example: dict[str, Any] | None = None
    mlflow_version: str | None = None
    python_version: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def loader_module(self) -> str | None:
        value = self.flavors.get("python_function", {}).get("loader_module")
        return value if isinstance(value, str) else None

    @property
    def flavor(self) -> str | None:
        """The flavor that serves it: the one its pyfunc loader belongs to (`mlflow.sklearn` -> sklearn)."""
        loader = self.loader_module or ""
        if loader.startswith("mlflow.") and loader.count(".") == 1:
            return loader.split(".")[1]
        others = [name for name in self.flavors if name != "python_function"]
        return others[0] if others else None

    def example_value(self) -> Any:
        """The saved input example as JSON, or None (no example, or one that cannot be read, which is logged: the
        schema then comes from the signature). Read as a regular file only, and at most READ_LIMIT bytes: a named
        pipe there would hang the script's import, and with it every request, forever."""
        info = self.input_example or {}
        where = info.get("artifact_path")
        if not isinstance(where, str):
            return None
        path = (self.folder / where).resolve()
        if not path.is_relative_to(self.folder.resolve()):
            return None
        try:
            data = paths.read_regular_file(path, READ_LIMIT + 1)
            if len(data) > READ_LIMIT:
                raise ValueError(f"it is larger than {READ_LIMIT >> 20} MiB")
            return json.loads(data.decode("utf-8"))
        except (OSError, ValueError) as ex:
            logger.warning(
                "The model's input example %s cannot be read (%s); the schema comes from its signature", where, ex
            )
            return None


def find(model_dir: Path | None, folder: str | None = None) -> Path | None:
    """The MLflow model folder: `folder` under `model_dir` when given (MLFLOW_MODEL_FOLDER), else the one folder
    under it holding an MLmodel. None when there is none, or more than one to choose from. Never outside
    `model_dir`."""
    if model_dir is None or not model_dir.is_dir():
        return None
    real = model_dir.resolve()
    if folder:
        candidate = (model_dir / folder).resolve()
        if not candidate.is_relative_to(real) or not (candidate / MLMODEL).is_file():
            return None
        return candidate
    for pattern in SEARCH:
        found = [p.parent for p in sorted(model_dir.glob(pattern)) if p.is_file() and not _hidden(p, model_dir)]
        found = [p for p in found if p.resolve().is_relative_to(real)]
        if len(found) == 1:
            return found[0]
        if found:
            return None
    return None


def relative_folder(model_dir: Path, folder: Path) -> str:
    """MLFLOW_MODEL_FOLDER's value for `folder`: its path under AZUREML_MODEL_DIR ("." for the folder itself)."""
    return folder.resolve().relative_to(model_dir.resolve()).as_posix() or "."


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def read(folder: Path) -> MLmodel:
    """What `folder/MLmodel` says. Raises `MLflowModelError` when it cannot be read."""
    path = folder / MLMODEL
    try:
        import yaml
    except ImportError:
        raise MLflowModelError(
            "Reading an MLflow model's MLmodel file needs PyYAML, which MLflow installs: add mlflow-skinny to "
            "requirements.txt."
        ) from None
    try:
        text = paths.read_regular_file(path, READ_LIMIT + 1)
        if len(text) > READ_LIMIT:
            raise MLflowModelError(f"{path} is larger than {READ_LIMIT >> 20} MiB; it is not an MLmodel file.")
        data = yaml.safe_load(text.decode("utf-8"))
    except (OSError, UnicodeDecodeError) as ex:
        raise MLflowModelError(f"{path} cannot be read ({ex}).") from None
    except yaml.YAMLError as ex:
        raise MLflowModelError(f"{path} is not valid YAML ({' '.join(str(ex).split())}).") from None
    if not isinstance(data, dict):
        raise MLflowModelError(f"{path} is not an MLmodel file: it holds no settings.")
    flavors = data.get("flavors")
    if not isinstance(flavors, dict) or not flavors:
        raise MLflowModelError(f"{path} names no flavors, so nothing can load the model.")
    info = data.get("saved_input_example_info")
    metadata = data.get("metadata")
    python_function = flavors.get("python_function")
    python = python_function.get("python_version") if isinstance(python_function, dict) else None
    return MLmodel(
        folder=folder,
        flavors={str(k): v if isinstance(v, dict) else {} for k, v in flavors.items()},
        signature=_signature(data.get("signature"), path),
        input_example=info if isinstance(info, dict) else None,
        mlflow_version=str(data["mlflow_version"]) if data.get("mlflow_version") else None,
        python_version=str(python) if python else None,
        metadata=metadata if isinstance(metadata, dict) else {},
    )


def _signature(raw: object, path: Path) -> Signature | None:
    if not isinstance(raw, dict) or not raw.get("inputs"):
        return None
    try:
        inputs = tuple(_column(c) for c in _json_list(raw.get("inputs")))
        outputs = tuple(_column(c) for c in _json_list(raw.get("outputs")))
        params = raw.get("params")
        parsed = tuple(_param(p) for p in _json_list(params)) if params else None
    except (ValueError, TypeError, KeyError) as ex:
        raise MLflowModelError(f"{path}: the signature cannot be read ({ex}).") from None
    return Signature(inputs, outputs, parsed)


def _json_list(value: object) -> list[dict[str, Any]]:
    if value is None:
        return []
    parsed = json.loads(value) if isinstance(value, str) else value
    if not isinstance(parsed, list) or not all(isinstance(item, dict) for item in parsed):
        raise ValueError("it is not a list of specs")
    return parsed


def _column(spec: dict[str, Any]) -> Column:
    kind = str(spec["type"])
    name = spec.get("name")
    required = bool(spec.get("required", True))
    if kind == "tensor":
        tensor = spec["tensor-spec"]
        return Column(name, kind, str(tensor["dtype"]), tuple(int(d) for d in tensor["shape"]), required)
    return Column(name, kind, required=required)


def _param(spec: dict[str, Any]) -> Param:
    shape = spec.get("shape")
    return Param(str(spec["name"]), str(spec["type"]), spec.get("default"), tuple(shape) if shape else None)
