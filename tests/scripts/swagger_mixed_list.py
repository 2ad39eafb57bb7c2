"""A sample list mixing types ([1, "a", 2.5]): inference-schema says OpenAPI 2.0 cannot describe it, so only the 3.x
documents exist and the default /swagger.json (version 2) is a 404."""
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType
from inference_schema.schema_decorators import input_schema


def init():
    pass


@input_schema("data", StandardPythonParameterType([1, "a", 2.5]))
def run(data):
    return data
