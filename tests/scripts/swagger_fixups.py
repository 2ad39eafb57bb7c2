"""Samples inference-schema describes in ways no validator accepts: an empty dict (`"required": []`), non-string
keys (`"required": [1, null]`) and a NaN float (the example `NaN`, which is not JSON)."""
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType
from inference_schema.schema_decorators import input_schema, output_schema


def init():
    pass


@input_schema("options", StandardPythonParameterType({}))
@input_schema("lookup", StandardPythonParameterType({1: "one", None: "none", "k": {}}))
@input_schema("threshold", StandardPythonParameterType(float("nan")))
@output_schema(StandardPythonParameterType({"Results": [float("inf")], "extra": {}}))
def run(threshold, lookup, options):
    return {"Results": [threshold], "extra": {}}
