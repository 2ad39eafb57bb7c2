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

from .m.engine import evaluate
from .m.values import MError, MFunction, MList, MRecord, MTable, call, force, kind_of


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
    function = evaluate(pq_text)
    if not isinstance(function, MFunction):
        raise MError("Expression.Error", f"The document evaluates to a {kind_of(function)}, not a function.")
    table = MTable(list(columns), [[to_m(v) for v in row] for row in rows])
    args = _arguments(function, table, key, arguments or {})
    result = force(call(function, args))
    if not isinstance(result, MTable):
        raise MError("Expression.Error", f"The function returned a {kind_of(result)}, not a table.")
    return list(result.columns), [[from_m(cell) for cell in row] for row in result.rows]


def _arguments(function: MFunction, table: MTable, key: str | None, named: Mapping[str, Any]) -> list[Any]:
    """Positional arguments for the function's parameters: the table first, then `Key` and the named ones by the
    parameter names of the function's type; parameters not given are left out (optional) or null."""
    params = (function.ftype.params if function.ftype is not None else None) or []
    values: dict[str, Any] = {name: to_m(value) for name, value in named.items()}
    if key is not None:
        values["Key"] = key
    unknown = [name for name in values if name not in [p[0] for p in params[1:]]]
    if unknown:
        raise ValueError(f"the function has no parameter {unknown[0]!r}; it takes {', '.join(p[0] for p in params)}")
    args: list[Any] = [table]
    for name, _, _ in params[1:]:
        args.append(values.get(name))
    while len(args) > function.min_args and args[-1] is None:
        args.pop()
    return args


def to_m(value: Any) -> Any:
    """A Python value (JSON-like, or dates) as an M value."""
    if isinstance(value, dict):
        return MRecord({str(k): to_m(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return MList([to_m(v) for v in value])
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def from_m(value: Any) -> Any:
    """An M value as a Python value: records as dicts, lists as lists, an error value as its `MError`; other values
    (numbers, text, logicals, null, dates, tables, binaries) as they are."""
    if isinstance(value, MError):
        return value
    try:
        value = force(value)
    except MError as ex:
        return ex
    if isinstance(value, MRecord):
        return {name: from_m(value.fields[name]) for name in value.fields}
    if isinstance(value, MList):
        return [from_m(v) for v in value.items]
    return value
