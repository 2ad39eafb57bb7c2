"""@input_schema with PandasParameterType (records orient, float/int/str columns): JSON records -> DataFrame."""
import pandas as pd
from inference_schema.parameter_types.pandas_parameter_type import PandasParameterType
from inference_schema.schema_decorators import input_schema

SAMPLE = pd.DataFrame({"f": [1.5], "i": [2], "s": ["a"]})


def init():
    pass


@input_schema("data", PandasParameterType(SAMPLE))
def run(data):
    return {
        "columns": [str(c) for c in data.columns],
        "dtypes": {str(c): str(t) for c, t in data.dtypes.items()},
        "rows": int(len(data)),
        "sum": float(data["f"].sum() + data["i"].sum()),
        "s": [str(v) for v in data["s"]],
    }
