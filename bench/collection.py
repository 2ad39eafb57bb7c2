"""What data collection costs a request: one `collect` call against a small pandas `run()` (goal: under 5%).

    python -m bench.collection [--calls N] [--repeats R] [--json OUT]    (or: python -m bench --only collection)

The `run()` is the public custom-logging sample's (JSON -> DataFrame -> a prediction DataFrame -> dict), measured
without collection and with its two `collect` calls (inputs and outputs, v2 `Collector`), alternating repeat by
repeat so both see the same machine. Collection writes as it does under `adapter serve`: one formatted log record
per call to a stream (here an in-memory one); `files` also writes JSON Lines files to a temporary folder.
The ratio is the cost of one `collect` (half the difference between run() with and without its two calls, best of
the repeats) over `run()` without collection; the median of the repeats' paired differences is reported beside it.

What bounds it is measured too (`parts`): the parts of a `collect` the adapter cannot do without, each on its own,
for the same two frames (getting the rows out of pandas; one log record of the same length through the same
handler; the v2 correlation context, a uuid4), and, for comparison, pandas' own JSON path (`to_json`).
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GOAL = 0.05
BODY = json.dumps({"data": {"col1": [1.0, 2.0, 3.0, 4.0, 5.0], "col2": [2, 3, 4, 5, 6], "col3": list("abcde")}})


def _scripts(collect: bool) -> Callable[[str], Any]:
    """The sample's run(), with or without its collectors."""
    import pandas as pd

    from adapter.azureml.monitoring_v2 import Collector

    inputs, outputs = Collector(name="model_inputs"), Collector(name="model_outputs")

    def run(data: str) -> Any:
        input_df = pd.DataFrame(json.loads(data)["data"])
        context = inputs.collect(input_df) if collect else None
        output_df = pd.DataFrame({"score": input_df["col1"] * 2 + input_df["col2"]})
        if collect:
            outputs.collect(output_df, context)
        return output_df.to_dict()

    return run


def _per_call(fn: Callable[[str], Any], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn(BODY)
    return (time.perf_counter() - start) / calls


def measure(calls: int = 200, repeats: int = 31) -> dict[str, Any]:
    """Per-call seconds for each variant (one value per repeat), and the ratio per sink.

    Each repeat runs the three variants back to back and the cost of collecting is taken from that repeat's
    difference, so the noise of a shared machine (which moves all three) mostly cancels; the median is reported."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))  # as `serve` logs
    collection_logger = logging.getLogger("adapter.datacollection")
    collection_logger.addHandler(handler)
    collection_logger.setLevel(logging.INFO)
    collection_logger.propagate = False
    saved = os.environ.get("AML_DATA_COLLECTION_DIR")
    try:
        with tempfile.TemporaryDirectory() as folder:
            plain = _scripts(collect=False)
            logged = _scripts(collect=True)
            os.environ["AML_DATA_COLLECTION_DIR"] = folder
            filed = _scripts(collect=True)  # its collectors read the setting when created, as in init()
            os.environ.pop("AML_DATA_COLLECTION_DIR")
            variants = {"run": plain, "log": logged, "files": filed}
            samples: dict[str, list[float]] = {name: [] for name in variants}
            for fn in variants.values():
                _per_call(fn, calls)  # warm-up
            for _ in range(repeats):
                for name, fn in variants.items():
                    samples[name].append(_per_call(fn, calls))
                    stream.seek(0)
                    stream.truncate()
    finally:
        collection_logger.removeHandler(handler)
        collection_logger.propagate = True
        if saved is not None:
            os.environ["AML_DATA_COLLECTION_DIR"] = saved
    # Two collect calls per run(). Best of the repeats: what the code costs when the machine leaves it alone (on a
    # shared machine other load only ever adds); the paired median is kept for comparison.
    run_s = min(samples["run"])
    per_collect = {sink: max(0.0, min(samples[sink]) - run_s) / 2 for sink in ("log", "files")}
    paired = {
        sink: statistics.median(w - a for w, a in zip(samples[sink], samples["run"], strict=True)) / 2
        for sink in ("log", "files")
    }
    return {
        "samples": samples,
        "parts": parts(calls=max(calls, 20), repeats=max(3, repeats // 4)),
        "run_us": run_s * 1e6,
        "collect_us": {sink: cost * 1e6 for sink, cost in per_collect.items()},
        "ratio": {sink: cost / run_s for sink, cost in per_collect.items()},
        "paired_median_ratio": {sink: paired[sink] / statistics.median(samples["run"]) for sink in paired},
        "goal": GOAL,
    }


def parts(calls: int = 2000, repeats: int = 7) -> dict[str, float]:
    """µs per call (best of the repeats) of what one `collect` cannot avoid, on the sample's two frames (their mean:
    a `run()` collects one of each)."""
    import pandas as pd

    from adapter.azureml.monitoring_v2 import get_context

    inputs = pd.DataFrame(json.loads(BODY)["data"])
    outputs = pd.DataFrame({"score": inputs["col1"] * 2 + inputs["col2"]})
    record = "Data collection: " + "x" * 230  # about the sample's record
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    probe = logging.getLogger("bench.collection.probe")
    probe.addHandler(handler)
    probe.setLevel(logging.INFO)
    probe.propagate = False

    def best(fn: Callable[[], object]) -> float:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            times.append((time.perf_counter() - start) / calls)
            stream.seek(0)
            stream.truncate()
        return min(times) * 1e6

    try:
        return {
            "rows_from_pandas": (
                best(lambda: inputs.to_numpy(dtype=object).tolist())
                + best(lambda: outputs.to_numpy(dtype=object).tolist())
            )
            / 2,
            "log_record": best(lambda: probe.info("%s", record)),
            "context": best(get_context),
            "pandas_to_json": (
                best(lambda: inputs.to_json(orient="values")) + best(lambda: outputs.to_json(orient="values"))
            )
            / 2,
        }
    finally:
        probe.removeHandler(handler)


def markdown(result: dict[str, Any]) -> str:
    """A report section: the cost of one `collect` and its ratio to run(), per sink."""
    lines = [
        "### Data collection: one `collect` vs a small pandas `run()`",
        "",
        f"`run()` alone: {result['run_us']:.1f} µs per call (best of {len(result['samples']['run'])} repeats).",
        "",
        "| sink | µs per collect | ratio to run() | goal < 5% | paired median ratio |",
        "|---|---|---|---|---|",
    ]
    for sink in ("log", "files"):
        ratio = result["ratio"][sink]
        met = "met" if ratio < result["goal"] else "**missed**"
        label = "log record" if sink == "log" else "log record + JSON Lines file"
        paired = result["paired_median_ratio"][sink]
        lines.append(f"| {label} | {result['collect_us'][sink]:.1f} | {ratio:.1%} | {met} | {paired:.1%} |")
    if "parts" in result:
        floor = sum(result["parts"][name] for name in ("rows_from_pandas", "log_record", "context"))
        lines += [
            "",
            "What a `collect` cannot do without, each part alone (µs per call, best of repeats):",
            "",
            "| rows out of pandas (`to_numpy(dtype=object).tolist()`) | one log record, same length and handler "
            "| v2 correlation context (uuid4) | their sum | its ratio to run() | pandas' own JSON (`to_json`) |",
            "|---|---|---|---|---|---|",
            f"| {result['parts']['rows_from_pandas']:.1f} | {result['parts']['log_record']:.1f} "
            f"| {result['parts']['context']:.1f} | {floor:.1f} | {floor / (result['run_us'] or 1):.1%} "
            f"| {result['parts']['pandas_to_json']:.1f} |",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200, help="calls per repeat and variant")
    parser.add_argument("--repeats", type=int, default=31)
    parser.add_argument("--json", type=Path, help="also write the raw result here")
    args = parser.parse_args(argv)
    result = measure(args.calls, args.repeats)
    print(markdown(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
