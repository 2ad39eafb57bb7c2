"""A linear model read from a JSON file: the shape of azureml-examples' model-1 script, with a model of our own."""

import json
import logging
import os

import numpy

model = None


def init():
    global model
    # One model deployed: AZUREML_MODEL_DIR is its version folder, which holds the registered file.
    with open(os.path.join(os.getenv("AZUREML_MODEL_DIR"), "linear.json")) as file:
        model = json.load(file)
    logging.info("Init complete")


def run(raw_data):
    data = numpy.array(json.loads(raw_data)["data"], dtype=float)
    scores = data @ numpy.array(model["weights"]) + model["bias"]
    scale = float(os.environ["OUTPUT_SCALE"])
    return [round(float(score) * scale, int(os.environ["ROUND_DIGITS"])) for score in scores]
