"""PandasParameterType in the split and values orients: their samples hold rows of mixed types, which OpenAPI 2.0
cannot describe, so only the 3.x documents exist."""
import pandas as pd
from inference_schema.parameter_types.pandas_parameter_type import PandasParameterType
from inference_schema.schema_decorators import input_schema

SAMPLE = pd.DataFrame({"f": [1.5], "s": ["a"]})


def init():
    pass


@input_schema("values", PandasParameterType(SAMPLE, orient="values"))
@input_schema("split", PandasParameterType(SAMPLE, orient="split"))
def run(split, values):
    return {"rows": len(split) + len(values)}
