"""pandas' split orient under a name other than Inputs (MLflow's `input_data`), results in {"predictions": [...]}."""
import pandas as pd
from inference_schema.parameter_types.pandas_parameter_type import PandasParameterType
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType as S
from inference_schema.schema_decorators import input_schema, output_schema

from pq_shapes import score

SAMPLE = pd.DataFrame({"id": [1], "x": [0.5], "label": ["a"]})


def init():
    pass


@input_schema("input_data", PandasParameterType(SAMPLE, orient="split"))
@output_schema(S({"predictions": [1.0]}))
def run(input_data):
    rows = zip(input_data["id"], input_data["x"], input_data["label"])
    return {"predictions": [score(i, x, label)["score"] for i, x, label in rows]}
