"""Per-call cost in-process, run in a fresh interpreter per (implementation, script) because azmlinfsrv reads its
configuration once per process.

    python -m bench.inprocess IMPL SCRIPT CALLS REPEATS OUT
    -> OUT: {"server": [...], "floor": [...]}, per-call seconds, one per repeat

IMPL is `adapter` (our function handler fed `func.HttpRequest` objects, as the Functions worker calls it),
`adapter-timeout` (the same with a 60 s SCORING_TIMEOUT_MS, so run() goes through a runner thread) or `azmlinfsrv`
(its Flask app through Flask's test client). The floor, run() called directly with ready arguments, is measured in
the same process, repeat by repeat, so what a server adds is not lost in the run-to-run noise of run() itself.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = Path(__file__).resolve().parent / "scripts"

#: The request each script is benchmarked with: body and content type.
PAYLOADS: dict[str, tuple[bytes, str]] = {
    "echo.py": (b'{"x": 1, "y": [1, 2, 3]}', "application/json"),
    "schema_small.py": (
        json.dumps({"frame": [{"a": 1.0, "b": 2.0}, {"a": 3.0, "b": 4.0}], "matrix": [[1, 2, 3], [4, 5, 6]]}).encode(),
        "application/json",
    ),
    "raw_echo.py": (bytes(range(256)) * 4, "application/octet-stream"),
}


def _configure(script: str) -> None:
    os.environ["AML_APP_ROOT"] = str(SCRIPTS)
    os.environ["AZUREML_ENTRY_SCRIPT"] = script


def floor(script: str) -> Callable[[], Any]:
    """run() with arguments prepared once: the cost of the script itself, the least any server can do."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from werkzeug.test import EnvironBuilder

    from adapter.azureml import shim as azureml_shim
    from adapter.azureml.aml_request import AMLRequest

    azureml_shim.install()
    spec = importlib.util.spec_from_file_location("bench_script", SCRIPTS / script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.init()
    body, content_type = PAYLOADS[script]
    if script == "raw_echo.py":
        request = AMLRequest(EnvironBuilder(method="POST", data=body, content_type=content_type).get_environ())
        return lambda: module.run(request)
    if script == "schema_small.py":
        arguments = json.loads(body)
        return lambda: module.run(**arguments)
    text = body.decode()
    return lambda: module.run(text)


def adapter(script: str) -> Callable[[], Any]:
    """Default settings: the one-hour timeout outlasts the host's limit, so run() is called inline."""
    _configure(script)
    # One log line per request, as on Azure (azmlinfsrv logs its own per-request line too).
    logging.basicConfig(level=logging.INFO, stream=sys.stdout)
    sys.path.insert(0, str(ROOT))
    import function_app
    from adapter import host_config
    from adapter.hosting import wire
    from adapter.hosting.context import InvocationContext
    from adapter.hosting.routing import RouteTable

    route = RouteTable.from_app(function_app.app, host_config.route_prefix(ROOT)).resolve("POST", "/score")
    assert route is not None
    # The worker makes the context for each invocation: its cost is the host's, not the adapter's.
    context = InvocationContext("score", str(ROOT))
    handler = functools.partial(route[0].call, context=context)
    body, content_type = PAYLOADS[script]
    headers = [("Host", "localhost:7071"), ("Content-Type", content_type), ("Content-Length", str(len(body)))]

    def call() -> Any:
        # Built per call as the worker builds one per invocation: its cost is part of what Azure pays.
        request = wire.build_request("POST", "/score", headers, body, ("localhost", 7071))
        response = handler(request)
        assert response.status_code == 200, response.get_body()
        return response

    return call


def adapter_with_timeout(script: str) -> Callable[[], Any]:
    """A SCORING_TIMEOUT_MS the host does not outlast: run() goes to a runner thread so the timeout can answer."""
    os.environ["SCORING_TIMEOUT_MS"] = "60000"
    return adapter(script)


def azmlinfsrv(script: str) -> Callable[[], Any]:
    _configure(script)
    from azureml_inference_server_http.server.create_app import create

    client = create().test_client()
    body, content_type = PAYLOADS[script]

    def call() -> Any:
        response = client.post("/score", data=body, headers={"Content-Type": content_type})
        assert response.status_code == 200, response.data
        return response

    return call


IMPLEMENTATIONS = {
    "adapter": adapter,
    "adapter-timeout": adapter_with_timeout,
    "azmlinfsrv": azmlinfsrv,
}


def measure(server: Callable[[], Any], floor: Callable[[], Any], calls: int, repeats: int) -> dict[str, list[float]]:
    for _ in range(max(10, calls // 10)):  # warm-up: imports, init(), caches
        server()
        floor()
    results: dict[str, list[float]] = {"server": [], "floor": []}
    for _ in range(repeats):
        for name, call in (("floor", floor), ("server", server)):
            started = time.perf_counter()
            for _ in range(calls):
                call()
            results[name].append((time.perf_counter() - started) / calls)
    return results


def main() -> None:
    impl, script, calls, repeats, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    server = IMPLEMENTATIONS[impl](script)
    Path(out).write_text(json.dumps(measure(server, floor(script), calls, repeats)))


if __name__ == "__main__":
    main()
