"""The benchmark's smoke mode runs end to end, so `python -m bench` never rots. No timing is asserted: on a small,
shared machine numbers belong in the benchmark's report, not in pass/fail."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from targets import ROOT

# Runs the benchmark's servers and wrk: several seconds, and azmlinfsrv does not make it a comparison test.
pytestmark = pytest.mark.slow


def test_smoke_run_produces_every_measurement(tmp_path: Path) -> None:
    if shutil.which("wrk") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("wrk must be installed in CI (.ci/run installs it)")
        pytest.skip("wrk is not installed (Debian: apt-get install wrk)")
    subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--out", str(tmp_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=600,
    )
    document = json.loads((tmp_path / "latest.json").read_text())
    assert set(document["results"]) >= {
        "inprocess",
        "import",
        "cold_start",
        "coldstart",
        "http",
        "memory",
        "powerbi",
        "collection",
    }
    assert set(document["results"]["inprocess"]) == {"echo.py", "schema_small.py", "raw_echo.py"}
    for impls in document["results"]["inprocess"].values():
        assert set(impls) == {"adapter", "adapter-timeout", "azmlinfsrv"}
        assert all(value > 0 for runs in impls.values() for series in runs.values() for value in series)
    # Cold starts: the floor and every server, for the bundled sample and the scikit-learn script.
    assert set(document["results"]["coldstart"]) == {"sample", "sklearn"}
    for series in document["results"]["coldstart"].values():
        assert set(series) == {"floor", "adapter", "adapter-preload", "azmlinfsrv"}
        assert all(len(values) == 1 and values[0] > 0 for values in series.values())
    summary = document["summary"]
    assert {"import_delta_ms", "cold_start_ratio", "http_ratio_c8", "memory_growth_per_body"} <= set(summary)
    rows = ("sample", "sample_preload", "sklearn", "sklearn_preload")
    assert {f"coldstart_ratio_{row}" for row in rows} <= set(summary)
    markdown = (tmp_path / "latest.md").read_text()
    for section in ("(a) In-process", "(b) Indexing", "(c) Cold start", "(d) HTTP load", "(e) Peak memory"):
        assert section in markdown
    assert "(c2) Cold start above the script's own floor" in markdown
    assert "(f) Power BI-shaped request" in markdown and "(g) Data collection" in markdown
    assert {"powerbi_ratio", "powerbi_peak_ratio", "collection_ratio_log"} <= set(summary)
