"""Power BI's seed shape: run(Inputs, GlobalParameters) with the table in Inputs beside a scalar (threshold), record
results in {"Results": [...]}. A bad row gets the script's own 400 naming it."""
import pandas as pd
from azureml.contrib.services.aml_response import AMLResponse
from inference_schema.parameter_types.pandas_parameter_type import PandasParameterType
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType as S
from inference_schema.schema_decorators import input_schema, output_schema

from pq_shapes import BadRow, score

SAMPLE = pd.DataFrame({"id": [1], "x": [0.5], "label": ["a"]})


def init():
    pass


@input_schema("Inputs", S({"data": PandasParameterType(SAMPLE), "threshold": 0.5}))
@input_schema("GlobalParameters", S({"offset": 0.0}))
@output_schema(S({"Results": [{"id": 1, "score": 1.0, "high": True}]}))
def run(Inputs, GlobalParameters):
    frame, threshold = Inputs["data"], Inputs["threshold"]
    try:
        return {
            "Results": [
                score(i, x, label, threshold, GlobalParameters.get("offset", 0.0))
                for i, x, label in zip(frame["id"], frame["x"], frame["label"])
            ]
        }
    except BadRow as ex:
        return AMLResponse({"message": str(ex)}, 400, json_str=True)
