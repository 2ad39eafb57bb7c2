"""Helper module only importable when AZUREML_SOURCE_DIRECTORY=srcdir is on sys.path."""
import json


def transform(data):
    return {"helper": "srcdir", "upper": json.loads(data)["text"].upper()}
