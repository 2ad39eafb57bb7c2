"""Slow run() for SCORING_TIMEOUT_MS: {"sleep": s} blocks in time.sleep, {"busy": s} spins in pure Python."""
import json
import time


def init():
    pass


def run(data):
    req = json.loads(data)
    if "busy" in req:
        seconds = req["busy"]
        end = time.monotonic() + seconds
        n = 0
        while time.monotonic() < end:
            n += 1
    else:
        seconds = req.get("sleep", 0)
        time.sleep(seconds)
    return {"slept": seconds}
