"""MLflow models of every signature kind AML's MLflow scoring script serves, built at test time (MLflow and the
flavors' libraries are dev requirements): columns (with and without an input example), unnamed and named tensors,
params, no signature, a DataFrame answer, and the two flavors of Azure's no-code examples (scikit-learn regression on
the diabetes columns, a LightGBM booster on the iris columns). Each saves with its pip requirements given, so MLflow
does not spend seconds inferring them.

`python tests/mlflow_models.py FOLDER` writes them all into FOLDER (one sub-folder each), for trying by hand.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

DIABETES = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]
IRIS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def _sklearn(path: Path, model: Any, **kwargs: Any) -> None:
    import mlflow.sklearn

    mlflow.sklearn.save_model(
        model, str(path), serialization_format="cloudpickle", pip_requirements=["scikit-learn"], **kwargs
    )


def _python_model(path: Path, model: Any, **kwargs: Any) -> None:
    import cloudpickle
    import mlflow.pyfunc

    # By value: the model loads in a process that cannot import this module (azmlinfsrv, a Function App).
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        mlflow.pyfunc.save_model(str(path), python_model=model, pip_requirements=["pandas"], **kwargs)
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


def diabetes_data() -> np.ndarray:
    """The rows the diabetes model is trained on: scikit-learn's diabetes features (442 rows, in DIABETES order)."""
    from sklearn.datasets import load_diabetes

    return np.asarray(load_diabetes().data, dtype=float)


def iris_data() -> np.ndarray:
    """The rows the iris model is trained on: scikit-learn's iris measurements (150 rows, in IRIS order)."""
    from sklearn.datasets import load_iris

    return np.asarray(load_iris().data, dtype=float)


def diabetes(path: Path) -> None:
    """The shape of azureml-examples' sklearn-diabetes: ten double columns, a regression, no input example; trained
    on scikit-learn's diabetes data (`diabetes_data()`), so that data gives meaningful predictions."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import LinearRegression

    features = pd.DataFrame(diabetes_data(), columns=DIABETES)
    target = load_diabetes().target
    signature = ModelSignature(Schema([ColSpec("double", c) for c in DIABETES]), Schema([ColSpec("double")]))
    _sklearn(path, LinearRegression().fit(features, target), signature=signature)


def iris_lightgbm(path: Path) -> None:
    """The shape of azureml-examples' lightgbm-iris: a Booster (multiclass, one probability column per class),
    trained on scikit-learn's iris data (`iris_data()`)."""
    import lightgbm
    import mlflow.lightgbm
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema
    from sklearn.datasets import load_iris

    features = pd.DataFrame(iris_data(), columns=IRIS)
    labels = load_iris().target
    params = {"objective": "multiclass", "num_class": 3, "verbose": -1, "num_leaves": 4, "min_data_in_leaf": 2}
    booster = lightgbm.train(params, lightgbm.Dataset(features, labels), num_boost_round=5)
    signature = ModelSignature(
        Schema([ColSpec("double", c) for c in IRIS]), Schema([ColSpec("double", str(i)) for i in range(3)])
    )
    mlflow.lightgbm.save_model(booster, str(path), signature=signature, pip_requirements=["lightgbm"])


def columns(path: Path) -> None:
    """A column signature with an input example (MLflow saves it in the split orient) and mixed types."""
    from mlflow.models import infer_signature
    from sklearn.linear_model import LinearRegression

    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [1, 0, 2, 5]})
    model = LinearRegression().fit(frame, [2.0, 2.0, 5.0, 9.0])
    _sklearn(path, model, signature=infer_signature(frame, model.predict(frame)), input_example=frame.head(2))


def tensor(path: Path) -> None:
    """An unnamed tensor signature: float64, any number of rows of 3."""
    from mlflow.models import infer_signature
    from sklearn.linear_model import LinearRegression

    features = np.array([[1.0, 2.0, 3.0], [2.0, 0.0, 1.0], [0.0, 1.0, 1.0], [4.0, 4.0, 0.0]])
    model = LinearRegression().fit(features, [1.0, 2.0, 3.0, 4.0])
    _sklearn(path, model, signature=infer_signature(features, model.predict(features)))


def no_signature(path: Path) -> None:
    from sklearn.linear_model import LinearRegression

    features = np.array([[1.0, 2.0], [2.0, 0.0], [0.0, 1.0]])
    _sklearn(path, LinearRegression().fit(features, [1.0, 2.0, 3.0]))


class SumNamed:
    """Named tensors in, one array out: x + 10 * y, element-wise."""

    def predict(self, context: Any, model_input: dict[str, np.ndarray], params: dict[str, Any] | None = None) -> Any:
        return np.asarray(model_input["x"]) + 10 * np.asarray(model_input["y"])


class Scaled:
    """Columns in, with params: `x * scale + shift` (defaults 2 and 0); a DataFrame out."""

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> Any:
        params = params or {}
        scaled = model_input["x"] * params.get("scale", 1) + params.get("shift", 0)
        return pd.DataFrame({"y": scaled, "label": [params.get("label", "")] * len(model_input)})


def named_tensors(path: Path) -> None:
    from mlflow.models import ModelSignature
    from mlflow.types import Schema, TensorSpec

    inputs = Schema([TensorSpec(np.dtype("float64"), (-1, 2), "x"), TensorSpec(np.dtype("float64"), (-1, 2), "y")])
    outputs = Schema([TensorSpec(np.dtype("float64"), (-1, 2))])
    _python_model(path, _wrap(SumNamed()), signature=ModelSignature(inputs, outputs))


def params(path: Path) -> None:
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema

    signature = ModelSignature(
        Schema([ColSpec("double", "x")]),
        Schema([ColSpec("double", "y"), ColSpec("string", "label")]),
        ParamSchema(
            [ParamSpec("scale", "double", 2.0), ParamSpec("shift", "long", 0), ParamSpec("label", "string", "none")]
        ),
    )
    _python_model(path, _wrap(Scaled()), signature=signature)


def _wrap(inner: Any) -> Any:
    import mlflow.pyfunc

    class Wrapped(mlflow.pyfunc.PythonModel):  # type: ignore[misc]
        def predict(self, context: Any, model_input: Any, params: dict[str, Any] | None = None) -> Any:
            return inner.predict(context, model_input, params)

    return Wrapped()


BUILDERS: dict[str, Callable[[Path], None]] = {
    "columns": columns,
    "diabetes": diabetes,
    "iris-lightgbm": iris_lightgbm,
    "tensor": tensor,
    "named-tensors": named_tensors,
    "params": params,
    "no-signature": no_signature,
}


if __name__ == "__main__":
    target = Path(sys.argv[1])
    for name, build in BUILDERS.items():
        build(target / name)
        print(target / name)
