"""run() always raises: the server's generic 500 with x-ms-run-function-failed."""


def init():
    pass


def run(data):
    raise RuntimeError("scoring exploded")
