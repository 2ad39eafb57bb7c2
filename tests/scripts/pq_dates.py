"""A pandas date-time column: run() answers each row's timestamp as pandas read it (ISO), so a test sees what was
sent."""
import pandas as pd
from inference_schema.parameter_types.pandas_parameter_type import PandasParameterType
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType as S
from inference_schema.schema_decorators import input_schema, output_schema

SAMPLE = pd.DataFrame({"id": [1], "when": pd.to_datetime(["2024-01-02T03:04:05"])})


def init():
    pass


@input_schema("data", PandasParameterType(SAMPLE))
@output_schema(S({"Results": ["2024-01-02T03:04:05"]}))
def run(data):
    return {"Results": [None if pd.isna(t) else t.isoformat() for t in data["when"]]}
