"""Table.* functions. A table is `MTable(columns, rows)`; rows are Python lists. A cell may hold an `MError`
(an error value): functions that compute cells (AddColumn, TransformColumns, TransformColumnTypes,
ExpandRecordColumn) keep a failing cell's error in that cell, as Power Query does, instead of failing the table."""

from __future__ import annotations

from typing import Any

from ..operators import equals
from ..values import MError, MFunction, MList, MRecord, MTable, MType, Thunk, call, expression_error, force
from . import LIBRARY, fn, need

MISSING_ERROR, MISSING_IGNORE, MISSING_USE_NULL = 0, 1, 2
LIBRARY.update({"MissingField.Error": 0, "MissingField.Ignore": 1, "MissingField.UseNull": 2})
JOIN_KINDS = {"Inner": 0, "LeftOuter": 1, "RightOuter": 2, "FullOuter": 3, "LeftAnti": 4, "RightAnti": 5}
LIBRARY.update({f"JoinKind.{k}": v for k, v in JOIN_KINDS.items()})


def table(value: Any) -> MTable:
    return need(value, "table")  # type: ignore[no-any-return]


def texts(value: Any) -> list[str]:
    """A column name or a list of them."""
    if type(value) is str:
        return [value]
    return [need(v, "text") for v in need(value, "list").values()]


def settled(cell: Any) -> Any:
    """A cell's value, computing it if it is still lazy; a failing cell gives its error (an `MError`)."""
    if type(cell) is Thunk:
        try:
            return cell.get()
        except MError as ex:
            return ex
    return cell


def cell_value(cell: Any) -> Any:
    if type(cell) is MError:
        raise cell
    return force(cell)


def computed(f: Any, args: list[Any]) -> Any:
    """A computed cell: the value, or the error itself (kept in the cell)."""
    try:
        return force(call(f, args))
    except MError as ex:
        return ex


def _missing(t: MTable, names: list[str], missing: Any) -> list[str]:
    absent = [c for c in names if c not in t.columns]
    if absent and (missing is None or missing == MISSING_ERROR):
        raise expression_error(f"The column '{absent[0]}' of the table wasn't found.", absent[0])
    return absent


def select_columns(t: MTable, names: list[str], missing: Any = None) -> MTable:
    absent = _missing(t, names, missing)
    idx = []
    cols = []
    for c in names:
        if c in absent:
            if missing == MISSING_USE_NULL:
                idx.append(-1)
                cols.append(c)
            continue
        idx.append(t.columns.index(c))
        cols.append(c)
    types = [t.types[i] if i >= 0 else None for i in idx]
    rows = [[row[i] if i >= 0 else None for i in idx] for row in t.rows]
    return MTable(cols, rows, types)


def find_rows(t: MTable, key: MRecord) -> list[list[Any]]:
    idx = [(t.index(name), key.get(name)) for name in key.fields]
    return [row for row in t.rows if all(equals(cell_value(row[i]), v) for i, v in idx)]


def combine_tables(tables: list[MTable], columns: list[str] | None = None) -> MTable:
    if columns is None:
        columns = []
        for t in tables:
            columns.extend(c for c in t.columns if c not in columns)
    rows: list[list[Any]] = []
    types: list[MType | None] = [None] * len(columns)
    for t in tables:
        pos = [t.columns.index(c) if c in t.columns else -1 for c in columns]
        rows.extend([row[i] if i >= 0 else None for i in pos] for row in t.rows)
    return MTable(columns, rows, types)


@fn("Table.Buffer", 1, 2)
def buffer(t: Any, options: Any = None) -> MTable:
    """Buffers the table in memory: every cell computed once, in a copy isolated from its source (a failing cell
    keeps its error)."""
    t = table(t)
    return MTable(t.columns, [[settled(c) for c in r] for r in t.rows], t.types)


@fn("Table.Split", 2)
def split(t: Any, page_size: Any) -> MList:
    t = table(t)
    size = need(page_size, "number")
    if size < 1 or size != int(size):
        raise expression_error("The pageSize must be a whole number, 1 or more.", page_size)
    size = int(size)
    return MList([MTable(t.columns, t.rows[i : i + size], t.types) for i in range(0, len(t.rows), size)])


@fn("Table.AddIndexColumn", 2, 5)
def add_index_column(t: Any, name: Any, initial: Any = None, increment: Any = None, column_type: Any = None) -> MTable:
    t = table(t)
    name = need(name, "text")
    if name in t.columns:
        raise expression_error(f"The field '{name}' already exists in the record.")
    start = 0 if initial is None else need(initial, "number")
    step = 1 if increment is None else need(increment, "number")
    rows = [[*row, start + i * step] for i, row in enumerate(t.rows)]
    return MTable([*t.columns, name], rows, [*t.types, column_type or MType("number")])


@fn("Table.AddColumn", 3, 4)
def add_column(t: Any, name: Any, generator: Any, column_type: Any = None) -> MTable:
    t = table(t)
    name = need(name, "text")
    if name in t.columns:
        raise expression_error(f"The field '{name}' already exists in the record.")
    columns = t.columns

    def cell(row: list[Any]) -> Thunk:
        # Lazy, as in Power Query: a cell is computed when read (Table.RowCount or removing the column reads none).
        return Thunk(lambda: call(generator, [MRecord(dict(zip(columns, row, strict=False)))]))

    rows = [[*row, cell(row)] for row in t.rows]
    return MTable([*columns, name], rows, [*t.types, column_type])


@fn("Table.ColumnNames", 1)
def column_names(t: Any) -> MList:
    return MList(list(table(t).columns))


@fn("Table.Column", 2)
def column(t: Any, name: Any) -> MList:
    t = table(t)
    i = t.index(need(name, "text"))
    return MList([row[i] for row in t.rows])


@fn("Table.ExpandRecordColumn", 3, 4)
def expand_record_column(t: Any, name: Any, field_names: Any, new_names: Any = None) -> MTable:
    t = table(t)
    i = t.index(need(name, "text"))
    fields = texts(field_names)
    new = texts(new_names) if new_names is not None else fields
    if len(new) != len(fields):
        raise expression_error("The number of new column names must match the number of field names.")
    columns = [*t.columns[:i], *new, *t.columns[i + 1 :]]
    rows = []
    for row in t.rows:
        cell = settled(row[i])
        if type(cell) is MError:
            cells: list[Any] = [cell] * len(fields)
        else:
            try:
                value = force(cell)
            except MError as ex:
                value = ex
            if value is None:
                cells = [None] * len(fields)
            elif type(value) is MRecord:
                cells = []
                for f in fields:
                    raw = value.fields.get(f)
                    if type(raw) is Thunk:
                        try:
                            raw = raw.get()
                        except MError as ex:
                            raw = ex
                    cells.append(raw)
            else:
                error = (
                    value
                    if type(value) is MError
                    else expression_error("We cannot convert a value to type Record.", value)
                )
                cells = [error] * len(fields)
        rows.append([*row[:i], *cells, *row[i + 1 :]])
    return MTable(columns, rows, [*t.types[:i], *([None] * len(new)), *t.types[i + 1 :]])


@fn("Table.FromRecords", 1, 3)
def from_records(records: Any, columns: Any = None, missing: Any = None) -> MTable:
    items = need(records, "list").values()
    if columns is None:
        names = list(need(items[0], "record").fields) if items else []
        types: list[MType | None] = [None] * len(names)
    elif type(columns) is MType:
        names = list((columns.fields or {}).keys())
        types = [ft for ft, _ in (columns.fields or {}).values()]
    else:
        names = texts(columns)
        types = [None] * len(names)
    rows = []
    for r in items:
        r = need(r, "record")
        if missing is None or missing == MISSING_ERROR:
            extra = [f for f in r.fields if f not in names]
            absent = [f for f in names if f not in r.fields]
            if absent:
                raise expression_error(f"The field '{absent[0]}' of the record wasn't found.", r)
            if extra and columns is not None:
                raise expression_error(f"The record has the field '{extra[0]}' that the table has no column for.")
            if extra:
                raise expression_error(f"The field '{extra[0]}' of the record wasn't found in the first record.")
        rows.append([_raw(r, f) for f in names])
    return MTable(names, rows, types)


def _raw(r: MRecord, name: str) -> Any:
    """A record field as a cell: its value, or its error kept as the cell's error."""
    raw = r.fields.get(name)
    if type(raw) is Thunk:
        try:
            return raw.get()
        except MError as ex:
            return ex
    return raw


def _names_and_types(columns: Any, count: int) -> tuple[list[str], list[MType | None]]:
    if columns is None:
        return [f"Column{i + 1}" for i in range(count)], [None] * count
    if type(columns) is MType:
        fields = columns.fields or {}
        return list(fields), [ft for ft, _ in fields.values()]
    if isinstance(columns, (int, float)) and type(columns) is not bool:
        return [f"Column{i + 1}" for i in range(int(columns))], [None] * int(columns)
    names = texts(columns)
    return names, [None] * len(names)


@fn("Table.FromColumns", 1, 2)
def from_columns(lists: Any, columns: Any = None) -> MTable:
    cols = [need(c, "list").values() for c in need(lists, "list").values()]
    names, types = _names_and_types(columns, len(cols))
    if len(names) < len(cols):
        raise expression_error("The number of columns is more than the number of column names given.")
    height = max((len(c) for c in cols), default=0)
    rows = [[c[i] if i < len(c) else None for c in cols] + [None] * (len(names) - len(cols)) for i in range(height)]
    return MTable(names, rows, types)


@fn("Table.FromRows", 1, 2)
def from_rows(rows: Any, columns: Any = None) -> MTable:
    items = [need(r, "list").values() for r in need(rows, "list").values()]
    width = len(items[0]) if items else 0
    names, types = _names_and_types(columns, width)
    for r in items:
        if len(r) != len(names):
            raise expression_error(
                f"{len(r)} keys were specified, but {len(names)} values were provided.", MList(list(r))
            )
    return MTable(names, [list(r) for r in items], types)


@fn("Table.ToRecords", 1)
def to_records(t: Any) -> MList:
    t = table(t)
    cols = t.columns
    return MList([MRecord(dict(zip(cols, row, strict=False))) for row in t.rows])


@fn("Table.ToRows", 1)
def to_rows(t: Any) -> MList:
    return MList([MList(list(row)) for row in table(t).rows])


@fn("Table.RowCount", 1)
def row_count(t: Any) -> int:
    return len(table(t).rows)


@fn("Table.ColumnCount", 1)
def column_count(t: Any) -> int:
    return len(table(t).columns)


@fn("Table.IsEmpty", 1)
def is_empty(t: Any) -> bool:
    return not table(t).rows


@fn("Table.RemoveColumns", 2, 3)
def remove_columns(t: Any, columns: Any, missing: Any = None) -> MTable:
    t = table(t)
    names = texts(columns)
    _missing(t, names, missing)
    keep = [c for c in t.columns if c not in names]
    return select_columns(t, keep)


@fn("Table.SelectColumns", 2, 3)
def select_columns_fn(t: Any, columns: Any, missing: Any = None) -> MTable:
    return select_columns(table(t), texts(columns), missing)


@fn("Table.RenameColumns", 2, 3)
def rename_columns(t: Any, renames: Any, missing: Any = None) -> MTable:
    t = table(t)
    pairs = need(renames, "list").values()
    if pairs and type(force(pairs[0])) is str:
        pairs = [MList(list(pairs))]
    mapping = {}
    for p in pairs:
        old, new = (need(v, "text") for v in need(p, "list").values())
        mapping[old] = new
    _missing(t, list(mapping), missing)
    columns = [mapping.get(c, c) for c in t.columns]
    if missing == MISSING_USE_NULL:
        absent = [(o, n) for o, n in mapping.items() if o not in t.columns]
        return MTable(
            columns + [n for _, n in absent],
            [[*r, *([None] * len(absent))] for r in t.rows],
            t.types + [None] * len(absent),
        )
    return MTable(columns, t.rows, t.types)


def _pairs(spec: Any) -> list[list[Any]]:
    """`{col, x}` or `{{col, x}, ...}` as a list of lists."""
    items = need(spec, "list").values()
    if items and type(force(items[0])) is str:
        return [list(items)]
    return [need(p, "list").values() for p in items]


@fn("Table.TransformColumnTypes", 2, 3)
def transform_column_types(t: Any, transforms: Any, culture: Any = None) -> MTable:
    from .values_lib import convert_to

    t = table(t)
    rows = [list(r) for r in t.rows]
    types = list(t.types)
    for name, ctype in _pairs(transforms):
        i = t.index(name)
        ctype = need(ctype, "type")
        for r in rows:
            cell = r[i] = settled(r[i])
            if type(cell) is not MError:
                try:
                    r[i] = convert_to(force(cell), ctype, culture)
                except MError as ex:
                    r[i] = ex
        types[i] = ctype
    return MTable(t.columns, rows, types)


@fn("Table.TransformColumns", 2, 4)
def transform_columns(t: Any, operations: Any, default: Any = None, missing: Any = None) -> MTable:
    t = table(t)
    rows = [list(r) for r in t.rows]
    types = list(t.types)
    done = set()
    for op in _pairs(operations):
        name, f = op[0], op[1]
        if name not in t.columns:
            _missing(t, [name], missing)
            continue
        i = t.index(name)
        done.add(i)
        for r in rows:
            r[i] = settled(r[i])
            if type(r[i]) is not MError:
                r[i] = computed(f, [r[i]])
        if len(op) > 2:
            types[i] = op[2]
    if default is not None:
        for i in range(len(t.columns)):
            if i not in done:
                for r in rows:
                    r[i] = settled(r[i])
                    if type(r[i]) is not MError:
                        r[i] = computed(default, [r[i]])
    return MTable(t.columns, rows, types)


@fn("Table.Combine", 1, 2)
def combine(tables: Any, columns: Any = None) -> MTable:
    return combine_tables([table(x) for x in need(tables, "list").values()], texts(columns) if columns else None)


def _count_or_condition(t: MTable, count: Any) -> int:
    """How many leading rows a count or a condition (`each ...`) covers."""
    if type(count) is MFunction:
        n = 0
        for row in t.rows:
            if call(count, [t.row_record(row)]) is not True:
                break
            n += 1
        return n
    count = need(count, "number")
    if count < 0:
        raise expression_error("The count must be 0 or more.", count)
    return int(count)


@fn("Table.Range", 2, 3)
def range_(t: Any, offset: Any, count: Any = None) -> MTable:
    t = table(t)
    start = int(need(offset, "number"))
    end = None if count is None else start + int(need(count, "number"))
    return MTable(t.columns, t.rows[start:end], t.types)


@fn("Table.FirstN", 2)
def first_n(t: Any, count: Any) -> MTable:
    t = table(t)
    return MTable(t.columns, t.rows[: _count_or_condition(t, count)], t.types)


@fn("Table.Skip", 1, 2)
def skip(t: Any, count: Any = None) -> MTable:
    t = table(t)
    return MTable(t.columns, t.rows[_count_or_condition(t, 1 if count is None else count) :], t.types)


@fn("Table.First", 1, 2)
def first(t: Any, default: Any = None) -> Any:
    t = table(t)
    return t.row_record(t.rows[0]) if t.rows else default


@fn("Table.SelectRows", 2)
def select_rows(t: Any, condition: Any) -> MTable:
    t = table(t)
    columns = t.columns
    out = []
    for row in t.rows:
        keep = call(condition, [MRecord(dict(zip(columns, row, strict=False)))])
        if type(keep) is not bool:
            raise expression_error("We cannot convert the value to type Logical.", keep)
        if keep:
            out.append(row)
    return MTable(columns, out, t.types)


def _error_columns(t: MTable, columns: Any) -> list[int]:
    if columns is None:
        return list(range(len(t.columns)))
    return [t.index(c) for c in texts(columns)]


@fn("Table.ReplaceErrorValues", 2)
def replace_error_values(t: Any, replacements: Any) -> MTable:
    t = table(t)
    rows = [list(r) for r in t.rows]
    for name, value in _pairs(replacements):
        i = t.index(name)
        for r in rows:
            if type(settled(r[i])) is MError:
                r[i] = value
    return MTable(t.columns, rows, t.types)


@fn("Table.RemoveRowsWithErrors", 1, 2)
def remove_rows_with_errors(t: Any, columns: Any = None) -> MTable:
    t = table(t)
    idx = _error_columns(t, columns)
    return MTable(t.columns, [r for r in t.rows if not any(type(settled(r[i])) is MError for i in idx)], t.types)


@fn("Table.SelectRowsWithErrors", 1, 2)
def select_rows_with_errors(t: Any, columns: Any = None) -> MTable:
    t = table(t)
    idx = _error_columns(t, columns)
    return MTable(t.columns, [r for r in t.rows if any(type(settled(r[i])) is MError for i in idx)], t.types)


def _key(t: MTable, key: Any) -> list[int]:
    return [t.index(c) for c in texts(key)]


def _key_of(row: list[Any], idx: list[int]) -> tuple[Any, ...]:
    out = []
    for i in idx:
        v = cell_value(row[i])
        out.append((type(v) is bool, v) if isinstance(v, (int, float, str, bool)) or v is None else (False, id(v)))
    return tuple(out)


def _matches(t1: MTable, k1: Any, t2: MTable, k2: Any) -> list[list[int]]:
    i1, i2 = _key(t1, k1), _key(t2, k2)
    if len(i1) != len(i2):
        raise expression_error("The keys must have the same number of columns.")
    index: dict[tuple[Any, ...], list[int]] = {}
    for j, row in enumerate(t2.rows):
        index.setdefault(_key_of(row, i2), []).append(j)
    return [index.get(_key_of(row, i1), []) for row in t1.rows]


@fn("Table.Join", 4, 7)
def join(t1: Any, k1: Any, t2: Any, k2: Any, kind: Any = None, algorithm: Any = None, comparer: Any = None) -> MTable:
    t1, t2 = table(t1), table(t2)
    clash = [c for c in t2.columns if c in t1.columns]
    if clash:
        raise expression_error(f'A join operation cannot result in a table with duplicate column names ("{clash[0]}").')
    kind = 0 if kind is None else kind
    matches = _matches(t1, k1, t2, k2)
    blank2, blank1 = [None] * len(t2.columns), [None] * len(t1.columns)
    rows = []
    used: set[int] = set()
    for row, found in zip(t1.rows, matches, strict=False):
        used.update(found)
        if kind in (0, 1, 3, 2):
            rows.extend([*row, *t2.rows[j]] for j in found)
        if not found and kind in (1, 3, 4):
            rows.append([*row, *blank2])
    if kind in (2, 3, 5):
        rows.extend([*blank1, *r] for j, r in enumerate(t2.rows) if j not in used)
    if kind == 4:
        return MTable(t1.columns + t2.columns, [r for r in rows], t1.types + t2.types)
    if kind == 5:
        return MTable(t1.columns + t2.columns, [r for r in rows if all(c is None for c in r[: len(t1.columns)])])
    return MTable(t1.columns + t2.columns, rows, t1.types + t2.types)


@fn("Table.NestedJoin", 5, 7)
def nested_join(t1: Any, k1: Any, t2: Any, k2: Any, name: Any, kind: Any = None, comparer: Any = None) -> MTable:
    t1, t2 = table(t1), table(t2)
    kind = 1 if kind is None else kind
    matches = _matches(t1, k1, t2, k2)
    rows = []
    for row, found in zip(t1.rows, matches, strict=False):
        if kind == 0 and not found or kind == 4 and found:
            continue
        rows.append([*row, MTable(t2.columns, [t2.rows[j] for j in found], t2.types)])
    return MTable([*t1.columns, need(name, "text")], rows, [*t1.types, MType("table")])


@fn("#table", 2)
def hash_table(columns: Any, rows: Any) -> MTable:
    items = [need(r, "list").values() for r in need(rows, "list").values()]
    names, types = _names_and_types(columns, len(items[0]) if items else 0)
    for r in items:
        if len(r) != len(names):
            raise expression_error(
                f"{len(r)} keys were specified, but {len(names)} values were provided.", MList(list(r))
            )
    return MTable(names, [list(r) for r in items], types)


@fn("Table.Schema", 1)
def schema(t: Any) -> MTable:
    t = table(t)
    return MTable(
        ["Name", "Position", "TypeName"],
        [
            [c, i, (ct.kind if ct else "any").title() + ".Type"]
            for i, (c, ct) in enumerate(zip(t.columns, t.types, strict=False))
        ],
    )


__all__ = ["MFunction"]
