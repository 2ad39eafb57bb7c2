"""Nested standard types in and out: dates, times, bytes, booleans, null, lists of objects, a numpy array and a
DataFrame inside a dict, and a tuple."""
import datetime

import numpy as np
import pandas as pd
from inference_schema.parameter_types.numpy_parameter_type import NumpyParameterType
from inference_schema.parameter_types.pandas_parameter_type import PandasParameterType
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType
from inference_schema.schema_decorators import input_schema, output_schema

SAMPLE = {
    "day": datetime.date(2024, 5, 6),
    "at": datetime.datetime(2024, 5, 6, 7, 8, 9),
    "time": datetime.time(7, 8, 9),
    "blob": b"\x00\x01binary",
    "flag": True,
    "nothing": None,
    "rows": [{"name": "a", "score": 0.5, "tags": ["x", "y"]}, {"name": "b", "score": 1.5, "tags": []}],
    "pair": (1, 2),
    "matrix": NumpyParameterType(np.array([[1.0, 2.0]])),
    "frame": PandasParameterType(pd.DataFrame({"x": [1], "y": ["z"]})),
}


def init():
    pass


@input_schema("payload", StandardPythonParameterType(SAMPLE))
@input_schema("limit", StandardPythonParameterType(10))
@output_schema(StandardPythonParameterType({"Results": [{"label": "a", "p": 0.25}], "count": 1}))
def run(payload, limit=10):
    return {"Results": [], "count": 0}
