"""Power BI style schema: run(Inputs, GlobalParameters) with a nested PandasParameterType inside a dict."""
import pandas as pd
from inference_schema.parameter_types.pandas_parameter_type import PandasParameterType
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType
from inference_schema.schema_decorators import input_schema, output_schema

SAMPLE = pd.DataFrame({"x": [1.0], "y": [2.0]})


def init():
    pass


@input_schema("Inputs", StandardPythonParameterType({"data": PandasParameterType(SAMPLE)}))
@input_schema("GlobalParameters", StandardPythonParameterType({"scale": 1.0}))
@output_schema(StandardPythonParameterType({"Results": [1.0]}))
def run(Inputs, GlobalParameters):
    df = Inputs["data"]
    scale = GlobalParameters.get("scale", 1.0)
    return {"Results": [float(v) * scale for v in (df["x"] + df["y"])], "frame_type": type(df).__name__}
