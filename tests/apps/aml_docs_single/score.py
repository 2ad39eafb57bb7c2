"""AML docs, one registered model: AZUREML_MODEL_DIR is the model's version folder."""

import os
import pickle


def init():
    global model
    model_path = os.path.join(os.getenv("AZUREML_MODEL_DIR"), "sklearn_regression_model.pkl")
    with open(model_path, "rb") as f:
        model = pickle.load(f)


def run(data):
    return {"model": model, "model_dir": os.getenv("AZUREML_MODEL_DIR")}
