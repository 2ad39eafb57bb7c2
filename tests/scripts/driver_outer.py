"""Driver-module pattern: outer init() runs, but run() is taken from `driver_module` (the inner script)."""
import driver_inner as driver_module


def init():
    driver_module.init()
    driver_module.OUTER_INIT = True


def run(data):
    return {"called": "outer"}  # WRONG if this is ever called
