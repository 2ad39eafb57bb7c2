"""AML docs, several registered models: AZUREML_MODEL_DIR holds MODEL_NAME/VERSION/ folders; azureml-core's
Model.get_model_path finds them by name without azureml-core installed."""

import os
import pickle

from azureml.core.model import Model


def init():
    global first, second, found
    first_path = os.path.join(os.getenv("AZUREML_MODEL_DIR"), "my_first_model/1/my_first_model.pkl")
    second_path = os.path.join(os.getenv("AZUREML_MODEL_DIR"), "my_second_model/2/my_second_model.pkl")
    with open(first_path, "rb") as f:
        first = pickle.load(f)
    with open(second_path, "rb") as f:
        second = pickle.load(f)
    found = {
        "first": Model.get_model_path("my_first_model"),
        "second": Model.get_model_path("my_second_model", version=2),
    }


def run(data):
    return {"models": [first, second], "found": found, "model_dir": os.getenv("AZUREML_MODEL_DIR")}
