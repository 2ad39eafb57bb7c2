"""run() records how many calls overlap, so tests can check that run() is serialised unless configured otherwise."""
import threading
import time

_lock = threading.Lock()
_active = 0
_peak = 0


def init():
    pass


def run(data):
    global _active, _peak
    with _lock:
        _active += 1
        _peak = max(_peak, _active)
    time.sleep(0.05)
    with _lock:
        _active -= 1
    return {"peak": _peak}
