"""Apply a generated Power Query function to a table, with the M evaluator.

    python -m tests.powerquery.run FILE.pq --table data.csv [--key K] [--arg NAME=JSON ...] [--types a:number,b:text]
        [--out scored.csv]

The .pq document is one M expression evaluating to a function; it is called with the table first, `Key` = --key and
the other named parameters from --arg (JSON values). The scored table is written as CSV (stdout without --out);
a cell holding an error is written `#error: <message>`.

Python API: `apply(pq_text, columns, rows, key=None, arguments=None) -> (columns, rows)`; error cells are
`powerquery.m.values.MError` instances. `apply_table` (same arguments) returns the M table, with its columns' types.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import re
import sys
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
    result = apply_table(pq_text, columns, rows, key=key, arguments=arguments)
    return list(result.columns), [[from_m(cell) for cell in row] for row in result.rows]


def apply_table(
    pq_text: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    key: str | None = None,
    arguments: Mapping[str, Any] | None = None,
) -> MTable:
    """`apply`, returning the M table itself (its columns' types in `types`)."""
    function = evaluate(pq_text)
    if not isinstance(function, MFunction):
        raise MError("Expression.Error", f"The document evaluates to a {kind_of(function)}, not a function.")
    table = MTable(list(columns), [[to_m(v) for v in row] for row in rows])
    args = _arguments(function, table, key, arguments or {})
    result = force(call(function, args))
    if not isinstance(result, MTable):
        raise MError("Expression.Error", f"The function returned a {kind_of(result)}, not a table.")
    return result


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


# --- The command line ----------------------------------------------------------------------------------------------

CSV_TYPES = ("number", "text", "logical", "date", "datetime", "datetimezone", "any")


def _number(text: str) -> int | float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    return int(value) if re.fullmatch(r"[+-]?\d+", text.strip()) else value


def read_csv(path: str, types: Mapping[str, str]) -> tuple[list[str], list[list[Any]]]:
    """The CSV's header and rows, typed per column: all numbers -> number, all true/false -> logical, else text;
    an empty cell is null. `types` (column -> type name) overrides the guess."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            raise ValueError(f"{path} is empty: it needs a header row")
        texts = [row + [""] * (len(header) - len(row)) for row in reader]
    unknown = [name for name in types if name not in header]
    if unknown:
        raise ValueError(f"--types names {unknown[0]!r}, which is not a column of {path}")
    columns: list[list[Any]] = []
    for i, name in enumerate(header):
        cells = [row[i] for row in texts]
        given = [c for c in cells if c != ""]
        kind = types.get(name)
        if kind is None:
            if given and all(_number(c) is not None for c in given):
                kind = "number"
            elif given and all(c.strip().lower() in ("true", "false") for c in given):
                kind = "logical"
            else:
                kind = "text"
        columns.append([None if c == "" else _cell(c, kind, name) for c in cells])
    return header, [list(row) for row in zip(*columns, strict=True)] if columns else []


def _cell(text: str, kind: str, column: str) -> Any:
    from .m.library.datetimes import _parse

    if kind == "number":
        value = _number(text)
        if value is None:
            raise ValueError(f"column {column!r}: {text!r} is not a number")
        return value
    if kind == "logical":
        if text.strip().lower() not in ("true", "false"):
            raise ValueError(f"column {column!r}: {text!r} is not true or false")
        return text.strip().lower() == "true"
    if kind in ("date", "datetime", "datetimezone"):
        try:
            return _parse(text, {"date": "Date", "datetime": "DateTime", "datetimezone": "DateTimeZone"}[kind])
        except MError as ex:
            raise ValueError(f"column {column!r}: {ex.message}") from None
    return text


def cell_text(value: Any) -> str:
    """A result cell in the output CSV: an error as `#error: message`, null empty, other values as Text.From writes
    them (records, lists and tables as JSON)."""
    from .m.library.datetimes import to_text
    from .m.library.json_lib import from_value
    from .m.operators import format_number

    if isinstance(value, MError):
        return f"#error: {value.message}"
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return format_number(value)
    if isinstance(value, str):
        return value
    if isinstance(value, (dt.date, dt.time, dt.timedelta)):
        return to_text(value)
    try:
        return from_value(to_m(value)).data.decode()
    except MError as ex:
        return f"#error: {ex.message}"


def _parse_types(text: str | None) -> dict[str, str]:
    types: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        name, sep, kind = part.rpartition(":")
        if not sep or not name or kind.strip() not in CSV_TYPES:
            raise ValueError(f"--types takes name:type,... with a type among {', '.join(CSV_TYPES)}; got {part!r}")
        types[name] = kind.strip()
    return types


def _parse_args(pairs: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ValueError(f"--arg takes NAME=JSON; got {pair!r}")
        try:
            out[name] = json.loads(value)
        except json.JSONDecodeError as ex:
            raise ValueError(f"--arg {name}: the value is not JSON ({ex.msg})") from None
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.powerquery.run",
        description="Apply a Power Query (M) function to a CSV table with the test evaluator.",
    )
    parser.add_argument("pq", help="the .pq document: one M expression evaluating to a function")
    parser.add_argument("--table", required=True, help="the CSV table (header row first)")
    parser.add_argument("--key", help="passed as the function's Key parameter")
    parser.add_argument("--arg", action="append", default=[], metavar="NAME=JSON", help="another named parameter")
    parser.add_argument("--types", help="column types: name:type,... (number, text, logical, date, datetime...)")
    parser.add_argument("--out", help="the scored CSV (default: standard output)")
    options = parser.parse_args(argv)
    try:
        with open(options.pq, encoding="utf-8-sig") as f:
            text = f.read()
        columns, rows = read_csv(options.table, _parse_types(options.types))
        arguments = _parse_args(options.arg)
    except (OSError, ValueError) as ex:
        print(f"error: {ex}", file=sys.stderr)
        return 2
    try:
        out_columns, out_rows = apply(text, columns, rows, key=options.key, arguments=arguments)
    except MError as ex:
        print(f"{ex.reason}: {ex.message}", file=sys.stderr)
        return 1
    except ValueError as ex:
        print(f"error: {ex}", file=sys.stderr)
        return 2
    target = open(options.out, "w", newline="", encoding="utf-8") if options.out else sys.stdout
    try:
        writer = csv.writer(target, lineterminator="\n")
        writer.writerow(out_columns)
        writer.writerows([cell_text(v) for v in row] for row in out_rows)
    finally:
        if options.out:
            target.close()
    errors = sum(1 for row in out_rows for v in row if isinstance(v, MError))
    print(f"{len(out_rows)} rows, {len(out_columns)} columns, {errors} error cells", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
