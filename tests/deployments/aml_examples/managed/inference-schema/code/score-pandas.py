import logging
import os

import joblib
import numpy as np
import pandas as pd
from inference_schema.parameter_types.pandas_parameter_type import PandasParameterType
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType
from inference_schema.schema_decorators import input_schema, output_schema

model = None
category_list = np.array(["Setosa", "Versicolor", "Virginica"])


def init():
    global model
    model = joblib.load(os.path.join(os.getenv("AZUREML_MODEL_DIR", ""), "models", "iris.pkl"))


@input_schema(
    param_name="iris",
    param_type=PandasParameterType(
        pd.DataFrame({"sepal_length": [7.2], "sepal_width": [3.2], "petal_length": [6.0], "petal_width": [1.8]})
    ),
)
@output_schema(output_type=StandardPythonParameterType({"Category": ["Virginica"]}))
def run(iris):
    logging.info(type(iris))
    predicted = np.choose(np.argmax(model.predict_proba(iris.to_numpy()), axis=1), category_list).flatten()
    return {"Category": predicted.tolist()}
