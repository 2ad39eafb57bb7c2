"""Several @input_schema StandardPythonParameterType parameters, one with a Python default (c)."""
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType
from inference_schema.schema_decorators import input_schema


def init():
    pass


@input_schema("a", StandardPythonParameterType(1))
@input_schema("b", StandardPythonParameterType({"x": [1, 2]}))
@input_schema("c", StandardPythonParameterType("s"))
def run(a, b, c="default"):
    return {
        "a": a, "a_type": type(a).__name__,
        "b": b, "b_type": type(b).__name__,
        "c": c, "c_type": type(c).__name__,
    }
