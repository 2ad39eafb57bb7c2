"""The adapter's entry script for MLflow models deployed without a score.py: AML's "no-code" deployment.

An entry script like any other: the lifecycle imports this file (as `entry_module`), runs `init()` once and calls
`run()` through `Scorer.call`, with the same 503 and back-off when loading fails. It answers as the scoring script
of AML's MLflow inference images does (the contract is described in docs/mlflow.md):

- `run(input_data, params=None)` is decorated with inference-schema from the model's signature and input example, so
  `/swagger.json` describes `input_data` (and `params`) and a missing `input_data` is azmlinfsrv's 400;
- column signatures take a DataFrame in pandas' split orient (`{"columns": [...], "index": [...], "data": [...]}`,
  index optional), tensor signatures an array or an object of named arrays; models without a signature take any of
  those;
- `params` go to `predict()`, which applies the signature's params schema and its defaults (and ignores them where
  the model has none);
- the answer is the prediction as JSON: a list for an array, records for a DataFrame; an error in the model or the
  data is the generic 500 of any failing `run()`;
- inputs and outputs go to the `Collector`s `model_inputs` and `model_outputs` only when the app asks for data
  collection (`AML_DATA_COLLECTION_LOG=true` or `AML_DATA_COLLECTION_DIR`; `import` writes the first for a deployment
  whose `data_collector` enables them), as AML's script collects only when the deployment's `data_collector` does:
  collection is otherwise on by default in the adapter, which would send every request's rows and predictions to
  Application Insights.

Importing reads only MLmodel (the signature, for the schema): MLflow itself is imported by `init()`, where the model is
loaded, so describing the API never loads a model and a missing MLflow is an `init()` failure that says what to add.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from inference_schema.parameter_types.abstract_parameter_type import AbstractParameterType
from inference_schema.parameter_types.numpy_parameter_type import NumpyParameterType
from inference_schema.parameter_types.pandas_parameter_type import PandasParameterType
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType
from inference_schema.schema_decorators import input_schema, output_schema

from adapter import mlflow_model
from adapter.azureml import data_collection
from adapter.mlflow_model import Column, MLmodel, Signature

logger = logging.getLogger("adapter")

#: Placeholder values of a generated example row, by MLflow type.
PLACEHOLDERS: dict[str, Any] = {"boolean": True, "string": "sample string", "integer": 42, "long": 42}
PLACEHOLDER_NUMBER = 0.15
#: The pyfunc loader of custom Python models (`mlflow.pyfunc.PythonModel`).
PYTHON_MODEL_LOADER = "mlflow.pyfunc.model"
MISSING_MLFLOW = (
    "Loading an MLflow model needs MLflow: add mlflow-skinny (and the library of the model's flavor, like "
    "scikit-learn) to requirements.txt; python -m adapter import writes them from the model's requirements ({error})"
)


class NoSample(AbstractParameterType):  # type: ignore[misc]
    """A parameter without a signature to describe it: passed through as sent, described as any object."""

    def __init__(self) -> None:
        super().__init__(None)

    def deserialize_input(self, input_data: Any) -> Any:
        return input_data

    def input_to_swagger(self) -> dict[str, Any]:
        return {"type": "object", "example": {}}


class SplitFrame(PandasParameterType):  # type: ignore[misc]
    """A DataFrame in the split orient. A row of columns of different JSON types (numbers and strings) has no one
    item type: such rows are described as any values, where inference-schema would name the first column's type
    and drop OpenAPI 2 (the default `/swagger.json`) for the example's mixed rows."""

    def input_to_swagger(self) -> dict[str, Any]:
        schema: dict[str, Any] = super().input_to_swagger()
        kinds = {_json_type(str(dtype)) for dtype in self.sample_input.dtypes}
        if len(kinds) > 1:
            schema["properties"]["data"]["items"]["items"] = {}
        return schema

    def supported_versions(self) -> list[str]:
        return ["2.0", "3.0", "3.1"]


def _json_type(dtype: str) -> str:
    if dtype.startswith(("float", "int", "uint")):
        return "number"
    return "boolean" if dtype == "bool" else "string"


class Scorer:
    """This deployment's model: what its MLmodel says (read at import), the loaded pyfunc model (at `init()`)."""

    def __init__(self, model_dir: str | None, folder: str | None) -> None:
        if not model_dir:
            raise RuntimeError("AZUREML_MODEL_DIR is not set, so there is no MLflow model to serve.")
        found = mlflow_model.find(Path(model_dir), folder)
        if found is None:
            raise RuntimeError(f"No MLflow model (a folder with an MLmodel file) under {model_dir}/{folder or ''}.")
        self.info: MLmodel = mlflow_model.read(found)
        self.model: Any = None
        self.takes_params = False
        self.inputs_collector: Any = None
        self.outputs_collector: Any = None

    def load(self) -> None:
        try:
            from mlflow.pyfunc import load_model
        except ImportError as ex:
            raise RuntimeError(MISSING_MLFLOW.format(error=ex)) from None
        logger.info("Loading the MLflow model in %s", self.info.folder)
        self.model = load_model(str(self.info.folder))
        self.takes_params = "params" in inspect.signature(self.model.predict).parameters
        if not data_collection.requested():
            logger.info(
                "Data collection is off for the MLflow model (AML collects only with the deployment's data_collector): "
                "set AML_DATA_COLLECTION_LOG=true to collect its inputs and outputs"
            )
            return
        try:
            from azureml.ai.monitoring import Collector

            self.inputs_collector = Collector(name="model_inputs")
            self.outputs_collector = Collector(name="model_outputs")
        except Exception:  # as AML's script: collection never stops scoring
            logger.exception("The model_inputs and model_outputs collectors cannot be created")

    def predict(self, input_data: Any, params: Any) -> Any:
        if self.model is None:
            raise RuntimeError("init() has not loaded the model")
        data = input_data if _parsed(input_data) else _parse(input_data)
        context = self._collect(self.inputs_collector, data, None)
        result = self.model.predict(data, params=params) if self.takes_params else self.model.predict(data)
        try:
            self._collect(self.outputs_collector, pd.DataFrame(result), context)
        except Exception:
            logger.exception("The model's output cannot be collected")
        return jsonable(result)

    @staticmethod
    def _collect(collector: Any, data: Any, context: Any) -> Any:
        if collector is None:
            return None
        try:
            return collector.collect(data, context) if context is not None else collector.collect(data)
        except Exception:
            logger.exception("Data collection failed")
            return None


def _parsed(value: Any) -> bool:
    """Whether inference-schema already made the model's input of it (a signature says what it is)."""
    if isinstance(value, np.ndarray | pd.DataFrame):
        return True
    return isinstance(value, dict) and bool(value) and isinstance(next(iter(value.values())), np.ndarray)


def _parse(value: Any) -> Any:
    """Input of a model without a signature, as AML's script reads it: a list is an array, a split-orient object a
    DataFrame (here without `index` too), any other object named arrays."""
    if isinstance(value, str):
        value = json.loads(value)
    if isinstance(value, dict) and "input_data" in value:
        value = value["input_data"]
    if isinstance(value, list):
        return np.asarray(value)
    if isinstance(value, dict) and "columns" in value and "data" in value:
        return _split_frame(value)
    if isinstance(value, dict):
        return {name: np.asarray(item) for name, item in value.items()}
    return value


def _split_frame(value: dict[str, Any]) -> pd.DataFrame:
    from io import StringIO

    return pd.read_json(StringIO(json.dumps(value)), orient="split", dtype=False)


def jsonable(result: Any) -> Any:
    """The prediction as AML's script answers it: arrays as lists, DataFrames (and Series) as records."""
    if isinstance(result, np.ndarray):
        return result.tolist()
    if isinstance(result, pd.DataFrame):
        return result.to_dict(orient="records")
    if isinstance(result, pd.Series):
        return pd.DataFrame(result).to_dict(orient="records")
    return result


# The schema: from the saved input example when there is one, else from the signature (as AML's script builds it).


def _example_sample(info: MLmodel) -> Any:
    loaded = info.example_value()
    kind = (info.input_example or {}).get("type")
    if loaded is None:
        return None
    try:
        if kind == "dataframe" and isinstance(loaded, dict | list):
            if isinstance(loaded, dict) and "columns" in loaded:
                return _split_frame(loaded)
            from io import StringIO

            return pd.read_json(StringIO(json.dumps(loaded)), orient="values", dtype=False)
        if kind == "ndarray":
            inputs = loaded.get("inputs", loaded) if isinstance(loaded, dict) else loaded
            if isinstance(inputs, dict):
                return {name: np.asarray(value) for name, value in inputs.items()}
            return np.asarray(inputs)
    except ValueError:
        logger.warning("The model's input example cannot be read; the schema comes from its signature")
    return None


def _batch_of_one(shape: tuple[int, ...] | None) -> tuple[int, ...]:
    dims = list(shape or ())
    return tuple(1 if d == -1 else d for d in dims) if dims else ()


def _tensor_sample(columns: tuple[Column, ...], named: bool) -> Any:
    if not named:
        return np.zeros(_batch_of_one(columns[0].shape), dtype=columns[0].dtype)
    return {str(c.name): np.zeros(_batch_of_one(c.shape), dtype=c.dtype) for c in columns}


def _column_sample(columns: tuple[Column, ...], rows: int) -> pd.DataFrame:
    """A typed DataFrame of the signature's columns: `rows` placeholder rows (an input's example) or none."""
    names = [c.name if c.name is not None else i for i, c in enumerate(columns)]
    values = {
        name: [PLACEHOLDERS.get(c.type, PLACEHOLDER_NUMBER)] * rows
        for name, c in zip(names, columns, strict=True)
        if c.type not in ("datetime", "binary")
    }
    frame = pd.DataFrame({name: values.get(name, [None] * rows) for name in names}, columns=names)
    return frame.astype({name: c.pandas_type for name, c in zip(names, columns, strict=True)})


def _param_sample(signature: Signature | None) -> dict[str, Any] | None:
    if signature is None or not signature.params:
        return None
    return {
        p.name: p.default if p.default is not None else PLACEHOLDERS.get(p.type, PLACEHOLDER_NUMBER)
        for p in signature.params
    }


def _input_type(sample: Any) -> AbstractParameterType:
    if isinstance(sample, np.ndarray):
        return NumpyParameterType(sample, enforce_shape=False)
    if isinstance(sample, pd.DataFrame):
        return SplitFrame(sample, enforce_shape=False, orient="split")
    if isinstance(sample, dict) and sample:
        return StandardPythonParameterType(
            {name: NumpyParameterType(np.asarray(value), enforce_shape=False) for name, value in sample.items()}
        )
    return NoSample()


def _output_type(info: MLmodel) -> AbstractParameterType:
    """What `run()` answers. Column outputs: a custom Python model returns what it likes (a DataFrame, so records, as
    AML's script declares); the library flavors (scikit-learn, LightGBM, XGBoost...) predict an array, one column
    of it per output column, which AML's script declares as records although it answers a list."""
    signature = info.signature
    if signature is None or not signature.outputs:
        return NoSample()
    outputs = signature.outputs
    if all(c.is_tensor for c in outputs):
        return _input_type(_tensor_sample(outputs, all(c.name is not None for c in outputs)))
    if info.loader_module == PYTHON_MODEL_LOADER:
        return PandasParameterType(_column_sample(outputs, 0), enforce_shape=False, orient="records")
    frame = _column_sample(outputs, 1)
    row = frame.to_numpy()
    if len(outputs) == 1:
        return NumpyParameterType(row[:, 0], enforce_shape=False)
    if all(c.name is not None for c in outputs):
        return NamedColumns(row, [str(c.name) for c in outputs])
    return NumpyParameterType(row, enforce_shape=False)


class NamedColumns(NumpyParameterType):  # type: ignore[misc]
    """A 2-D answer whose columns the signature names: each row's list is declared with its length and the names of
    its positions (`COLUMN_NAMES`), which inference-schema's array schema would lose, so a client can make columns
    of them (the Power Query function does)."""

    def __init__(self, sample: np.ndarray, names: list[str]) -> None:
        super().__init__(sample, enforce_shape=False)
        self.names = names

    def input_to_swagger(self) -> dict[str, Any]:
        schema: dict[str, Any] = super().input_to_swagger()
        row = schema.get("items")
        if isinstance(row, dict) and row.get("type") == "array":
            row.update(minItems=len(self.names), maxItems=len(self.names))
            row[mlflow_model.COLUMN_NAMES] = list(self.names)
        return schema


def schema_types(info: MLmodel) -> tuple[AbstractParameterType, AbstractParameterType, AbstractParameterType]:
    """The (input_data, params, output) types of `run()` for this model."""
    signature = info.signature
    sample = _example_sample(info) if info.input_example else None
    if sample is None and signature is not None and signature.inputs:
        if signature.tensor_inputs:
            sample = _tensor_sample(signature.inputs, signature.named_inputs)
        else:
            sample = _column_sample(signature.inputs, 1)
    params = _param_sample(signature)
    params_type = StandardPythonParameterType(params) if params is not None else NoSample()
    return _input_type(sample), params_type, _output_type(info)


scorer = Scorer(os.environ.get("AZUREML_MODEL_DIR"), os.environ.get("MLFLOW_MODEL_FOLDER"))
_input_data_type, _params_type, _output_type_ = schema_types(scorer.info)


def init() -> None:
    scorer.load()


@input_schema("input_data", _input_data_type)  # type: ignore[untyped-decorator]
@input_schema("params", _params_type, optional=True)  # type: ignore[untyped-decorator]
@output_schema(_output_type_)  # type: ignore[untyped-decorator]
def run(input_data: Any, params: Any = None) -> Any:
    return scorer.predict(input_data, params)
