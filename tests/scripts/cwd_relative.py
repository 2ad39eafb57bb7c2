"""init() opens data/lookup.json relative to the working directory (the app root under AML)."""
import json

LOOKUP = None


def init():
    global LOOKUP
    with open("data/lookup.json") as f:
        LOOKUP = json.load(f)


def run(data):
    return {"lookup": LOOKUP}
