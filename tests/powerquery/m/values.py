"""M values as Python objects.

number: int | float (never bool); text: str; logical: bool; null: None; date/datetime/datetimezone/time/duration:
`datetime` objects; binary: `MBinary`; list: `MList`; record: `MRecord`; table: `MTable`; function: `MFunction`;
type: `MType`. An error value (an error held by a table cell or a lazy field) is an `MError`, which is also the
Python exception that carries an M error while it propagates.

M is lazy: record fields, let bindings and list items may hold a `Thunk` until read; `force()` gives the value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import Any


class MError(Exception):
    """An M error: the record `[Reason, Message, Detail, Message.Format, Message.Parameters]`."""

    def __init__(
        self,
        reason: str = "Expression.Error",
        message: str | None = None,
        detail: Any = None,
        message_format: str | None = None,
        message_parameters: Any = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.detail = detail
        self.message_format = message_format
        self.message_parameters = message_parameters

    def __repr__(self) -> str:
        return f"MError({self.reason!r}, {self.message!r})"

    def __str__(self) -> str:
        return f"{self.reason}: {self.message}"

    def record(self) -> MRecord:
        return MRecord(
            {
                "Reason": self.reason,
                "Message": self.message,
                "Detail": self.detail,
                "Message.Format": self.message_format,
                "Message.Parameters": self.message_parameters,
            }
        )


def expression_error(message: str, detail: Any = None) -> MError:
    return MError("Expression.Error", message, detail)


class Thunk:
    """A value computed on first read (let bindings, record fields, list items): M evaluates lazily, so an error in
    a value nobody reads never surfaces. The result (or the error) is kept."""

    __slots__ = ("compute", "state", "value")

    def __init__(self, compute: Callable[[], Any]) -> None:
        self.compute = compute
        self.state = 0  # 0 not yet, 1 computing, 2 value, 3 error
        self.value: Any = None

    def get(self) -> Any:
        state = self.state
        if state == 2:
            return self.value
        if state == 3:
            raise self.value
        if state == 1:
            raise expression_error("A cyclic reference was encountered during evaluation.")
        self.state = 1
        try:
            value = self.compute()
            while type(value) is Thunk:
                value = value.get()
        except MError as ex:
            self.state, self.value = 3, ex
            raise
        except BaseException:
            self.state = 0
            raise
        self.state, self.value = 2, value
        self.compute = _done
        return value


def _done() -> Any:
    raise AssertionError("thunk already computed")


def force(value: Any) -> Any:
    while type(value) is Thunk:
        value = value.get()
    return value


class MBinary:
    __slots__ = ("data", "meta")

    def __init__(self, data: bytes, meta: MRecord | None = None) -> None:
        self.data = bytes(data)
        self.meta = meta

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MBinary) and other.data == self.data

    def __hash__(self) -> int:
        return hash(self.data)

    def __repr__(self) -> str:
        return f"MBinary({self.data[:40]!r}{'...' if len(self.data) > 40 else ''})"


class MList:
    """A list; items may be thunks (a list literal's items are lazy)."""

    __slots__ = ("items", "meta")

    def __init__(self, items: Iterable[Any] = (), meta: MRecord | None = None) -> None:
        self.items = items if type(items) is list else list(items)
        self.meta = meta

    def __len__(self) -> int:
        return len(self.items)

    def get(self, index: int) -> Any:
        value = self.items[index]
        if type(value) is Thunk:
            return value.get()
        if type(value) is MError:
            raise value
        return value

    def values(self) -> list[Any]:
        """Every item, forced (an item's error is raised)."""
        items = self.items
        for i, item in enumerate(items):
            if type(item) is Thunk:
                items[i] = item.get()
            elif type(item) is MError:
                raise item
        return items

    def __repr__(self) -> str:
        return f"MList({self.items!r})"


class MRecord:
    """A record: field name -> value (possibly a thunk), in order."""

    __slots__ = ("fields", "meta")

    def __init__(self, fields: dict[str, Any] | None = None, meta: MRecord | None = None) -> None:
        self.fields = fields if fields is not None else {}
        self.meta = meta

    def names(self) -> list[str]:
        return list(self.fields)

    def has(self, name: str) -> bool:
        return name in self.fields

    def get(self, name: str) -> Any:
        try:
            value = self.fields[name]
        except KeyError:
            raise expression_error(f"The field '{name}' of the record wasn't found.", self) from None
        if type(value) is Thunk:
            value = value.get()
        elif type(value) is MError:
            raise value
        return value

    def __repr__(self) -> str:
        return f"MRecord({self.fields!r})"


class MTable:
    """A table: column names and rows (Python lists of cell values, in column order). A cell may hold an `MError`
    (an error value: what a failing cell's expression gives) or a `Thunk` (a Table.AddColumn cell not read yet).
    `types` holds each column's type (None: any)."""

    __slots__ = ("columns", "rows", "types", "meta", "keys")

    def __init__(
        self,
        columns: Sequence[str],
        rows: list[list[Any]],
        types: Sequence[MType | None] | None = None,
        meta: MRecord | None = None,
    ) -> None:
        self.columns = list(columns)
        if len(set(self.columns)) != len(self.columns):
            dup = next(c for c in self.columns if self.columns.count(c) > 1)
            raise expression_error(f"The field '{dup}' already exists in the record.")
        self.rows = rows
        self.types: list[MType | None] = list(types) if types is not None else [None] * len(self.columns)
        self.meta = meta
        self.keys: Any = None

    def index(self, name: str) -> int:
        try:
            return self.columns.index(name)
        except ValueError:
            raise expression_error(f"The column '{name}' of the table wasn't found.", name) from None

    def row_record(self, row: list[Any]) -> MRecord:
        return MRecord(dict(zip(self.columns, row, strict=False)))

    def __repr__(self) -> str:
        return f"MTable({self.columns!r}, {len(self.rows)} rows)"


class MFunction:
    """A function value: `invoke(args)` with positional argument values; `ftype` is its type (Value.Type)."""

    __slots__ = ("name", "invoke", "ftype", "meta", "min_args", "max_args")

    def __init__(
        self,
        name: str,
        invoke: Callable[[list[Any]], Any],
        min_args: int,
        max_args: int | None,
        ftype: MType | None = None,
        meta: MRecord | None = None,
    ) -> None:
        self.name = name
        self.invoke = invoke
        self.min_args = min_args
        self.max_args = max_args
        self.ftype = ftype
        self.meta = meta

    def __call__(self, *args: Any) -> Any:
        return call(self, list(args))

    def __repr__(self) -> str:
        return f"MFunction({self.name})"


def call(function: Any, args: list[Any]) -> Any:
    function = force(function)
    if not isinstance(function, MFunction):
        raise expression_error(f"We cannot convert a value of type {type_name(function)} to type Function.", function)
    n = len(args)
    if n < function.min_args or (function.max_args is not None and n > function.max_args):
        most = function.max_args if function.max_args is not None else "any"
        raise expression_error(
            f"{n} arguments were passed to a function which expects between {function.min_args} and {most}.",
            MRecord({"Expression": function.name, "Arguments": n}),
        )
    return function.invoke(args)


PRIMITIVES = (
    "any anynonnull none null logical number text binary date datetime datetimezone time duration list record "
    "table function type action"
).split()


class MType:
    """A type. `kind` is a primitive name ("number", "table"...); `nullable`; for tables and records `fields` maps
    field name -> (type, optional) and `open`; for lists `item`; for functions `params` [(name, type, optional)] and
    `ret`; `facet` names an Int64.Type-like facet."""

    __slots__ = ("kind", "nullable", "fields", "open", "item", "params", "ret", "facet", "meta")

    def __init__(
        self,
        kind: str,
        nullable: bool = False,
        *,
        fields: dict[str, tuple[MType, bool]] | None = None,
        open: bool = False,
        item: MType | None = None,
        params: list[tuple[str, MType, bool]] | None = None,
        ret: MType | None = None,
        facet: str | None = None,
        meta: MRecord | None = None,
    ) -> None:
        self.kind = kind
        self.nullable = nullable or kind in ("any", "null")
        self.fields = fields
        self.open = open
        self.item = item
        self.params = params
        self.ret = ret
        self.facet = facet
        self.meta = meta

    def copy(self, **changes: Any) -> MType:
        new = MType.__new__(MType)
        for slot in MType.__slots__:
            setattr(new, slot, changes.get(slot, getattr(self, slot)))
        return new

    def __repr__(self) -> str:
        return f"MType({'nullable ' if self.nullable and self.kind not in ('any', 'null') else ''}{self.kind})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, MType)
            and other.kind == self.kind
            and other.nullable == self.nullable
            and other.fields == self.fields
            and other.item == self.item
        )

    def __hash__(self) -> int:
        return hash((self.kind, self.nullable))


def primitive(kind: str, nullable: bool = False) -> MType:
    return MType(kind, nullable)


#: Primitive type names as M's messages write them ("Number", "Text"...).
TYPE_TITLES = {
    "any": "Any",
    "anynonnull": "AnyNonNull",
    "none": "None",
    "null": "Null",
    "logical": "Logical",
    "number": "Number",
    "text": "Text",
    "binary": "Binary",
    "date": "Date",
    "datetime": "DateTime",
    "datetimezone": "DateTimeZone",
    "time": "Time",
    "duration": "Duration",
    "list": "List",
    "record": "Record",
    "table": "Table",
    "function": "Function",
    "type": "Type",
    "action": "Action",
}


def type_name(value: Any) -> str:
    """The M name of a value's primitive type, capitalised as M's messages write it ("Number", "Text"...)."""
    return TYPE_TITLES[kind_of(value)]


def kind_of(value: Any) -> str:
    """The primitive type name of a (forced) value."""
    t = type(value)
    if value is None:
        return "null"
    if t is bool:
        return "logical"
    if t is int or t is float:
        return "number"
    if t is str:
        return "text"
    if t is MRecord:
        return "record"
    if t is MList:
        return "list"
    if t is MTable:
        return "table"
    if t is MFunction:
        return "function"
    if t is MBinary:
        return "binary"
    if t is MType:
        return "type"
    if t is dt.datetime:
        return "datetimezone" if value.tzinfo is not None else "datetime"
    if t is dt.date:
        return "date"
    if t is dt.timedelta:
        return "duration"
    if t is dt.time:
        return "time"
    if isinstance(value, bool):
        return "logical"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "text"
    raise TypeError(f"not an M value: {value!r}")
