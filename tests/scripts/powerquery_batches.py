"""Power BI in batches: run(Inputs, GlobalParameters) over a records table, with record results.

init() fails on its first call, as a cold instance whose model storage is not there yet: the first request gets
the adapter's 503 with Retry-After. (The adapter imports the script afresh for each attempt, so what says "this
already failed once" is kept in the process environment, not in a module variable.) Each result carries its row's id and a process-wide sequence number, so a
client can prove every row was scored exactly once, in order. A row without `x` gets the script's own 400.
"""
import itertools
import os

import pandas as pd
from azureml.contrib.services.aml_response import AMLResponse
from inference_schema.parameter_types.pandas_parameter_type import PandasParameterType
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType
from inference_schema.schema_decorators import input_schema, output_schema

SAMPLE = pd.DataFrame({"id": [1], "x": [0.5], "label": ["a"]})
_sequence = itertools.count()
_FAILED_ONCE = "POWERQUERY_BATCHES_INIT_FAILED_ONCE"


def init():
    if not os.environ.get(_FAILED_ONCE):
        os.environ[_FAILED_ONCE] = "1"
        raise RuntimeError("model storage is not mounted yet")


@input_schema("Inputs", StandardPythonParameterType({"data": PandasParameterType(SAMPLE)}))
@input_schema("GlobalParameters", StandardPythonParameterType({"offset": 0.0}))
@output_schema(StandardPythonParameterType({"Results": [{"id": 1, "score": 1.0, "seq": 0}]}))
def run(Inputs, GlobalParameters):
    frame = Inputs["data"]
    missing = frame[frame["x"].isna()]
    if len(missing):
        message = f"row id {int(missing['id'].iloc[0])} has no x"
        return AMLResponse({"message": message}, 400, json_str=True)
    offset = float(GlobalParameters.get("offset", 0.0))
    return {
        "Results": [
            {"id": int(i), "score": float(x) * 2 + offset, "seq": next(_sequence)}
            for i, x in zip(frame["id"], frame["x"])
        ]
    }
