"""Undecorated run(data): echoes the raw input string the server hands to run() and its type."""


def init():
    pass


def run(data):
    return {"received": data, "type": type(data).__name__}
