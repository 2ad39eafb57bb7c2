"""A scikit-learn entry script as AML's own samples write them: undecorated, the model unpickled by joblib in init().

The cold-start benchmark (bench/coldstart.py) copies it as `score.py` into a temporary app folder next to a small
pickled pipeline (`model.pkl` in AZUREML_MODEL_DIR), so the script pays for importing scikit-learn and loading the
model, as a real one does, while nothing is trained at serve time.

    POST /score  {"data": [[5.1, 3.5, 1.4, 0.2]]}  ->  [0]
"""

import json
import os

import joblib
import numpy as np

model = None


def init():
    global model
    model = joblib.load(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.pkl"))


def run(raw_data):
    data = np.array(json.loads(raw_data)["data"])
    return model.predict(data).tolist()
