"""Apply a generated Power Query function to a table, with the M evaluator.

    python -m tests.powerquery.run FILE.pq --table data.csv [--key K] [--arg NAME=JSON ...] [--types a:number,b:text]
        [--out scored.csv]

The .pq document is one M expression evaluating to a function; it is called with the table first, `Key` = --key and
the other named parameters from --arg (JSON values). The scored table is written as CSV (stdout without --out);
a cell holding an error is written `#error: <message>`.

Python API: `apply(pq_text, columns, rows, key=None, arguments=None) -> (columns, rows)`; error cells are
`powerquery.m.values.MError` instances.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def apply(
    pq_text: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    key: str | None = None,
    arguments: Mapping[str, Any] | None = None,
) -> tuple[list[str], list[list[Any]]]:
    """Evaluate `pq_text` to a function and call it with the table (`columns`, `rows` of Python values: None, bool,
    int/float, str, dates), `Key` = key and the other named parameters from `arguments` (JSON-like Python values).
    Returns the result table's columns and rows; a cell holding an M error is an `MError`."""
    raise NotImplementedError("the evaluator is being written")
