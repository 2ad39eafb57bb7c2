"""Value.*, Type.*, metadata, type conversion (Table.TransformColumnTypes) and Function.InvokeAfter."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from ..operators import assert_type, conforms, equals, show_quoted, type_title, value_type
from ..values import MBinary, MError, MFunction, MList, MRecord, MTable, MType, call, expression_error, kind_of
from . import fn, need


def meta_of(value: Any) -> MRecord:
    meta = getattr(value, "meta", None)
    return meta if meta is not None else MRecord({})


def with_meta(value: Any, meta: MRecord) -> Any:
    """The value with this metadata record. Numbers, text, logicals and null cannot carry metadata here (a known
    gap): the value is returned as it is."""
    t = type(value)
    if t is MBinary:
        return MBinary(value.data, meta)
    if t is MList:
        return MList(value.items, meta)
    if t is MRecord:
        return MRecord(value.fields, meta)
    if t is MTable:
        return MTable(value.columns, value.rows, value.types, meta)
    if t is MType:
        return value.copy(meta=meta)
    if t is MFunction:
        return MFunction(value.name, value.invoke, value.min_args, value.max_args, value.ftype, meta)
    return value


def add_meta(value: Any, meta: Any) -> Any:
    """`value meta record`: the record's fields over the value's metadata."""
    meta = need(meta, "record")
    return with_meta(value, MRecord({**meta_of(value).fields, **meta.fields}))


@fn("Value.Metadata", 1)
def metadata(value: Any) -> MRecord:
    return meta_of(value)


@fn("Value.ReplaceMetadata", 2)
def replace_metadata(value: Any, meta: Any) -> Any:
    return with_meta(value, need(meta, "record"))


@fn("Value.RemoveMetadata", 1, 2)
def remove_metadata(value: Any, names: Any = None) -> Any:
    return with_meta(value, MRecord({}))


@fn("Value.Type", 1)
def type_of(value: Any) -> MType:
    return value_type(value)


@fn("Value.Is", 2)
def is_(value: Any, t: Any) -> bool:
    return conforms(value, need(t, "type"))


@fn("Value.As", 2)
def as_(value: Any, t: Any) -> Any:
    return assert_type(value, need(t, "type"))


@fn("Value.Equals", 2, 3)
def value_equals(a: Any, b: Any, precision: Any = None) -> bool:
    return equals(a, b)


@fn("Value.ReplaceType", 2)
def replace_type(value: Any, t: Any) -> Any:
    """Docs: the value with its type replaced (the value is not converted). A function takes a function type whose
    parameters match it; a table takes a table type with as many columns (their names and types replace the
    table's)."""
    t = need(t, "type")
    kind = kind_of(value)
    if t.kind not in (kind, "any"):
        raise expression_error(f"We cannot convert a value of type {kind.title()} to the type {type_title(t)}.")
    if kind == "function":
        params = t.params or []
        if len(params) != (value.max_args or 0) or sum(1 for _, _, o in params if not o) != value.min_args:
            raise expression_error("The function type does not match the function's parameters.", t)
        return MFunction(value.name, value.invoke, value.min_args, value.max_args, t, t.meta or value.meta)
    if kind == "table":
        fields = t.fields or {}
        if len(fields) != len(value.columns):
            raise expression_error("The table type has a different number of columns than the table.", t)
        return MTable(list(fields), value.rows, [ft for ft, _ in fields.values()], value.meta)
    return value


@fn("Function.InvokeAfter", 2)
def invoke_after(function: Any, delay: Any) -> Any:
    """Docs: invokes the function after the delay (a duration) has passed: this waits for real."""
    seconds = need(delay, "duration").total_seconds()
    if seconds > 0:
        time.sleep(seconds)
    return call(function, [])


@fn("Function.Invoke", 2)
def invoke(function: Any, args: Any) -> Any:
    return call(function, list(need(args, "list").values()))


@fn("Type.Is", 2)
def type_is(a: Any, b: Any) -> bool:
    a, b = need(a, "type"), need(b, "type")
    if b.kind == "any":
        return True
    if a.nullable and not b.nullable:
        return False
    return a.kind == b.kind or (a.kind == "null" and b.nullable)


@fn("Type.IsNullable", 1)
def is_nullable(t: Any) -> bool:
    return bool(need(t, "type").nullable)


@fn("Type.NonNullable", 1)
def non_nullable(t: Any) -> MType:
    return need(t, "type").copy(nullable=False)


@fn("Type.TableRow", 1)
def table_row(t: Any) -> MType:
    return MType("record", fields=dict(need(t, "type").fields or {}))


@fn("Type.RecordFields", 1)
def record_fields(t: Any) -> MRecord:
    fields = need(t, "type").fields or {}
    return MRecord({n: MRecord({"Type": ft, "Optional": o}) for n, (ft, o) in fields.items()})


@fn("Type.FunctionParameters", 1)
def function_parameters(t: Any) -> MRecord:
    return MRecord({n: pt for n, pt, _ in need(t, "type").params or []})


@fn("Type.FunctionRequiredParameters", 1)
def function_required_parameters(t: Any) -> int:
    return sum(1 for _, _, o in need(t, "type").params or [] if not o)


@fn("Type.FunctionReturn", 1)
def function_return(t: Any) -> MType:
    return need(t, "type").ret or MType("any")


@fn("Type.ListItem", 1)
def list_item(t: Any) -> MType:
    return need(t, "type").item or MType("any")


@fn("Type.ForRecord", 2)
def for_record(fields: Any, open_: Any) -> MType:
    fields = need(fields, "record")
    spec = {n: (need(fields.get(n), "record").get("Type"), bool(fields.get(n).get("Optional"))) for n in fields.fields}
    return MType("record", fields=spec, open=bool(open_))


def convert_to(value: Any, t: MType, culture: Any = None) -> Any:
    """A value converted to a primitive type, as Table.TransformColumnTypes does (an Int64.Type column rounds)."""
    if value is None or t.kind == "any":
        return value
    from . import LIBRARY

    kind = t.kind
    if kind == "number":
        number = call(LIBRARY["Number.From"], [value])
        if t.facet in ("Int64", "Int32", "Int16", "Int8") and number is not None:
            number = call(LIBRARY["Number.Round"], [number])
        return number
    if kind == "text":
        return call(LIBRARY["Text.From"], [value])
    if kind == "logical":
        return call(LIBRARY["Logical.From"], [value])
    names = {"date": "Date.From", "datetime": "DateTime.From", "datetimezone": "DateTimeZone.From"}
    if kind in names:
        return call(LIBRARY[names[kind]], [value])
    if kind == "duration":
        return call(LIBRARY["Duration.From"], [value])
    if kind_of(value) == kind:
        return value
    raise expression_error(f"We cannot convert the value {show_quoted(value)} to type {type_title(t)}.", value)


__all__ = ["MError", "dt"]
