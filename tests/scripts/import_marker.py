"""Appends to $IMPORT_MARKER_FILE when imported, so tests can tell whether (and how often) the script was imported."""
import os

with open(os.environ["IMPORT_MARKER_FILE"], "a") as marker:
    marker.write("imported\n")


def init():
    pass


def run(data):
    return {"ok": True}
