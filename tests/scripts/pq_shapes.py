"""The model every Power Query end-to-end shape scores (tests/test_pq_scoring.py): a pure function of one row, so a
result can be checked against its row wherever it lands. A row whose `x` is negative is refused."""

import math


class BadRow(ValueError):
    pass


def score(row_id, x, label, threshold=0.5, offset=0.0):
    if x is None or (isinstance(x, float) and math.isnan(x)) or x < 0:
        raise BadRow(f"row id {int(row_id)} has a negative x")
    value = float(x) * 2 + len(str(label)) + float(offset)
    return {"id": int(row_id), "score": value, "high": value > threshold}
