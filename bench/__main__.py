"""`python -m bench`: our adapter and azmlinfsrv 1.5.1 side by side, in one run, with medians over repeats.

Writes bench/results/latest.md and latest.json and prints the table. `--smoke` runs every measurement with tiny
counts (seconds, not minutes) so the test suite can check that the benchmark still works; its numbers mean nothing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from . import coldstart, collection, report, servers
from . import inprocess as inprocess_impl
from . import powerbi as powerbi_impl

ROOT = Path(__file__).resolve().parent.parent
INPROCESS_SCRIPTS = ("echo.py", "schema_small.py", "raw_echo.py")


def inprocess(calls: int, repeats: int) -> dict[str, dict[str, list[float]]]:
    """Per-call seconds for each script and implementation, each in a fresh interpreter."""
    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        for script in INPROCESS_SCRIPTS:
            results[script] = {}
            for impl in inprocess_impl.IMPLEMENTATIONS:
                subprocess.run(
                    [sys.executable, "-m", "bench.inprocess", impl, script, str(calls), str(repeats), str(out)],
                    cwd=ROOT,
                    check=True,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                results[script][impl] = json.loads(out.read_text())
    return results


def powerbi(rows: int, calls: int, repeats: int) -> dict[str, dict[str, list[float]]]:
    """A Power BI-shaped request of `rows` rows: CPU seconds per call and peak bytes, each server in a fresh
    interpreter with its floor."""
    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        for impl in ("adapter", "azmlinfsrv"):
            subprocess.run(
                [sys.executable, "-m", "bench.powerbi", impl, str(rows), str(calls), str(repeats), str(out)],
                cwd=ROOT,
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            results[impl] = json.loads(out.read_text())
    return results


def import_cost(repeats: int) -> dict[str, list[float]]:
    """Seconds to import `function_app` vs `azure.functions` alone, in fresh interpreters."""
    code = "import time; t = time.perf_counter(); import {}; print(time.perf_counter() - t)"
    return {
        module: [
            float(
                subprocess.run(
                    [sys.executable, "-c", code.format(module)], cwd=ROOT, capture_output=True, text=True, check=True
                ).stdout
            )
            for _ in range(repeats)
        ]
        for module in ("azure.functions", "function_app")
    }


def cold_starts(repeats: int) -> dict[str, list[float]]:
    return {server: [servers.cold_start(server) for _ in range(repeats)] for server in ("adapter", "azmlinfsrv")}


def http_load(
    seconds: float, repeats: int, concurrencies: tuple[int, ...]
) -> dict[str, dict[str, list[dict[str, float]]]]:
    results: dict[str, dict[str, list[dict[str, float]]]] = {}
    for server in ("adapter", "azmlinfsrv"):
        results[server] = {}
        with servers.running(server, servers.SCRIPTS, "echo.py") as (base, _):
            servers.load(base, 1, 1)  # warm-up
            for c in concurrencies:
                results[server][str(c)] = [servers.load(base, c, seconds) for _ in range(repeats)]
    return results


def memory(body_bytes: int, repeats: int) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {}
    for server in ("adapter", "azmlinfsrv"):
        with servers.running(server, servers.SCRIPTS, "raw_echo.py") as (base, process):
            results[server] = [servers.upload_peak_growth(process, base, body_bytes) for _ in range(repeats)]
    return results


def coldstart_only(out: Path, repeats: int, smoke: bool) -> int:
    """`--only coldstart`: the cold-start rows alone (no wrk needed), written to coldstart.md/json so that a full
    run's latest.md stays as it was."""
    results = {"coldstart": coldstart.measure(repeats, warm_up=not smoke)}
    command = "python -m bench --only coldstart" + (" --smoke" if smoke else f" --repeats {repeats}")
    return _write_only(out, "coldstart", report.build_coldstart_only(results, command))


def collection_only(out: Path, repeats: int, smoke: bool) -> int:
    """`--only collection`: section (g) alone (no wrk, no servers), written to collection.md/json."""
    results = {"collection": collection.measure(calls=20 if smoke else 200, repeats=3 if smoke else repeats)}
    command = "python -m bench --only collection" + (" --smoke" if smoke else f" --repeats {repeats}")
    return _write_only(out, "collection", report.build_collection_only(results, command))


def _write_only(out: Path, name: str, document: dict[str, Any]) -> int:
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(document, indent=2))
    (out / f"{name}.md").write_text(document["markdown"])
    print(document["markdown"])
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny counts: checks the benchmark runs, nothing more")
    parser.add_argument("--repeats", type=int, default=5, help="repeats per measurement (default 5)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="folder for latest.md/json")
    parser.add_argument(
        "--only",
        choices=("coldstart", "collection"),
        help="coldstart: only the cold starts above the script's floor, written to coldstart.md/json; "
        "collection: only data collection's cost (section g, repeats default 31), written to collection.md/json",
    )
    args = parser.parse_args(argv)
    repeats = 1 if args.smoke else args.repeats
    if args.only == "coldstart":
        return coldstart_only(args.out, repeats, args.smoke)
    if args.only == "collection":
        explicit = any(a == "--repeats" or a.startswith("--repeats=") for a in (argv or sys.argv[1:]))
        return collection_only(args.out, args.repeats if explicit else 31, args.smoke)
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed (Debian: apt-get install wrk)")

    results: dict[str, Any] = {
        "inprocess": inprocess(calls=20 if args.smoke else 2000, repeats=2 if args.smoke else repeats),
        "powerbi": powerbi(powerbi_impl.ROWS, calls=2 if args.smoke else 15, repeats=repeats),
        "powerbi_rows": powerbi_impl.ROWS,
        "import": import_cost(repeats),
        "cold_start": cold_starts(repeats),
        "http": http_load(1 if args.smoke else 5, repeats, (8,) if args.smoke else (1, 8, 32)),
    }
    # Data collection's cost per call, in this process (bench/collection.py).
    results["collection"] = collection.measure(calls=20 if args.smoke else 200, repeats=3 if args.smoke else 31)
    # Cold start above the script's own floor, with and without SCORING_PRELOAD (bench/coldstart.py).
    results["coldstart"] = coldstart.measure(repeats, warm_up=not args.smoke)
    body_bytes = (2 if args.smoke else 20) * 1024 * 1024
    results["memory"] = memory(body_bytes, repeats)
    results["memory_body_bytes"] = body_bytes
    command = "python -m bench" + (" --smoke" if args.smoke else f" --repeats {repeats}")
    document = report.build(results, command)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(json.dumps(document, indent=2))
    (args.out / "latest.md").write_text(document["markdown"])
    print(document["markdown"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
