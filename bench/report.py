"""Turn raw benchmark samples into medians, spreads, ratios against the targets, and a markdown table."""

from __future__ import annotations

import datetime
import math
import os
import platform
import statistics
from importlib import metadata
from typing import Any

from . import collection

PACKAGES = (
    "azure-functions",
    "azureml-inference-server-http",
    "werkzeug",
    "flask",
    "gunicorn",
    "inference-schema",
    "numpy",
    "pandas",
    "scikit-learn",
)


def _median(values: list[float]) -> float:
    return statistics.median(values)


def _spread(values: list[float], scale: float, fmt: str) -> str:
    return f"{_median(values) * scale:{fmt}} ({min(values) * scale:{fmt}}–{max(values) * scale:{fmt}})"


def _above_floor(runs: dict[str, list[float]]) -> list[float]:
    """Per repeat, the server's per-call time minus run()'s alone, both measured in the same process."""
    return [server - floor for server, floor in zip(runs["server"], runs["floor"], strict=True)]


def _met(ok: bool) -> str:
    return "met" if ok else "**missed**"


def machine() -> dict[str, str]:
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "-"
    return {
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "os": platform.platform(),
        "versions": ", ".join(f"{k} {v}" for k, v in versions.items()),
    }


def _powerbi_rows(runs: dict[str, dict[str, list[float]]], n_rows: int, summary: dict[str, Any]) -> list[str]:
    """(f): what each server adds above the floor (json.loads + the decorated run() + json.dumps of its answer) for
    one Power BI-shaped request, and the peak memory a call allocates."""
    ours, theirs = runs["adapter"], runs["azmlinfsrv"]
    floor = _median(ours["floor"] + theirs["floor"])
    encode = _median(ours["encode"] + theirs["encode"])
    ours_above, theirs_above = _above_floor(ours), _above_floor(theirs)
    # Too few calls (--smoke) on a busy machine can leave azmlinfsrv's median at or below its floor: no ratio then.
    ratio = _median(ours_above) / _median(theirs_above) if _median(theirs_above) > 0 else math.nan
    peaks = {name: _median(runs[name]["server_peak"]) for name in runs}
    floor_peak = _median(ours["floor_peak"] + theirs["floor_peak"])
    summary["powerbi_ratio"] = ratio if math.isfinite(ratio) else None  # latest.json stays strict JSON
    summary["powerbi_peak_ratio"] = peaks["adapter"] / peaks["azmlinfsrv"]
    mb = 1 / 2**20
    return [
        "",
        f"### (f) Power BI-shaped request: {n_rows:,} rows in Inputs (PandasParameterType) with GlobalParameters, "
        "in-process (CPU ms per call; median (min–max) over repeats)",
        "",
        "| floor: json.loads + decorated run() + json.dumps | adapter above floor | azmlinfsrv above floor | ratio "
        "| target ≤ 0.5 | of the floor, the answer's json.dumps | peak allocated MB: floor / adapter / azmlinfsrv "
        "| target: adapter ≤ azmlinfsrv |",
        "|---|---|---|---|---|---|---|---|",
        f"| {floor * 1e3:.1f} | {_spread(ours_above, 1e3, '.2f')} | {_spread(theirs_above, 1e3, '.2f')} "
        f"| {ratio:.2f} | {_met(ratio <= 0.5) if math.isfinite(ratio) else 'n/a'} | {encode * 1e3:.2f} "
        f"| {floor_peak * mb:.1f} / {peaks['adapter'] * mb:.1f} / {peaks['azmlinfsrv'] * mb:.1f} "
        f"| {_met(peaks['adapter'] <= peaks['azmlinfsrv'])} |",
    ]


COLDSTART_TARGET = 0.5
COLDSTART_LABELS = {"sample": "score.py (bundled sample)", "sklearn": "scikit-learn, joblib model"}


def coldstart_rows(cold: dict[str, dict[str, list[float]]], summary: dict[str, Any]) -> list[str]:
    """Section (c2), one row per (script, preload): each server's start-to-first-answer minus the floor measured in
    the same round (see bench/coldstart.py), medians over rounds."""
    rows = [
        "",
        "### (c2) Cold start above the script's own floor: process start to first 200 from /score (ms; median "
        "(min–max) over repeats)",
        "",
        "| script | SCORING_PRELOAD | floor: python + import + init() + run() | adapter serve | azmlinfsrv "
        "| adapter above floor | azmlinfsrv above floor | ratio | target ≤ 0.5 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for script, runs in cold.items():
        theirs = [server - floor for server, floor in zip(runs["azmlinfsrv"], runs["floor"], strict=True)]
        for preload in (False, True):
            name = "adapter-preload" if preload else "adapter"
            ours = [server - floor for server, floor in zip(runs[name], runs["floor"], strict=True)]
            ratio = _median(ours) / _median(theirs)
            summary[f"coldstart_ratio_{script}" + ("_preload" if preload else "")] = ratio
            label = COLDSTART_LABELS.get(script, script)
            rows.append(
                f"| {label} | {'true' if preload else 'false'} | {_spread(runs['floor'], 1e3, '.0f')} "
                f"| {_spread(runs[name], 1e3, '.0f')} | {_spread(runs['azmlinfsrv'], 1e3, '.0f')} "
                f"| {_spread(ours, 1e3, '.0f')} | {_spread(theirs, 1e3, '.0f')} | {ratio:.2f} "
                f"| {_met(ratio <= COLDSTART_TARGET)} |"
            )
    rows += [
        "",
        "azmlinfsrv has no preload setting (its worker imports the script and runs `init()` before it accepts "
        "requests): a script's two rows show the same azmlinfsrv runs.",
    ]
    return rows


def build_coldstart_only(results: dict[str, Any], command: str) -> dict[str, Any]:
    """The document for `python -m bench --only coldstart`: section (c2) alone."""
    summary: dict[str, Any] = {}
    rows = coldstart_rows(results["coldstart"], summary)
    when, info, header = _measured(command)
    return _document(when, command, info, results, summary, header[:-1] + rows)


def build_collection_only(results: dict[str, Any], command: str) -> dict[str, Any]:
    """The document for `python -m bench --only collection`: section (g) alone."""
    summary: dict[str, Any] = {}
    rows = _collection_rows(results["collection"], summary)
    when, info, header = _measured(command)
    return _document(when, command, info, results, summary, header + rows)


def _collection_rows(result: dict[str, Any], summary: dict[str, Any]) -> list[str]:
    """(g): data collection's cost per `collect` call against a small pandas run() (bench/collection.py)."""
    summary["collection_ratio_log"] = result["ratio"]["log"]
    section = collection.markdown(result).replace("### Data collection", "### (g) Data collection", 1)
    return section.rstrip().splitlines()


def _measured(command: str) -> tuple[str, dict[str, str], list[str]]:
    """When, on what, and the report's first lines saying so (ending with an empty line)."""
    info = machine()
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    header = [
        f"Measured {when} with `{command}` on {info['cpu']}, Python {info['python']}, {info['os']}.",
        f"Versions: {info['versions']}.",
        "",
    ]
    return when, info, header


def build(results: dict[str, Any], command: str) -> dict[str, Any]:
    rows: list[str] = []
    summary: dict[str, Any] = {}

    rows += [
        "### (a) In-process cost per /score call (µs; median (min–max) over repeats)",
        "",
        "| script | run() floor | adapter above floor | azmlinfsrv above floor | ratio | target ≤ 0.2 "
        "| adapter, 60 s timeout (runner thread) | its ratio |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for script, impls in results["inprocess"].items():
        floor = _median([v for runs in impls.values() for v in runs["floor"]])
        ours, threaded, theirs = (_above_floor(impls[name]) for name in ("adapter", "adapter-timeout", "azmlinfsrv"))
        ratio = _median(ours) / _median(theirs)
        summary[f"inprocess_ratio_{script}"] = ratio
        rows.append(
            f"| {script} | {floor * 1e6:.1f} | {_spread(ours, 1e6, '.1f')} | {_spread(theirs, 1e6, '.1f')} "
            f"| {ratio:.2f} | {_met(ratio <= 0.2)} | {_spread(threaded, 1e6, '.1f')} "
            f"| {_median(threaded) / _median(theirs):.2f} |"
        )

    imports = results["import"]
    delta = _median(imports["function_app"]) - _median(imports["azure.functions"])
    summary["import_delta_ms"] = delta * 1e3
    rows += [
        "",
        "### (b) Indexing cost: import in a fresh interpreter (ms)",
        "",
        "| import azure.functions | import function_app | difference | target ≤ 20 ms |",
        "|---|---|---|---|",
        f"| {_spread(imports['azure.functions'], 1e3, '.1f')} | {_spread(imports['function_app'], 1e3, '.1f')} "
        f"| {delta * 1e3:.1f} | {_met(delta * 1e3 <= 20)} |",
    ]

    cold = results["cold_start"]
    ratio = _median(cold["adapter"]) / _median(cold["azmlinfsrv"])
    summary["cold_start_ratio"] = ratio
    rows += [
        "",
        "### (c) Cold start: process start to first /score answer, bundled sample (s)",
        "",
        "| adapter serve | azmlinfsrv | ratio | target ≤ 0.8 |",
        "|---|---|---|---|",
        f"| {_spread(cold['adapter'], 1, '.2f')} | {_spread(cold['azmlinfsrv'], 1, '.2f')} | {ratio:.2f} "
        f"| {_met(ratio <= 0.8)} |",
    ]

    if "coldstart" in results:
        rows += coldstart_rows(results["coldstart"], summary)

    rows += [
        "",
        "### (d) HTTP load with wrk, POST /score, undecorated echo, one worker",
        "",
        "| connections | adapter req/s | azmlinfsrv req/s | ratio | adapter p50 / p99 (ms) "
        "| azmlinfsrv p50 / p99 (ms) | target at 8: ratio ≥ 1.0, p99 no worse |",
        "|---|---|---|---|---|---|---|",
    ]
    http = results["http"]
    for c in http["adapter"]:
        ours, theirs = http["adapter"][c], http["azmlinfsrv"][c]
        rps = [_median([r["rps"] for r in ours]), _median([r["rps"] for r in theirs])]
        p50 = [_median([r["p50"] for r in ours]), _median([r["p50"] for r in theirs])]
        p99 = [_median([r["p99"] for r in ours]), _median([r["p99"] for r in theirs])]
        verdict = _met(rps[0] >= rps[1] and p99[0] <= p99[1]) if c == "8" else ""
        summary[f"http_ratio_c{c}"] = rps[0] / rps[1]
        rows.append(
            f"| {c} | {rps[0]:.0f} | {rps[1]:.0f} | {rps[0] / rps[1]:.2f} | {p50[0] * 1e3:.2f} / "
            f"{p99[0] * 1e3:.2f} | {p50[1] * 1e3:.2f} / {p99[1] * 1e3:.2f} | {verdict} |"
        )

    mem = results["memory"]
    body = results.get("memory_body_bytes", 0)
    rows += [
        "",
        "### (e) Peak memory growth while a @rawhttp script receives a multipart upload (MB)",
        "",
        "| adapter serve | azmlinfsrv | adapter growth / body | target ≤ 3 |",
        "|---|---|---|---|",
    ]
    if body:
        growth = _median(mem["adapter"]) / body
        summary["memory_growth_per_body"] = growth
        rows.append(
            f"| {_spread(mem['adapter'], 1 / 2**20, '.1f')} | {_spread(mem['azmlinfsrv'], 1 / 2**20, '.1f')} "
            f"| {growth:.2f} | {_met(growth <= 3)} |"
        )

    if "powerbi" in results:
        rows += _powerbi_rows(results["powerbi"], results.get("powerbi_rows", 0), summary)
    if "collection" in results:
        rows += ["", *_collection_rows(results["collection"], summary)]

    when, info, header = _measured(command)
    return _document(when, command, info, results, summary, header + rows)


def _document(
    when: str, command: str, info: dict[str, str], results: dict[str, Any], summary: dict[str, Any], lines: list[str]
) -> dict[str, Any]:
    """What latest.json holds (and latest.md, as `markdown`)."""
    return {
        "date": when,
        "command": command,
        "machine": info,
        "results": results,
        "summary": summary,
        "markdown": "\n".join(lines) + "\n",
    }
