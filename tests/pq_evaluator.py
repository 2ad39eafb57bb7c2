"""The M evaluator (tests/powerquery) for the tests that run generated Power Query functions against a server
(tests/test_pq_scoring.py, tests/test_mlflow_powerquery.py): a module importing this is skipped where the evaluator
is not there; `traffic()` counts the requests the function sent, to bound what finding bad rows costs."""

from __future__ import annotations

import pytest

run_module = pytest.importorskip("powerquery.run", reason="the M evaluator (tests/powerquery) is not there")
values_module = pytest.importorskip("powerquery.m.values")
web_module = pytest.importorskip("powerquery.m.library.web")
apply = run_module.apply
MError = values_module.MError


def traffic() -> int:
    """Requests Web.Contents has sent in this process so far."""
    return int(web_module.TRAFFIC.count)
