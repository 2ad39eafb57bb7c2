"""List.* functions of the M evaluator, each to its learn.microsoft.com/powerquery-m page."""

from __future__ import annotations

import pytest
from powerquery.testing import m, m_error


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("List.Transform({1, 2, 3}, each _ + 1)", [2, 3, 4]),
        ("List.Select({1, 2, 3, 4, 5}, each _ > 2)", [3, 4, 5]),
        ("List.Count({1, 2, 3})", 3),
        ("List.Count({})", 0),
        ("List.Buffer({1, 2})", [1, 2]),
        ("List.Combine({{1, 2}, {3}, {}})", [1, 2, 3]),
        ("List.Contains({1, 2, 3}, 3)", True),
        ('List.Contains({1, 2, 3}, "3")', False),
        ('List.Contains({"A"}, "a", Comparer.OrdinalIgnoreCase)', True),
        ("List.Contains({[a = 1]}, [a = 1])", True),
        ("List.Difference({1, 2, 3, 4, 5}, {4, 5, 3})", [1, 2]),
        ("List.Difference({1, 1, 2}, {1})", [1, 2]),
        ("List.Distinct({1, 1, 2, 3, 3, 3})", [1, 2, 3]),
        ("List.Intersect({{1, 2, 3, 4, 5}, {4, 5, 6}})", [4, 5]),
        ("List.Intersect({{1, 1, 2}, {1, 1, 3}})", [1, 1]),
        ("List.IsEmpty({})", True),
        ("List.IsEmpty({null})", False),
        ("List.Max({1, 4, 7, 3, -2, 5})", 7),
        ("List.Max({}, -1)", -1),
        ("List.Max({null, 2})", 2),
        ("List.Min({1, 4, 7, 3, -2, 5})", -2),
        ("List.Min({}, 0)", 0),
        ("List.Positions({1, 2, 3, 4, null, 5})", [0, 1, 2, 3, 4, 5]),
        ("List.AllTrue({true, 2 = 0})", False),
        ("List.AllTrue({})", True),
        ("List.AnyTrue({2 = 0, false, 1 < 0})", False),
        ("List.AnyTrue({false, true})", True),
        ("List.Generate(() => 10, each _ > 0, each _ - 1)", [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]),
        (
            "List.Generate(() => [x = 1, y = {}], each [x] < 4, each [x = [x] + 1, y = [y] & {x}], each [x] * 2)",
            [2, 4, 6],
        ),
        ("List.Accumulate({1, 2, 3, 4, 5}, 0, (state, current) => state + current)", 15),
        ('List.Zip({{1, 2}, {"a", "b", "c"}})', [[1, "a"], [2, "b"], [None, "c"]]),
        ("List.Range({1, 2, 3, 4, 5}, 1, 3)", [2, 3, 4]),
        ("List.Range({1, 2, 3}, 1)", [2, 3]),
        ("List.Range({1, 2, 3}, 1, 10)", [2, 3]),
        ("List.First({1, 2})", 1),
        ("List.First({}, -1)", -1),
        ("List.First({})", None),
        ("List.Last({1, 2})", 2),
        ("List.Last({}, -1)", -1),
        ("List.Numbers(1, 3)", [1, 2, 3]),
        ("List.Numbers(0, 4, 250)", [0, 250, 500, 750]),
        ("List.Sum({1, 2, 3})", 6),
        ("List.Sum({})", None),
        ("List.Sum({#duration(0, 1, 0, 0), #duration(0, 2, 0, 0)}) = #duration(0, 3, 0, 0)", True),
        ("List.FirstN({3, 4, 5, -1, 7, 8, 2}, 2)", [3, 4]),
        ("List.FirstN({3, 4, 5, -1, 7, 8, 2}, each _ > 0)", [3, 4, 5]),
        ("List.LastN({1, 2, 3}, 2)", [2, 3]),
        ("List.Skip({1, 2, 3, 4, 5}, 3)", [4, 5]),
        ("List.Skip({1, 2, 3})", [2, 3]),
        ("List.Skip({5, 4, 2, 6, 1}, each _ > 3)", [2, 6, 1]),
        ("List.Split({1, 2, 3, 4, 5}, 2)", [[1, 2], [3, 4], [5]]),
        ("List.Union({{1, 2, 3}, {2, 3, 4}})", [1, 2, 3, 4]),
        ("List.Union({{1, 1}, {1, 2}})", [1, 1, 2]),
        ("List.Reverse({1, 2})", [2, 1]),
        ("List.RemoveNulls({1, null, 2})", [1, 2]),
        ("List.PositionOf({1, 2, 3}, 3)", 2),
        ("List.PositionOf({1}, 9)", -1),
        ("List.Repeat({1, 2}, 2)", [1, 2, 1, 2]),
        ("List.NonNullCount({1, null})", 1),
        ("List.TransformMany({1, 2}, each {_, _ * 10}, (x, y) => y)", [1, 10, 2, 20]),
        ("List.ContainsAll({1, 2, 3}, {2, 3})", True),
        ("List.ContainsAny({1, 2, 3}, {9, 3})", True),
        ("{1..4}", [1, 2, 3, 4]),
    ],
)
def test_list_functions(text: str, expected: object) -> None:
    assert m(text) == expected


def test_list_items_are_lazy() -> None:
    assert m('List.Count({1, error "unread"})') == 2
    assert m('List.First({1, error "unread"})') == 1
    assert m_error('List.Sum({1, error "read"})').message == "read"


def test_list_errors() -> None:
    assert m_error('List.Count("abc")').message == 'We cannot convert the value "abc" to type List.'
    assert m_error("List.AllTrue({1})").reason == "Expression.Error"
    assert m_error("List.Split({1}, 0)").reason == "Expression.Error"
    assert m_error("List.Select({1}, each 1)").reason == "Expression.Error"
    assert m_error("List.Range({1}, 5)").reason == "Expression.Error"
