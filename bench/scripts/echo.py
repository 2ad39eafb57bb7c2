"""Undecorated echo: the cheapest possible run(), so the benchmark sees the server's own cost."""


def init():
    pass


def run(data):
    return {"echo": data}
