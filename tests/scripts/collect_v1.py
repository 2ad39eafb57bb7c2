"""SDK v1 data collection, in the shape of the public AKS samples: `ModelDataCollector` for inputs and predictions,
`add_correlations` to tie the predictions to their inputs, and the samples' `try`/`except` returning the error text
(so a collector that raises turns every answer into an error string, which is how a broken one shows)."""
import json

import numpy as np
from azureml.monitoring import ModelDataCollector


class LinearModel:
    coef = np.array([0.5, -1.0, 2.0])
    intercept = 10.0

    def predict(self, data):
        return data @ self.coef + self.intercept


def init():
    global model, inputs_dc, prediction_dc
    model = LinearModel()
    inputs_dc = ModelDataCollector(
        "sklearn_regression_model.pkl", designation="inputs", feature_names=["feat1", "feat2", "feat3"]
    )
    prediction_dc = ModelDataCollector(
        "sklearn_regression_model.pkl", designation="predictions", feature_names=["prediction"]
    )


def run(raw_data):
    try:
        data = np.array(json.loads(raw_data)["data"])
        result = model.predict(data)
        correlations = inputs_dc.collect(data)
        prediction_dc.collect(prediction_dc.add_correlations(result, correlations))
        return json.dumps({"result": result.tolist()})
    except Exception as e:
        return str(e)
