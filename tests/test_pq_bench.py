"""`python -m bench.powerquery` runs end to end (smoke mode: 200 rows, once), so the Power Query benchmark never rots.
No timing is asserted; the requests it reports are checked, since they count what the function sent."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from targets import ROOT

# Starts both servers and the evaluator on 200 rows: seconds, so with the slow tests.
pytestmark = pytest.mark.slow


def test_the_power_query_benchmark_runs_and_counts_its_requests(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.powerquery", "--smoke", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    document = json.loads((tmp_path / "powerquery.json").read_text())
    assert document["rows"] == 200
    for server in ("adapter", "azmlinfsrv"):
        assert document["results"][server]["requests"] == [1.0]  # 200 rows: one batch
    assert "| adapter |" in (tmp_path / "powerquery.md").read_text()
