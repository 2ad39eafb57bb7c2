"""No schema at all: run(data) parses the body itself ({"data": [records]}); `powerquery --columns` describes it."""
import json

from pq_shapes import score


def init():
    pass


def run(data):
    rows = json.loads(data)["data"] if isinstance(data, (str, bytes)) else data["data"]
    return [score(r["id"], r["x"], r["label"])["score"] for r in rows]
