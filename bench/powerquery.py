"""The generated Power Query function, executed: 10,000 rows scored through `adapter serve` and through azmlinfsrv.

    python -m bench.powerquery [--rows 10000] [--repeats 5] [--out bench/results] [--smoke]
    -> bench/results/powerquery.md and powerquery.json

For each server, the function `python -m adapter powerquery` writes for bench/scripts/powerbi_table.py is run by the
M evaluator of the test tree (tests/powerquery, the stand-in for Power Query's engine, which runs nowhere outside
Microsoft's products) on a `rows`-row table: wall seconds per call (median, min-max over repeats) beside the number
of requests it sent. The floor is the same batches POSTed by a plain `requests` loop (the bodies built in Python
once, outside the timing): what any client must wait for. "function / floor" is then the evaluator's own cost, and
the adapter / azmlinfsrv ratio the server's. Wall time (the function waits on the network): run on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import requests

from . import report, servers

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = "powerbi_table.py"
ROWS = 10_000
COLUMNS = [*(f"f{j}" for j in range(8)), "segment"]


def table(rows: int) -> list[list[Any]]:
    """The same varied values as bench/powerbi.py's request body, as table rows."""
    return [
        [*(round(((i * 31 + j * 17) % 1000) / 997, 6) for j in range(8)), ("retail", "web")[i % 2]] for i in range(rows)
    ]


def _evaluator() -> tuple[Any, Any]:
    """The evaluator's `apply` and its request counter (tests/powerquery, importable as `powerquery`)."""
    tests = str(ROOT / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    from powerquery.m.library.web import TRAFFIC
    from powerquery.run import apply

    return apply, TRAFFIC


def function_text(url: str) -> str:
    from adapter.openapi import powerquery
    from adapter.script import entry_script
    from adapter.settings import Settings

    settings = Settings.from_env({"AML_APP_ROOT": str(servers.SCRIPTS), "AZUREML_ENTRY_SCRIPT": SCRIPT})
    return powerquery.generate(settings, entry_script.load(settings), url)


def floor_bodies(rows: list[list[Any]], batch: int) -> list[bytes]:
    """The bodies the function sends, built in Python: `{"Inputs": {"data": [records]}, "GlobalParameters": ...}`."""
    records = [dict(zip(COLUMNS, row, strict=True)) for row in rows]
    return [
        json.dumps({"Inputs": {"data": records[i : i + batch]}, "GlobalParameters": {"scale": 1.0}}).encode()
        for i in range(0, len(records), batch)
    ]


def measure(server: str, rows: int, repeats: int) -> dict[str, list[float]]:
    apply, traffic = _evaluator()
    data = table(rows)
    with servers.running(server, servers.SCRIPTS, SCRIPT) as (base, _):
        text = function_text(base + "/score")
        bodies = floor_bodies(data, 1_000)
        session = requests.Session()
        apply(text, COLUMNS, data[:10])  # warm-up: the script's import and init(), the evaluator's parse
        results: dict[str, list[float]] = {"function_s": [], "requests": [], "floor_s": []}
        for _ in range(repeats):
            sent = traffic.count
            started = time.perf_counter()
            columns, scored = apply(text, COLUMNS, data)
            results["function_s"].append(time.perf_counter() - started)
            results["requests"].append(float(traffic.count - sent))
            if len(scored) != rows or columns[-1] != "Results" or not isinstance(scored[-1][-1], float):
                raise RuntimeError(f"{server}: the function did not score every row: {scored[-1]!r}")
            started = time.perf_counter()
            for body in bodies:
                session.post(
                    base + "/score", data=body, headers={"Content-Type": "application/json"}
                ).raise_for_status()
            results["floor_s"].append(time.perf_counter() - started)
    return results


def markdown(results: dict[str, dict[str, list[float]]], rows: int, command: str) -> str:
    def cell(values: list[float]) -> str:
        return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"

    lines = [
        f"### (h) The generated Power Query function on {rows:,} rows, run by the M evaluator (wall s per call; "
        "median (min–max))",
        "",
        "| server | function | requests sent | floor: the same batches from `requests` | function / floor |",
        "|---|---|---|---|---|",
    ]
    for server, runs in results.items():
        ratio = statistics.median(runs["function_s"]) / statistics.median(runs["floor_s"])
        requests_sent = ", ".join(sorted({f"{n:.0f}" for n in runs["requests"]}))
        lines.append(
            f"| {server} | {cell(runs['function_s'])} | {requests_sent} | {cell(runs['floor_s'])} | {ratio:.1f}x |"
        )
    if {"adapter", "azmlinfsrv"} <= set(results):
        ratio = statistics.median(results["adapter"]["function_s"]) / statistics.median(
            results["azmlinfsrv"]["function_s"]
        )
        lines += ["", f"The function against `adapter serve` takes {ratio:.2f}x its time against azmlinfsrv."]
    machine = report.machine()
    lines += ["", f"`{command}` on {machine['cpu']}, Python {machine['python']}.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.powerquery", description=__doc__)
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--smoke", action="store_true", help="200 rows, once: checks the benchmark runs")
    args = parser.parse_args(argv)
    rows, repeats = (200, 1) if args.smoke else (args.rows, args.repeats)
    results = {server: measure(server, rows, repeats) for server in ("adapter", "azmlinfsrv")}
    command = "python -m bench.powerquery" + (" --smoke" if args.smoke else f" --rows {rows} --repeats {repeats}")
    text = markdown(results, rows, command)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "powerquery.json").write_text(json.dumps({"rows": rows, "results": results, "command": command}))
    (args.out / "powerquery.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
