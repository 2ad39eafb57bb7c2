"""What most AML examples do: @input_schema("data", PandasParameterType(df)), no Inputs wrapper, a bare list of
numbers back. A bad row makes run() raise (the adapter's 500)."""
import pandas as pd
from inference_schema.parameter_types.numpy_parameter_type import NumpyParameterType
from inference_schema.parameter_types.pandas_parameter_type import PandasParameterType
from inference_schema.schema_decorators import input_schema, output_schema
import numpy as np

from pq_shapes import score

SAMPLE = pd.DataFrame({"id": [1], "x": [0.5], "label": ["a"]})


def init():
    pass


@input_schema("data", PandasParameterType(SAMPLE))
@output_schema(NumpyParameterType(np.array([1.0])))
def run(data):
    return [score(i, x, label)["score"] for i, x, label in zip(data["id"], data["x"], data["label"])]
