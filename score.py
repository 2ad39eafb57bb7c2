"""Sample Azure ML entry script: iris species from flower measurements.

Written the way AML (and Power BI's AML integration) expects a schema-decorated script to look, so it runs unchanged
under `azmlinfsrv` and on Azure Functions:

    POST /score
    {"Inputs": {"data": [{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}]},
     "GlobalParameters": {"method": "predict"}}
    -> {"Results": ["setosa"]}

`Inputs` holds rows as a table (`data`, records -> pandas DataFrame) and/or as a plain matrix (`matrix`, nested lists
-> numpy array, columns in the order sepal_length, sepal_width, petal_length, petal_width). Either key may be left
out; when both are sent, the results are for the `data` rows followed by the `matrix` rows.

`GlobalParameters.method` is "predict" (default; one class name per row) or "predict_proba" (one
{class name: probability} object per row).

The model is a standardise + multinomial logistic regression exported by `scripts/train_sample_model.py` as plain
numpy arrays (`iris_model.npz`), so serving needs only numpy and pandas.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
from inference_schema.parameter_types.numpy_parameter_type import NumpyParameterType
from inference_schema.parameter_types.pandas_parameter_type import PandasParameterType
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType
from inference_schema.schema_decorators import input_schema, output_schema

MODEL_FILE = "iris_model.npz"
FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
METHODS = ("predict", "predict_proba")

# Samples double as the Swagger examples; they are public, so they are textbook iris rows.
data_sample = pd.DataFrame({"sepal_length": [5.1], "sepal_width": [3.5], "petal_length": [1.4], "petal_width": [0.2]})
matrix_sample = np.array([[6.7, 3.0, 5.2, 2.3]])

# enforce_shape=False on `data` so that a missing column reaches run() and gets a message naming it (inference-schema
# would only say "size 3 on dimension #1"); extra columns are ignored.
inputs_sample = StandardPythonParameterType(
    {
        "data": PandasParameterType(data_sample, enforce_shape=False),
        "matrix": NumpyParameterType(matrix_sample),
    }
)
global_parameters_sample = StandardPythonParameterType({"method": "predict"})
output_sample = StandardPythonParameterType({"Results": NumpyParameterType(np.array(["setosa"]))})

mean: np.ndarray
scale: np.ndarray
coef: np.ndarray
intercept: np.ndarray
class_names: list[str]


def init() -> None:
    global mean, scale, coef, intercept, class_names

    model_dir = os.getenv("AZUREML_MODEL_DIR")
    if not model_dir:
        raise RuntimeError("AZUREML_MODEL_DIR is not set; it must name the folder holding " + MODEL_FILE)
    model_path = os.path.join(model_dir, MODEL_FILE)
    with np.load(model_path, allow_pickle=False) as model:
        feature_names = [str(name) for name in model["feature_names"]]
        if feature_names != FEATURES:
            raise RuntimeError(f"{model_path} was trained on columns {feature_names}, this script expects {FEATURES}")
        mean = model["scaler_mean"]
        scale = model["scaler_scale"]
        coef = model["coef"]
        intercept = model["intercept"]
        class_names = [str(name) for name in model["class_names"]]


# GlobalParameters is read as sent (convert_to_provided_type=False, as AutoML's scripts do) so that leaving it out of
# the request falls back to the default below instead of failing inference-schema's "expected a dict" check.
@input_schema("Inputs", inputs_sample)
@input_schema("GlobalParameters", global_parameters_sample, convert_to_provided_type=False)
@output_schema(output_sample)
def run(Inputs: dict, GlobalParameters: dict | None = None) -> dict:
    method = _method(GlobalParameters)
    rows = _rows(Inputs)
    probabilities = _predict_proba(rows)
    if method == "predict":
        return {"Results": [class_names[i] for i in probabilities.argmax(axis=1)]}
    return {"Results": [dict(zip(class_names, map(float, row), strict=True)) for row in probabilities]}


def _method(global_parameters: object) -> str:
    if global_parameters is None:
        return "predict"
    if not isinstance(global_parameters, dict):
        raise ValueError(f'GlobalParameters must be an object like {{"method": "predict"}}, got {global_parameters!r}')
    method = global_parameters.get("method", "predict")
    if method not in METHODS:
        raise ValueError(f"Unknown method {method!r} in GlobalParameters; expected one of: {', '.join(METHODS)}")
    return method


def _rows(inputs: object) -> np.ndarray:
    """All input rows as one float matrix in FEATURES order: `data` rows, then `matrix` rows."""
    if not isinstance(inputs, dict) or not ("data" in inputs or "matrix" in inputs):
        raise ValueError('Inputs must be an object with "data" (a list of records) and/or "matrix" (a list of rows)')
    parts = []
    if "data" in inputs:
        frame = inputs["data"]  # a DataFrame: inference-schema has converted the records
        if len(frame) > 0:
            missing = [column for column in FEATURES if column not in frame.columns]
            if missing:
                raise ValueError(
                    f"Inputs.data is missing column(s) {', '.join(missing)}; each record needs {', '.join(FEATURES)}"
                )
            parts.append(frame[FEATURES].to_numpy(dtype=np.float64))
    if "matrix" in inputs:
        parts.append(np.asarray(inputs["matrix"], dtype=np.float64))  # shape (n, 4), checked by inference-schema
    rows = np.concatenate(parts) if parts else np.empty((0, len(FEATURES)))
    if not np.isfinite(rows).all():
        raise ValueError("Inputs contain a null, NaN or infinite measurement; every feature needs a number")
    return rows


def _predict_proba(rows: np.ndarray) -> np.ndarray:
    scores = ((rows - mean) / scale) @ coef.T + intercept
    scores -= scores.max(axis=1, keepdims=True)
    exp = np.exp(scores)
    return exp / exp.sum(axis=1, keepdims=True)
