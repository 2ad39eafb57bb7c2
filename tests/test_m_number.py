"""Number.* and Logical.* functions of the M evaluator, each to its learn.microsoft.com/powerquery-m page."""

from __future__ import annotations

import math

import pytest
from powerquery.testing import m, m_error


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('Number.FromText("4")', 4),
        ('Number.FromText("5.0e-10")', 5e-10),
        ('Number.FromText(" 12.5 ")', 12.5),
        ('Number.FromText("-3", "en-US")', -3),
        ("Number.FromText(null)", None),
        ('Number.From("4.5")', 4.5),
        ("Number.From(true)", 1),
        ("Number.From(null)", None),
        ("Number.From(#datetime(2020, 3, 20, 6, 0, 0))", 43910.25),
        ("Number.From(#duration(1, 12, 0, 0))", 1.5),
        ("Number.Power(5, 3)", 125),
        ("Number.Power(2, 0.5)", math.sqrt(2)),
        ("Number.Power(null, 2)", None),
        ("Number.Round(1.234567)", 1),
        ("Number.Round(1.234567, 2)", 1.23),
        ("Number.Round(1.56)", 2),
        ("Number.Round(2.5)", 2),
        ("Number.Round(3.5)", 4),
        ("Number.Round(-1.5)", -2),
        ("Number.Round(1.2345, 3, RoundingMode.Up)", 1.235),
        ("Number.Round(1.2345, 3, RoundingMode.Down)", 1.234),
        ("Number.Round(2.5, 0, RoundingMode.AwayFromZero)", 3),
        ("Number.Round(-2.5, 0, RoundingMode.TowardZero)", -2),
        ("Number.Round(-2.5, 0, RoundingMode.Up)", -2),
        ("Number.Round(-2.5, 0, RoundingMode.Down)", -3),
        ("Number.Round(-2.5, 0, RoundingMode.AwayFromZero)", -3),
        ("Number.Round(1.2341, 3, RoundingMode.Up)", 1.234),
        ("Number.Round(1.2349, 3, RoundingMode.Down)", 1.235),
        ("Number.Round(null)", None),
        ("Number.ToText(4)", "4"),
        ("Number.ToText(4.5)", "4.5"),
        ('Number.ToText(4, "N")', "4.00"),
        ('Number.ToText(1234.5, "F1")', "1234.5"),
        ('Number.ToText(0.25, "P0")', "25 %"),
        ('Number.ToText(255, "X")', "FF"),
        ('Number.ToText(7, "D3")', "007"),
        ("Number.IntegerDivide(6, 4)", 1),
        ("Number.IntegerDivide(-7, 2)", -3),
        ("Number.IntegerDivide(8.3, 3)", 2),
        ("Number.IntegerDivide(null, 3)", None),
        ("Number.Mod(5, 3)", 2),
        ("Number.Abs(-3)", 3),
        ("Number.RoundDown(1.99)", 1),
        ("Number.RoundUp(1.01)", 2),
        ("Logical.From(2)", True),
        ("Logical.From(0)", False),
        ('Logical.From("true")', True),
        ('Logical.From("FALSE")', False),
        ("Logical.From(null)", None),
        ('Logical.FromText("true")', True),
        ("Logical.ToText(false)", "false"),
    ],
)
def test_number_and_logical_functions(text: str, expected: object) -> None:
    assert m(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('Number.FromText("abc")', "Expression.Error"),
        ('Number.FromText("1,5")', "Expression.Error"),
        ("Number.From({1})", "Expression.Error"),
        ("Number.IntegerDivide(1, 0)", "Expression.Error"),
        ('Logical.From("yes")', "Expression.Error"),
        ("Logical.From(#date(2020, 1, 1))", "Expression.Error"),
        ('Number.Power("2", 2)', "Expression.Error"),
    ],
)
def test_number_and_logical_errors(text: str, reason: str) -> None:
    assert m_error(text).reason == reason
