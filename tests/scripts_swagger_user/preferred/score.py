"""A decorated script whose documents come from the user's files (versions 2 and 3), 3.1 generated."""

from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType
from inference_schema.schema_decorators import input_schema


def init():
    pass


@input_schema("Inputs", StandardPythonParameterType({"x": 1.0}))
def run(Inputs):
    return {"Results": [Inputs["x"]]}
