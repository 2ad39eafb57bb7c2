"""SDK v2 data collection, in the shape of the public custom-logging sample: `Collector`s named model_inputs and
model_outputs, the context from the inputs' `collect` passed to the outputs' so they correlate."""
import json

import pandas as pd
from azureml.ai.monitoring import Collector


def init():
    global inputs_collector, outputs_collector
    inputs_collector = Collector(name="model_inputs")
    outputs_collector = Collector(name="model_outputs")


def run(data):
    # json data: {"data": {"col1": [1, 2, 3], "col2": [2, 3, 4]}}
    input_df = pd.DataFrame(preprocess(json.loads(data)))
    context = inputs_collector.collect(input_df)
    output_df = predict(input_df)
    outputs_collector.collect(output_df, context)
    return output_df.to_dict()


def preprocess(json_data):
    return json_data["data"]


def predict(input_df):
    return pd.DataFrame({"score": input_df["col1"] * 2 + input_df["col2"]})
