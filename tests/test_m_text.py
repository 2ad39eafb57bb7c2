"""Text.* functions of the M evaluator, each to its learn.microsoft.com/powerquery-m page."""

from __future__ import annotations

import pytest
from powerquery.testing import m, m_error


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('Text.Combine({"Seattle", "WA"})', "SeattleWA"),
        ('Text.Combine({"Seattle", "WA"}, ", ")', "Seattle, WA"),
        ('Text.Combine({"Seattle", null, "WA"}, ", ")', "Seattle, WA"),
        ("Text.From(6)", "6"),
        ("Text.From(0.5)", "0.5"),
        ("Text.From(1e20)", "1E+20"),
        ("Text.From(-2.5e-7)", "-2.5E-07"),
        ("Text.From(true)", "true"),
        ("Text.From(null)", None),
        ("Text.From(#date(2024, 3, 1))", "2024-03-01"),
        ('Text.Lower("AbC")', "abc"),
        ('Text.Upper("aBc")', "ABC"),
        ("Text.Upper(null)", None),
        ('Text.Start("Hello, World", 5)', "Hello"),
        ('Text.Start("Hi", 5)', "Hi"),
        ('Text.End("Hello, World", 5)', "World"),
        ('Text.End("Hello", 0)', ""),
        ('Text.Trim("  a b  ")', "a b"),
        ('Text.Trim("--a--", "-")', "a"),
        ('Text.Trim("-_a_-", {"-", "_"})', "a"),
        ('Text.TrimStart("  a ")', "a "),
        ('Text.TrimEnd("  a ")', "  a"),
        ('Text.Length("Hello World")', 11),
        ('Text.Length("😀")', 2),
        ('Text.Contains("Hello World", "Hello")', True),
        ('Text.Contains("Hello World", "hello")', False),
        ('Text.Contains("Hello World", "hello", Comparer.OrdinalIgnoreCase)', True),
        ('Text.StartsWith("Hello, World", "hello")', False),
        ('Text.StartsWith("Hello, World", "hello", Comparer.OrdinalIgnoreCase)', True),
        ('Text.EndsWith("Hello, World", "World")', True),
        (
            'Text.Replace("the quick brown fox jumps over the lazy dog", "the", "a")',
            "a quick brown fox jumps over a lazy dog",
        ),
        ('Text.Split("Name|Address|PhoneNumber", "|")', ["Name", "Address", "PhoneNumber"]),
        ('Text.Split("a", ",")', ["a"]),
        ('Text.Format("#{0}, #{1}, and #{2}.", {17, 7, 22})', "17, 7, and 22."),
        (
            'Text.Format("The time for the #[distance] km run held in #[city] on #[date] was #[duration].", '
            '[city = "Seattle", date = #date(2015, 3, 10), duration = #duration(0, 0, 54, 40), distance = 10])',
            "The time for the 10 km run held in Seattle on 2015-03-10 was 00:54:40.",
        ),
        ('Text.PadStart("7", 3, "0")', "007"),
        ('Text.PadEnd("7", 3)', "7  "),
        ('Text.Middle("Hello World", 6, 3)', "Wor"),
        ('Text.Repeat("ab", 2)', "abab"),
        ('Text.PositionOf("Hello", "l")', 2),
        ('Text.Reverse("abc")', "cba"),
    ],
)
def test_text_functions(text: str, expected: object) -> None:
    assert m(text) == expected


@pytest.mark.parametrize(
    "text",
    ["Text.From({1})", "Text.From([a = 1])", "Text.Upper(1)", 'Text.Format("#{3}", {1})', "Text.Combine({1})"],
)
def test_text_errors(text: str) -> None:
    assert m_error(text).reason == "Expression.Error"
