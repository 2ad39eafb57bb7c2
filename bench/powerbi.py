"""A Power BI-shaped request of many rows, in-process, in a fresh interpreter per implementation:

    python -m bench.powerbi IMPL ROWS CALLS REPEATS OUT
    -> OUT: {"server": [...], "floor": [...], "encode": [...], "server_peak": [...], "floor_peak": [...]}

`{"Inputs": {"data": [ROWS records]}, "GlobalParameters": {...}}` to bench/scripts/powerbi_table.py, the body Power
Query's generated function sends (`python -m adapter powerquery`). IMPL is `adapter` or `azmlinfsrv`, called as
`bench.inprocess` calls them (our handler with `func.HttpRequest` objects; azmlinfsrv's Flask app through Flask's
test client). The floor is what any server must do: parse the JSON body, call the decorated run() (whose
inference-schema conversion turns the records into a DataFrame) and encode its answer as JSON. `encode` is that
last part alone (json.dumps of run()'s output), reported to show how much of the floor it is. Times are CPU seconds
per call (medians of a repeat's calls); peaks are the bytes allocated at the peak of one call (tracemalloc).
"""

from __future__ import annotations

import gc
import importlib.util
import json
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import inprocess

SCRIPT = "powerbi_table.py"
ROWS = 10_000


def body(rows: int) -> bytes:
    """The request, with varied values (the same every run) so neither JSON nor pandas meets a degenerate case."""
    records = [
        {**{f"f{j}": round(((i * 31 + j * 17) % 1000) / 997, 6) for j in range(8)}, "segment": ("retail", "web")[i % 2]}
        for i in range(rows)
    ]
    return json.dumps({"Inputs": {"data": records}, "GlobalParameters": {"scale": 1.0}}).encode()


def floor(payload: bytes) -> Callable[[], Any]:
    """json.loads of the body, the decorated run() and json.dumps of its answer: the least any server does for this
    request (both servers must send the answer as JSON)."""
    spec = importlib.util.spec_from_file_location("bench_powerbi_script", inprocess.SCRIPTS / SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.init()
    return lambda: json.dumps(module.run(**json.loads(payload)))


def measure(turns: dict[str, Callable[[], Any]], calls: int, repeats: int) -> dict[str, list[float]]:
    """Per repeat, the median CPU seconds of each call, the calls taken in turns. CPU time, not wall time: a
    10,000-row call is long enough for other processes on a shared machine to land in it, and the difference between
    server and floor is a few percent of the call. Everything runs on this thread (the adapter calls run() inline by
    default), so the process's CPU time is the call's."""
    for _ in range(3):  # warm-up: imports, init(), caches
        for call in turns.values():
            call()
    results: dict[str, list[float]] = {name: [] for name in turns}
    for _ in range(repeats):
        times: dict[str, list[float]] = {name: [] for name in turns}
        for _ in range(calls):
            for name, call in turns.items():
                started = time.process_time()
                call()
                times[name].append(time.process_time() - started)
        for name, values in times.items():
            results[name].append(statistics.median(values))
    return results


def peak_allocated(call: Callable[[], Any]) -> float:
    """Bytes allocated at the peak of one call above what was allocated before it (tracemalloc, which numpy and
    pandas buffers report to too): exact and repeatable, unlike resident memory, which the allocator's reuse of
    freed pages blurs."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = call()
        peak = tracemalloc.get_traced_memory()[1]
        del result
    finally:
        tracemalloc.stop()
    return float(peak - before)


def main() -> None:
    impl, rows, calls, repeats, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    payload = body(rows)
    # The in-process callers look their request up by script name.
    inprocess.PAYLOADS[SCRIPT] = (payload, "application/json")
    server = inprocess.IMPLEMENTATIONS[impl](SCRIPT)
    floor_call = floor(payload)
    output = json.loads(floor_call())
    results = measure({"floor": floor_call, "server": server, "encode": lambda: json.dumps(output)}, calls, repeats)
    results["server_peak"] = [peak_allocated(server) for _ in range(repeats)]
    results["floor_peak"] = [peak_allocated(floor_call) for _ in range(repeats)]
    results["body_bytes"] = [float(len(payload))]
    Path(out).write_text(json.dumps(results))


if __name__ == "__main__":
    main()
