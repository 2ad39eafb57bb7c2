"""Undecorated run(data, request_headers): which request headers (and with what key casing) reach run()."""


def init():
    pass


def run(data, request_headers):
    return {
        "ua": request_headers.get("User-Agent"),
        "custom": request_headers.get("X-Custom-Header"),
        "trace": request_headers.get("Traceid"),
        "names": sorted(k for k in request_headers if k.lower().startswith("x-")),
        "x_values": {k: v for k, v in sorted(request_headers.items()) if k.lower().startswith("x-")},
        "dict_type": type(request_headers).__name__,
    }
