"""init() sleeps 0.5 s and appends a line to $INIT_COUNTER_FILE, so tests can count init calls."""
import os
import time


def init():
    time.sleep(0.5)
    with open(os.environ["INIT_COUNTER_FILE"], "a") as f:
        f.write(f"{os.getpid()}\n")


def run(data):
    with open(os.environ["INIT_COUNTER_FILE"]) as f:
        return {"init_calls": sum(1 for _ in f)}
