"""Date/DateTime/DateTimeZone From, FromText and ToText (ISO 8601 and .NET custom formats), and the zone
functions the generated function uses."""

from __future__ import annotations

import datetime as dt

import pytest
from powerquery.testing import m, m_error

UTC = dt.timezone.utc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('Date.FromText("2010-12-31")', dt.date(2010, 12, 31)),
        ('DateTime.FromText("2010-12-31T01:30:25")', dt.datetime(2010, 12, 31, 1, 30, 25)),
        ('DateTime.FromText("2010-12-31T01:30:25.1234567")', dt.datetime(2010, 12, 31, 1, 30, 25, 123457)),
        (
            'DateTimeZone.FromText("2010-12-31T01:30:00-08:00")',
            dt.datetime(2010, 12, 31, 1, 30, tzinfo=dt.timezone(-dt.timedelta(hours=8))),
        ),
        ('DateTimeZone.FromText("2010-12-31T01:30:00Z")', dt.datetime(2010, 12, 31, 1, 30, tzinfo=UTC)),
        ("Date.FromText(null)", None),
        ("Date.ToText(#date(2010, 12, 31))", "2010-12-31"),
        ('Date.ToText(#date(2010, 12, 31), [Format = "dd/MM/yyyy", Culture = "en-US"])', "31/12/2010"),
        ('Date.ToText(#date(2010, 1, 2), "yyyy-MM-dd")', "2010-01-02"),
        ("DateTime.ToText(#datetime(2010, 12, 31, 1, 30, 25))", "2010-12-31T01:30:25"),
        (
            'DateTime.ToText(#datetime(2010, 12, 31, 1, 30, 25.5), [Format = "yyyy-MM-ddTHH:mm:ss.ffffff"])',
            "2010-12-31T01:30:25.500000",
        ),
        ('DateTime.ToText(#datetime(2010, 12, 31, 13, 5, 0), "h:mm tt")', "1:05 PM"),
        ('DateTime.ToText(#datetime(2010, 12, 31, 1, 30, 25), "o")', "2010-12-31T01:30:25.0000000"),
        ("DateTimeZone.ToText(#datetimezone(2010, 12, 31, 1, 30, 0, -8, 0))", "2010-12-31T01:30:00-08:00"),
        (
            'DateTimeZone.ToText(#datetimezone(2010, 12, 31, 1, 30, 0, 5, 30), [Format = "yyyy-MM-ddTHH:mmzzz"])',
            "2010-12-31T01:30+05:30",
        ),
        ('Date.From("2020-01-02")', dt.date(2020, 1, 2)),
        ("Date.From(#datetime(2020, 1, 2, 3, 4, 5))", dt.date(2020, 1, 2)),
        ("DateTime.From(#date(2020, 1, 2))", dt.datetime(2020, 1, 2)),
        ("DateTime.From(43910.25)", dt.datetime(2020, 3, 20, 6, 0)),
        ("DateTimeZone.From(#datetime(2020, 1, 2, 3, 4, 5))", dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("DateTimeZone.ToUtc(#datetimezone(2020, 1, 2, 3, 0, 0, 2, 0))", dt.datetime(2020, 1, 2, 1, tzinfo=UTC)),
        ("DateTimeZone.RemoveZone(#datetimezone(2020, 1, 2, 3, 0, 0, 2, 0))", dt.datetime(2020, 1, 2, 3)),
        ("DateTimeZone.ZoneHours(#datetimezone(2020, 1, 2, 3, 0, 0, -7, 0))", -7),
        ("Duration.TotalSeconds(#duration(0, 1, 0, 1.5))", 3601.5),
        ("Text.From(#duration(2, 3, 4, 5))", "2.03:04:05"),
        ("Text.From(#time(9, 5, 0))", "09:05:00"),
    ],
)
def test_date_and_time_functions(text: str, expected: object) -> None:
    assert m(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        'Date.FromText("31/12/2010")',
        'DateTime.FromText("2010-13-01T00:00:00")',
        "Date.ToText(#datetime(2010, 1, 1, 0, 0, 0))",
        "DateTimeZone.RemoveZone(#datetime(2010, 1, 1, 0, 0, 0))",
        "Date.From({})",
    ],
)
def test_date_and_time_errors(text: str) -> None:
    assert m_error(text).reason == "Expression.Error"
