"""A schema-decorated sentiment scorer over a folder model (keyword weights), with a helper module of its own."""

import json
import os

from features import words
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType
from inference_schema.schema_decorators import input_schema, output_schema

weights = {}


def init():
    global weights
    # A folder registered as the model keeps its name under the version folder.
    path = os.path.join(os.environ["AZUREML_MODEL_DIR"], "keyword-model", "weights.json")
    with open(path) as file:
        weights = json.load(file)


@input_schema("texts", StandardPythonParameterType(["a great day"]))
@output_schema(StandardPythonParameterType({"scores": [0.75], "labels": ["positive"]}))
def run(texts):
    threshold = float(os.environ["KEYWORD_THRESHOLD"])
    scores = [sum(weights.get(word, 0.0) for word in words(text)) for text in texts]
    labels = ["positive" if s >= threshold else "negative" if s <= -threshold else "neutral" for s in scores]
    return {"scores": scores, "labels": labels}
