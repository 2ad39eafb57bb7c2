"""List.* functions (lists are `MList`; items may be lazy, so a function reads only the items it needs)."""

from __future__ import annotations

from typing import Any

from ..operators import compare, equals, is_number
from ..values import MError, MFunction, MList, call, expression_error, force, kind_of
from . import fn, need


def lst(value: Any) -> MList:
    return need(value, "list")  # type: ignore[no-any-return]


def same(criteria: Any, x: Any, y: Any) -> bool:
    """Equality under an equation criteria: none (M's `=`), a comparer (`Comparer.OrdinalIgnoreCase`: 0 means
    equal), a two-argument equality function, or a one-argument key function."""
    if criteria is None:
        return equals(x, y)
    if criteria.max_args == 2:
        result = call(criteria, [x, y])
        return result is True or (type(result) is not bool and is_number(result) and result == 0)
    return equals(call(criteria, [x]), call(criteria, [y]))


def _contains(items: list[Any], value: Any, criteria: Any = None) -> bool:
    if criteria is not None:
        return any(same(criteria, x, value) for x in items)
    t = type(value)
    if t is str or t is int or (t is float and value == value):
        for x in items:
            if type(x) is t and x == value or (t is not str and is_number(x) and x == value):
                return True
        return False
    return any(equals(x, value) for x in items)


@fn("List.Transform", 2)
def transform(items: Any, f: Any) -> MList:
    return MList([call(f, [x]) for x in lst(items).values()])


@fn("List.TransformMany", 3)
def transform_many(items: Any, collection: Any, result: Any) -> MList:
    out = []
    for x in lst(items).values():
        for y in lst(call(collection, [x])).values():
            out.append(call(result, [x, y]))
    return MList(out)


@fn("List.Select", 2)
def select(items: Any, condition: Any) -> MList:
    out = []
    for x in lst(items).values():
        keep = call(condition, [x])
        if type(keep) is not bool:
            raise expression_error("We cannot convert the value to type Logical.", keep)
        if keep:
            out.append(x)
    return MList(out)


@fn("List.Count", 1)
def count(items: Any) -> int:
    return len(lst(items))


@fn("List.Buffer", 1)
def buffer(items: Any) -> MList:
    return MList(list(lst(items).values()))


@fn("List.Combine", 1)
def combine(lists: Any) -> MList:
    out: list[Any] = []
    for x in lst(lists).values():
        out.extend(lst(x).items)
    return MList(out)


@fn("List.Contains", 2, 3)
def contains(items: Any, value: Any, criteria: Any = None) -> bool:
    return _contains(lst(items).values(), value, criteria)


@fn("List.ContainsAll", 2, 3)
def contains_all(items: Any, values: Any, criteria: Any = None) -> bool:
    have = lst(items).values()
    return all(_contains(have, v, criteria) for v in lst(values).values())


@fn("List.ContainsAny", 2, 3)
def contains_any(items: Any, values: Any, criteria: Any = None) -> bool:
    have = lst(items).values()
    return any(_contains(have, v, criteria) for v in lst(values).values())


@fn("List.Difference", 2, 3)
def difference(a: Any, b: Any, criteria: Any = None) -> MList:
    """Docs: the items of the first list that do not appear in the second; each occurrence in the second removes
    one occurrence from the first."""
    remaining = list(lst(b).values())
    out = []
    for x in lst(a).values():
        for j, y in enumerate(remaining):
            if same(criteria, x, y):
                del remaining[j]
                break
        else:
            out.append(x)
    return MList(out)


@fn("List.Distinct", 1, 2)
def distinct(items: Any, criteria: Any = None) -> MList:
    out: list[Any] = []
    for x in lst(items).values():
        if not _contains(out, x, criteria):
            out.append(x)
    return MList(out)


@fn("List.Intersect", 1, 2)
def intersect(lists: Any, criteria: Any = None) -> MList:
    """Docs: the items found in every list (duplicates kept as often as in every list)."""
    all_lists = [list(lst(x).values()) for x in lst(lists).values()]
    if not all_lists:
        return MList([])
    out = []
    others = [list(x) for x in all_lists[1:]]
    for x in all_lists[0]:
        spots = []
        for other in others:
            j = next((j for j, y in enumerate(other) if equals(x, y)), -1)
            if j < 0:
                break
            spots.append(j)
        else:
            for other, j in zip(others, spots, strict=False):
                del other[j]
            out.append(x)
    return MList(out)


@fn("List.Union", 1, 2)
def union(lists: Any, criteria: Any = None) -> MList:
    """Docs: every item of the lists; an item repeated in one list is kept as many times as its largest count."""
    out: list[Any] = []
    for x in lst(lists).values():
        pool = list(out)
        for v in lst(x).values():
            j = next((j for j, y in enumerate(pool) if equals(v, y)), -1)
            if j >= 0:
                del pool[j]
            else:
                out.append(v)
    return MList(out)


@fn("List.IsEmpty", 1)
def is_empty(items: Any) -> bool:
    return len(lst(items)) == 0


def _extreme(items: Any, default: Any, op: str) -> Any:
    values = [x for x in lst(items).values() if x is not None]
    if not values:
        return default
    best = values[0]
    for x in values[1:]:
        if compare(op, x, best):
            best = x
    return best


@fn("List.Max", 1, 4)
def max_(items: Any, default: Any = None, comparison: Any = None, include_nulls: Any = None) -> Any:
    return _extreme(items, default, ">")


@fn("List.Min", 1, 4)
def min_(items: Any, default: Any = None, comparison: Any = None, include_nulls: Any = None) -> Any:
    return _extreme(items, default, "<")


@fn("List.Positions", 1)
def positions(items: Any) -> MList:
    return MList(list(range(len(lst(items)))))


def _logicals(items: Any) -> list[bool]:
    out = lst(items).values()
    for x in out:
        if type(x) is not bool:
            raise expression_error("We cannot convert the value to type Logical.", x)
    return out


@fn("List.AllTrue", 1)
def all_true(items: Any) -> bool:
    return all(_logicals(items))


@fn("List.AnyTrue", 1)
def any_true(items: Any) -> bool:
    return any(_logicals(items))


@fn("List.Generate", 3, 4)
def generate(initial: Any, condition: Any, next_: Any, selector: Any = None) -> MList:
    out = []
    state = call(initial, [])
    while call(condition, [state]) is True:
        out.append(call(selector, [state]) if selector is not None else state)
        state = call(next_, [state])
    return MList(out)


@fn("List.Accumulate", 3)
def accumulate(items: Any, seed: Any, accumulator: Any) -> Any:
    state = seed
    for x in lst(items).values():
        state = call(accumulator, [state, x])
    return state


@fn("List.Zip", 1)
def zip_(lists: Any) -> MList:
    all_lists = [lst(x).values() for x in lst(lists).values()]
    n = max((len(x) for x in all_lists), default=0)
    return MList([MList([x[i] if i < len(x) else None for x in all_lists]) for i in range(n)])


@fn("List.Range", 2, 3)
def range_(items: Any, offset: Any, count: Any = None) -> MList:
    values = lst(items).items
    start = int(need(offset, "number"))
    if start > len(values):
        raise expression_error("The offset is past the end of the list.", offset)
    return MList(values[start : None if count is None else start + int(need(count, "number"))])


@fn("List.First", 1, 2)
def first(items: Any, default: Any = None) -> Any:
    x = lst(items)
    return x.get(0) if len(x) else default


@fn("List.Last", 1, 2)
def last(items: Any, default: Any = None) -> Any:
    x = lst(items)
    return x.get(len(x) - 1) if len(x) else default


@fn("List.Numbers", 2, 3)
def numbers(start: Any, count_: Any, increment: Any = None) -> MList:
    step = 1 if increment is None else need(increment, "number")
    return MList([need(start, "number") + i * step for i in range(int(need(count_, "number")))])


@fn("List.Sum", 1, 2)
def sum_(items: Any, precision: Any = None) -> Any:
    values = [x for x in lst(items).values() if x is not None]
    if not values:
        return None
    total = values[0]
    from ..operators import arith

    for x in values[1:]:
        total = arith("+", total, x)
    return total


def _count_or_condition(values: list[Any], count: Any) -> int:
    if type(count) is MFunction:
        n = 0
        for x in values:
            if call(count, [force(x)]) is not True:
                break
            n += 1
        return n
    return int(need(count, "number"))


@fn("List.FirstN", 2)
def first_n(items: Any, count: Any) -> MList:
    values = lst(items).items
    return MList(values[: _count_or_condition(values, count)])


@fn("List.LastN", 1, 2)
def last_n(items: Any, count: Any = None) -> MList:
    values = lst(items).items
    n = _count_or_condition(values[::-1], 1 if count is None else count)
    return MList(values[len(values) - n :])


@fn("List.Skip", 1, 2)
def skip(items: Any, count: Any = None) -> MList:
    values = lst(items).items
    return MList(values[_count_or_condition(values, 1 if count is None else count) :])


@fn("List.Split", 2)
def split(items: Any, page_size: Any) -> MList:
    values = lst(items).items
    size = int(need(page_size, "number"))
    if size < 1:
        raise expression_error("The pageSize must be 1 or more.", page_size)
    return MList([MList(values[i : i + size]) for i in range(0, len(values), size)])


@fn("List.Reverse", 1)
def reverse(items: Any) -> MList:
    return MList(lst(items).items[::-1])


@fn("List.RemoveNulls", 1)
def remove_nulls(items: Any) -> MList:
    return MList([x for x in lst(items).values() if x is not None])


@fn("List.PositionOf", 2, 4)
def position_of(items: Any, value: Any, occurrence: Any = None, criteria: Any = None) -> int:
    for i, x in enumerate(lst(items).values()):
        if equals(x, value):
            return i
    return -1


@fn("List.Repeat", 2)
def repeat(items: Any, count_: Any) -> MList:
    return MList(lst(items).items * int(need(count_, "number")))


@fn("List.NonNullCount", 1)
def non_null_count(items: Any) -> int:
    return sum(1 for x in lst(items).values() if x is not None)


__all__ = ["MError", "kind_of"]
