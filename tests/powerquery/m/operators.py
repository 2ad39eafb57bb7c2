"""M's operators (specification, "Operator behavior"): equality, comparison, arithmetic with null propagation,
`&` combination, type conformance and conversion, and how values show in messages."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from .values import (
    TYPE_TITLES,
    MBinary,
    MError,
    MFunction,
    MList,
    MRecord,
    MTable,
    MType,
    Thunk,
    expression_error,
    force,
    kind_of,
    type_name,
)

NUMBER_TYPES = (int, float)


def is_number(value: Any) -> bool:
    t = type(value)
    return t is int or t is float


def format_number(value: int | float) -> str:
    """A number as Text.From writes it (culture invariant): 3, 0.5, 1E+20, NaN, Infinity."""
    if type(value) is int:
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        mantissa = mantissa.removesuffix(".0")
        sign = "-" if exponent.startswith("-") else "+"
        return f"{mantissa}E{sign}{exponent.lstrip('+-').zfill(2)}"
    return text


def show(value: Any) -> str:
    """A value as M's error messages show it."""
    value = force(value)
    kind = kind_of(value)
    if kind == "null":
        return "null"
    if kind == "text":
        return value
    if kind == "number":
        return format_number(value)
    if kind == "logical":
        return "true" if value else "false"
    if kind in ("date", "datetime", "datetimezone", "time", "duration"):
        from .library.datetimes import to_text

        return to_text(value)
    return f"[{type_name(value)}]"


def number_from(value: Any) -> Any:
    return value


def equals(a: Any, b: Any) -> bool:
    a, b = force(a), force(b)
    if a is None or b is None:
        return a is None and b is None
    ta, tb = type(a), type(b)
    if ta is bool or tb is bool:
        return ta is tb and a == b
    if (ta is int or ta is float) and (tb is int or tb is float):
        return bool(a == b)
    if ta is str or tb is str:
        return ta is tb and a == b
    ka, kb = kind_of(a), kind_of(b)
    if ka != kb:
        return False
    if ka == "record":
        if set(a.fields) != set(b.fields):
            return False
        return all(equals(a.get(n), b.get(n)) for n in a.fields)
    if ka == "list":
        if len(a) != len(b):
            return False
        return all(equals(x, y) for x, y in zip(a.values(), b.values(), strict=False))
    if ka == "table":
        if a.columns != b.columns or len(a.rows) != len(b.rows):
            return False
        return all(
            equals_cell(x, y) for ra, rb in zip(a.rows, b.rows, strict=False) for x, y in zip(ra, rb, strict=False)
        )
    if ka in ("function", "type"):
        return a is b or (ka == "type" and a == b)
    return bool(a == b)


def equals_cell(a: Any, b: Any) -> bool:
    if isinstance(a, MError) or isinstance(b, MError):
        raise a if isinstance(a, MError) else b
    return equals(a, b)


_ORDERED = ("number", "text", "logical", "date", "datetime", "datetimezone", "time", "duration")


def compare(op: str, a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    ka, kb = kind_of(a), kind_of(b)
    if ka != kb or ka not in _ORDERED:
        raise cannot_apply(op, a, b)
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    return a >= b


def cannot_apply(op: str, a: Any, b: Any | None = None) -> MError:
    if b is None and op in ("not", "unary -", "unary +"):
        return expression_error(f"We cannot apply operator {op} to type {type_name(a)}.")
    return expression_error(
        f"We cannot apply operator {op} to types {type_name(a)} and {type_name(b)}.",
        MRecord({"Operator": op, "Left": a, "Right": b}),
    )


def arith(op: str, a: Any, b: Any) -> Any:
    if a is None or b is None:
        if a is None and b is None or kind_of(a if b is None else b) in _ORDERED:
            return None
        raise cannot_apply(op, a, b)
    ta, tb = type(a), type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if b == 0:
            return math.nan if a == 0 or a != a else math.copysign(math.inf, a) * math.copysign(1, b)
        q = a / b
        return int(q) if ta is int and tb is int and q.is_integer() and abs(q) < 2**53 else q
    ka, kb = kind_of(a), kind_of(b)
    if op in "+-" and ka in ("date", "datetime", "datetimezone") and kb == "duration":
        result = a + b if op == "+" else a - b
        if ka == "date":  # a date plus a duration stays a date (whole days)
            return result if type(result) is dt.date else result
        return result
    if op == "+" and ka == "duration" and kb in ("date", "datetime", "datetimezone"):
        return b + a
    if op in "+-" and ka == kb == "duration":
        return a + b if op == "+" else a - b
    if op == "-" and ka == kb and ka in ("date", "datetime", "datetimezone"):
        return a - b
    if op in "*/" and ka == "duration" and kb == "number":
        return a * b if op == "*" else a / b
    if op == "*" and ka == "number" and kb == "duration":
        return b * a
    raise cannot_apply(op, a, b)


def combine(a: Any, b: Any) -> Any:
    """`&`: text, lists, records (right fields win), tables, date & time."""
    if a is None or b is None:
        other = b if a is None else a
        if other is None or kind_of(other) in ("text",):
            return None
        raise cannot_apply("&", a, b)
    ta, tb = type(a), type(b)
    if ta is str and tb is str:
        return a + b
    if ta is MList and tb is MList:
        return MList(a.items + b.items)
    if ta is MRecord and tb is MRecord:
        fields = dict(a.fields)
        fields.update(b.fields)
        return MRecord(fields)
    if ta is MTable and tb is MTable:
        from .library.table import combine_tables

        return combine_tables([a, b])
    if ta is dt.date and tb is dt.time:
        return dt.datetime.combine(a, b)
    raise cannot_apply("&", a, b)


def conforms(value: Any, t: MType) -> bool:
    """`value is t` for a (nullable) primitive type."""
    kind = t.kind
    if kind == "any":
        return True
    if value is None:
        return t.nullable or kind == "null"
    if kind == "anynonnull":
        return True
    if kind == "none":
        return False
    return kind_of(value) == kind


def assert_type(value: Any, t: MType | None) -> Any:
    """`value as t`: the value when it conforms, else Expression.Error."""
    if t is None or conforms(value, t):
        return value
    raise expression_error(
        f"We cannot convert the value {show_quoted(value)} to type {type_title(t)}.",
        MRecord({"Value": value, "Type": t}),
    )


def show_quoted(value: Any) -> str:
    return f'"{value}"' if type(value) is str else show(value)


def type_title(t: MType) -> str:
    return TYPE_TITLES[t.kind]


def logical(value: Any) -> bool:
    """A condition (`if`): must be a logical."""
    if type(value) is bool:
        return value
    raise expression_error(
        f"We cannot convert the value {show_quoted(value)} to type Logical.", MRecord({"Value": value})
    )


def value_type(value: Any) -> MType:
    """Value.Type: the value's type (a table's columns keep their types; a function its declared type)."""
    value = force(value)
    t = type(value)
    if t is MTable:
        fields = {c: (ct or MType("any"), False) for c, ct in zip(value.columns, value.types, strict=False)}
        return MType("table", fields=fields, meta=value.meta)
    if t is MFunction:
        if value.ftype is not None:
            return value.ftype
        params = [(f"x{i}", MType("any"), i >= value.min_args) for i in range(value.max_args or value.min_args)]
        return MType("function", params=params, ret=MType("any"))
    if t is MRecord:
        return MType("record", fields={n: (MType("any"), False) for n in value.fields})
    if t is MList:
        return MType("list", item=MType("any"))
    return MType(kind_of(value))


__all__ = [
    "NUMBER_TYPES",
    "MBinary",
    "Thunk",
    "arith",
    "assert_type",
    "combine",
    "compare",
    "conforms",
    "equals",
    "format_number",
    "logical",
    "show",
    "value_type",
]
