"""Failure drills: the JSON body {"kind": ..., "payload": ...} picks what run() does, and every answer that comes from
run() echoes the payload, so tests can match each answer to its request."""
import json
import sys
import time


def init():
    print("drills init ran")


def run(data):
    request = json.loads(data)
    kind, payload = request["kind"], request.get("payload")
    if kind == "raise":
        raise RuntimeError("drill failure")
    if kind == "hang":  # pure Python, so the adapter's timeout can interrupt it
        end = time.monotonic() + 30
        while time.monotonic() < end:
            pass
    if kind == "garbage":
        return {"payload": payload, "not_json": object()}
    if kind == "print":
        print("printed by run()", payload)
        print("to stderr from run()", payload, file=sys.stderr)
    return {"payload": payload}
