"""Score script behind a driver module: its decorated run() is what azmlinfsrv calls."""
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType
from inference_schema.schema_decorators import input_schema

OUTER_INIT = False
INNER_INIT = False


def init():
    global INNER_INIT
    INNER_INIT = True


@input_schema("data", StandardPythonParameterType([1, 2]))
def run(data):
    return {"called": "inner", "outer_init": OUTER_INIT, "inner_init": INNER_INIT, "data": data}
