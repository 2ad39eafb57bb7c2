"""init() raises FileNotFoundError unless the file named by $INIT_FAILS_MARKER exists."""
import os


def init():
    marker = os.environ.get("INIT_FAILS_MARKER", "")
    if not marker or not os.path.exists(marker):
        raise FileNotFoundError(f"model file not found: {marker or '<INIT_FAILS_MARKER unset>'}")


def run(data):
    return {"ok": True}
