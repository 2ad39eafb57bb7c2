"""PandasParameterType in every orient OpenAPI 2.0 can describe (records, index, columns, table), with datetime and
timedelta columns, and a numpy output: one parameter per orient."""
import numpy as np
import pandas as pd
from inference_schema.parameter_types.numpy_parameter_type import NumpyParameterType
from inference_schema.parameter_types.pandas_parameter_type import PandasParameterType
from inference_schema.schema_decorators import input_schema, output_schema

SAMPLE = pd.DataFrame(
    {
        "f": [1.5, 2.5],
        "i": [1, 2],
        "s": ["a", "b"],
        "when": pd.to_datetime(["2024-01-02", "2024-03-04"]),
        "took": pd.to_timedelta([1, 90], unit="s"),
    }
)


def init():
    pass


@input_schema("table", PandasParameterType(SAMPLE, orient="table"))
@input_schema("columns", PandasParameterType(SAMPLE, orient="columns"))
@input_schema("index", PandasParameterType(SAMPLE, orient="index"))
@input_schema("records", PandasParameterType(SAMPLE, orient="records"))
@output_schema(NumpyParameterType(np.array([[1, 2]], dtype=np.int32)))
def run(records, index, columns, table):
    return [[len(records), len(index)]]
