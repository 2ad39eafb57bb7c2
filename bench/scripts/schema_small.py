"""Schema-decorated run() with a small numpy and pandas input, as a typical tabular model would take."""

import numpy as np
import pandas as pd
from inference_schema.parameter_types.numpy_parameter_type import NumpyParameterType
from inference_schema.parameter_types.pandas_parameter_type import PandasParameterType
from inference_schema.schema_decorators import input_schema, output_schema


def init():
    pass


@input_schema("frame", PandasParameterType(pd.DataFrame({"a": [1.0], "b": [2.0]})))
@input_schema("matrix", NumpyParameterType(np.array([[1.0, 2.0, 3.0]])))
@output_schema(NumpyParameterType(np.array([1.0])))
def run(frame, matrix):
    return {"frame": float(frame.to_numpy().sum()), "matrix": matrix.sum(axis=1).tolist()}
