"""The M evaluator (tests/powerquery) for the tests that run generated Power Query functions against a server
(tests/test_pq_scoring.py, tests/test_mlflow_powerquery.py): a module importing this is skipped where the evaluator
is not there; `traffic()` counts the requests the function sent, to bound what finding bad rows costs;
`apply_typed` also gives each result column's type."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

run_module = pytest.importorskip("powerquery.run", reason="the M evaluator (tests/powerquery) is not there")
values_module = pytest.importorskip("powerquery.m.values")
web_module = pytest.importorskip("powerquery.m.library.web")
apply = run_module.apply
MError = values_module.MError


def apply_typed(
    pq_text: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], **options: Any
) -> tuple[list[str], list[str | None], list[list[Any]]]:
    """`apply`, with each column's type as Power Query shows it in the column header ("number", "text"...; None:
    any)."""
    table = run_module.apply_table(pq_text, columns, rows, **options)
    kinds = [None if t is None or t.kind == "any" else str(t.kind) for t in table.types]
    return list(table.columns), kinds, [[run_module.from_m(cell) for cell in row] for row in table.rows]


def traffic() -> int:
    """Requests Web.Contents has sent in this process so far."""
    return int(web_module.TRAFFIC.count)
