"""Power BI-shaped scoring: run(Inputs, GlobalParameters) over a records table (PandasParameterType), returning
one score per row in Results. The "model" is a row mean: cheap, so the benchmark sees the server's own cost."""

import pandas as pd
from inference_schema.parameter_types.pandas_parameter_type import PandasParameterType
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType
from inference_schema.schema_decorators import input_schema, output_schema

FEATURES = [f"f{i}" for i in range(8)]
SAMPLE = pd.DataFrame({**{name: [0.5] for name in FEATURES}, "segment": ["retail"]})


def init():
    pass


@input_schema("Inputs", StandardPythonParameterType({"data": PandasParameterType(SAMPLE)}))
@input_schema("GlobalParameters", StandardPythonParameterType({"scale": 1.0}))
@output_schema(StandardPythonParameterType({"Results": [0.5]}))
def run(Inputs, GlobalParameters):
    frame = Inputs["data"]
    scale = float(GlobalParameters.get("scale", 1.0))
    return {"Results": (frame[FEATURES].to_numpy().mean(axis=1) * scale).tolist()}
