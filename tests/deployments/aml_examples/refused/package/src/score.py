import json
import logging
import os

import joblib
import numpy


def init():
    global model
    # AZUREML_MODEL_DIR is the model's version folder; the model folder keeps its name under it.
    model_path = os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model/sklearn_regression_model.pkl")
    model = joblib.load(model_path)
    logging.info("Init complete")


def run(raw_data):
    data = numpy.array(json.loads(raw_data)["data"])
    result = model.predict(data)
    return result.tolist()
