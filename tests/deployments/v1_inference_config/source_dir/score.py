"""SDK v1 style: the nearest centroid, with a helper from the source directory and the model in AZUREML_MODEL_DIR."""

import json
import os

from scoring_utils import distance

centroids = {}


def init():
    global centroids
    with open(os.path.join(os.getenv("AZUREML_MODEL_DIR"), "centroids.json")) as file:
        centroids = json.load(file)


def run(data):
    points = json.loads(data)["points"]
    assert os.environ["DISTANCE"] == "euclidean"
    return {"nearest": [min(centroids, key=lambda name: distance(centroids[name], p)) for p in points]}
