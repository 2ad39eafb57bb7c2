"""NumPy 2-D input (columns named Column1.. from the example's width), a bare list of records back."""
import numpy as np
from inference_schema.parameter_types.numpy_parameter_type import NumpyParameterType
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType as S
from inference_schema.schema_decorators import input_schema, output_schema

from pq_shapes import score


def init():
    pass


@input_schema("data", NumpyParameterType(np.array([[1.0, 0.5, 1.0]])))
@output_schema(S([{"id": 1, "score": 1.0, "high": True}]))
def run(data):
    # Column3 is the label's length, as a number (NumPy arrays hold one type).
    return [score(row[0], row[1], "x" * int(row[2])) for row in data.tolist()]
