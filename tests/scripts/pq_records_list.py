"""A list of records through StandardPythonParameterType (no pandas), inside Inputs."""
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType as S
from inference_schema.schema_decorators import input_schema, output_schema

from pq_shapes import score


def init():
    pass


@input_schema("Inputs", S({"rows": S([{"id": 1, "x": 0.5, "label": "a"}])}))
@output_schema(S({"Results": [{"id": 1, "score": 1.0, "high": True}]}))
def run(Inputs):
    return {"Results": [score(r["id"], r["x"], r["label"]) for r in Inputs["rows"]]}
