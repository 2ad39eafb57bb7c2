"""A mixed-type sample: no generated 2.0 document, so the user's swagger2.json is the only version 2."""

from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType
from inference_schema.schema_decorators import input_schema


def init():
    pass


@input_schema("data", StandardPythonParameterType([1, "a"]))
def run(data):
    return data
