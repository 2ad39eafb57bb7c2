"""Record.* functions. Fields keep their laziness: an unread field's error never surfaces."""

from __future__ import annotations

from typing import Any

from ..values import MList, MRecord, MTable, MType, Thunk, call, expression_error
from . import fn, need
from .table import MISSING_ERROR, MISSING_USE_NULL, texts


def rec(value: Any) -> MRecord:
    return need(value, "record")  # type: ignore[no-any-return]


@fn("Record.AddField", 3, 4)
def add_field(r: Any, name: Any, value: Any, delayed: Any = None) -> MRecord:
    r = rec(r)
    name = need(name, "text")
    if name in r.fields:
        raise expression_error(f"The field '{name}' already exists in the record.", r)
    if delayed is True:  # value is a function computing the field when read
        f = value
        value = Thunk(lambda: call(f, []))
    return MRecord({**r.fields, name: value})


@fn("Record.Combine", 1)
def combine(records: Any) -> MRecord:
    fields: dict[str, Any] = {}
    for r in need(records, "list").values():
        fields.update(rec(r).fields)
    return MRecord(fields)


@fn("Record.Field", 2)
def field(r: Any, name: Any) -> Any:
    return rec(r).get(need(name, "text"))


@fn("Record.FieldCount", 1)
def field_count(r: Any) -> int:
    return len(rec(r).fields)


@fn("Record.FieldNames", 1)
def field_names(r: Any) -> MList:
    return MList(list(rec(r).fields))


@fn("Record.FieldOrDefault", 2, 3)
def field_or_default(r: Any, name: Any, default: Any = None) -> Any:
    if r is None:
        return default
    r = rec(r)
    return r.get(name) if name in r.fields else default


@fn("Record.FieldValues", 1)
def field_values(r: Any) -> MList:
    return MList(list(rec(r).fields.values()))


@fn("Record.HasFields", 2)
def has_fields(r: Any, names: Any) -> bool:
    r = rec(r)
    return all(n in r.fields for n in texts(names))


@fn("Record.ToTable", 1)
def to_table(r: Any) -> MTable:
    r = rec(r)
    return MTable(["Name", "Value"], [[n, r.fields[n]] for n in r.fields])


@fn("Record.FromList", 2)
def from_list(values: Any, fields: Any) -> MRecord:
    items = need(values, "list").items
    names = list((fields.fields or {}).keys()) if type(fields) is MType else texts(fields)
    if len(names) != len(items):
        raise expression_error(
            f"{len(names)} keys were specified, but {len(items)} values were provided.", MList(list(items))
        )
    if len(set(names)) != len(names):
        raise expression_error("The field names must be unique.")
    return MRecord(dict(zip(names, items, strict=False)))


@fn("Record.FromTable", 1)
def from_table(t: Any) -> MRecord:
    t = need(t, "table")
    i, j = t.index("Name"), t.index("Value")
    return MRecord({row[i]: row[j] for row in t.rows})


def _check(r: MRecord, names: list[str], missing: Any) -> list[str]:
    absent = [n for n in names if n not in r.fields]
    if absent and (missing is None or missing == MISSING_ERROR):
        raise expression_error(f"The field '{absent[0]}' of the record wasn't found.", r)
    return absent


@fn("Record.RemoveFields", 2, 3)
def remove_fields(r: Any, names: Any, missing: Any = None) -> MRecord:
    r = rec(r)
    drop = texts(names)
    _check(r, drop, missing)
    return MRecord({n: v for n, v in r.fields.items() if n not in drop})


@fn("Record.SelectFields", 2, 3)
def select_fields(r: Any, names: Any, missing: Any = None) -> MRecord:
    r = rec(r)
    keep = texts(names)
    _check(r, keep, missing)
    out = {}
    for n in keep:
        if n in r.fields:
            out[n] = r.fields[n]
        elif missing == MISSING_USE_NULL:
            out[n] = None
    return MRecord(out)


@fn("Record.RenameFields", 2, 3)
def rename_fields(r: Any, renames: Any, missing: Any = None) -> MRecord:
    r = rec(r)
    pairs = need(renames, "list").values()
    if pairs and type(pairs[0]) is str:
        pairs = [MList(pairs)]
    mapping = {need(p, "list").get(0): need(p, "list").get(1) for p in pairs}
    _check(r, list(mapping), missing)
    return MRecord({mapping.get(n, n): v for n, v in r.fields.items()})


@fn("Record.TransformFields", 2, 3)
def transform_fields(r: Any, operations: Any, missing: Any = None) -> MRecord:
    r = rec(r)
    ops = need(operations, "list").values()
    if ops and type(ops[0]) is str:
        ops = [MList(ops)]
    fields = dict(r.fields)
    for op in ops:
        name, f = need(op, "list").values()[:2]
        if name not in fields:
            _check(r, [name], missing)
            if missing == MISSING_USE_NULL:
                fields[name] = call(f, [None])
            continue
        old = fields[name]
        fields[name] = Thunk(lambda f=f, old=old: call(f, [old.get() if type(old) is Thunk else old]))
    return MRecord(fields)
