"""#date/#datetime/#datetimezone/#time/#duration and the Date*/DateTime*/DateTimeZone* From/ToText functions
(ISO 8601 text, as Power Query reads and writes it without a format)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from ..operators import format_number, show_quoted
from ..values import MRecord, expression_error, kind_of
from . import fn, need


def _int(value: Any, what: str, lo: int, hi: int) -> int:
    v = need(value, "number")
    if v != int(v) or not lo <= v <= hi:
        raise expression_error(f"The {what} {format_number(v)} is out of range.", v)
    return int(v)


def _seconds(value: Any) -> tuple[int, int]:
    s = need(value, "number")
    if not 0 <= s < 60:
        raise expression_error("The seconds are out of range.", s)
    whole = int(s)
    return whole, round((s - whole) * 1_000_000)


@fn("#date", 3)
def date(y: Any, m: Any, d: Any) -> dt.date:
    try:
        return dt.date(_int(y, "year", 1, 9999), _int(m, "month", 1, 12), _int(d, "day", 1, 31))
    except ValueError as ex:
        raise expression_error(str(ex)) from None


@fn("#datetime", 6)
def datetime_(y: Any, mo: Any, d: Any, h: Any, mi: Any, s: Any) -> dt.datetime:
    sec, micro = _seconds(s)
    try:
        return dt.datetime(
            _int(y, "year", 1, 9999), _int(mo, "month", 1, 12), _int(d, "day", 1, 31),
            _int(h, "hour", 0, 23), _int(mi, "minute", 0, 59), sec, micro,
        )  # fmt: skip
    except ValueError as ex:
        raise expression_error(str(ex)) from None


@fn("#datetimezone", 8)
def datetimezone(y: Any, mo: Any, d: Any, h: Any, mi: Any, s: Any, oh: Any, om: Any) -> dt.datetime:
    base = datetime_(y, mo, d, h, mi, s)
    hours = _int(oh, "offset hours", -14, 14)
    minutes = _int(om, "offset minutes", -59, 59)
    sign = -1 if hours < 0 or (hours == 0 and minutes < 0) else 1
    offset = dt.timedelta(hours=abs(hours), minutes=abs(minutes)) * sign
    return base.replace(tzinfo=dt.timezone(offset))


@fn("#time", 3)
def time_(h: Any, m: Any, s: Any) -> dt.time:
    sec, micro = _seconds(s)
    if need(h, "number") == 24 and m == 0 and s == 0:
        return dt.time(0, 0)
    return dt.time(_int(h, "hour", 0, 23), _int(m, "minute", 0, 59), sec, micro)


@fn("#duration", 4)
def duration(d: Any, h: Any, m: Any, s: Any) -> dt.timedelta:
    return dt.timedelta(
        days=need(d, "number"), hours=need(h, "number"), minutes=need(m, "number"), seconds=need(s, "number")
    )


def _fraction(micro: int, ticks: int | None = None) -> str:
    """Fractional seconds as .NET's round-trip format writes them: 7 digits, trailing zeros dropped."""
    if micro == 0:
        return ""
    return ("." + f"{micro:06d}0").rstrip("0")


def to_text(value: Any) -> str:
    """The ISO 8601 text of a date/time value (Power Query's culture-invariant round-trip form)."""
    kind = kind_of(value)
    if kind == "date":
        return value.isoformat()
    if kind == "datetime":
        return value.strftime("%Y-%m-%dT%H:%M:%S") + _fraction(value.microsecond)
    if kind == "datetimezone":
        offset = value.utcoffset() or dt.timedelta()
        sign = "-" if offset < dt.timedelta() else "+"
        total = abs(int(offset.total_seconds())) // 60
        return (
            value.strftime("%Y-%m-%dT%H:%M:%S")
            + _fraction(value.microsecond)
            + f"{sign}{total // 60:02d}:{total % 60:02d}"
        )
    if kind == "time":
        return value.strftime("%H:%M:%S") + _fraction(value.microsecond)
    if kind == "duration":
        total = value.days * 86400 + value.seconds
        days, rest = divmod(abs(total), 86400) if total >= 0 else divmod(-total, 86400)
        sign = "-" if total < 0 else ""
        h, rest = divmod(rest, 3600)
        m, s = divmod(rest, 60)
        head = f"{sign}{days}." if days else sign
        return f"{head}{h:02d}:{m:02d}:{s:02d}" + _fraction(value.microseconds)
    raise expression_error(f"We cannot convert the value {show_quoted(value)} to text.", value)


_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?"
)


def _parse(text: Any, want: str) -> Any:
    if text is None:
        return None
    text = need(text, "text").strip()
    m = _ISO.fullmatch(text)
    if not m:
        raise expression_error(f"We couldn't parse the input provided as a {want} value.", text)
    y, mo, d, h, mi, s, frac, zone = m.groups()
    micro = round(int((frac or "0").ljust(7, "0")) / 10)
    try:
        moment = dt.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), min(micro, 999_999))
    except ValueError:
        raise expression_error(f"We couldn't parse the input provided as a {want} value.", text) from None
    if zone is not None:
        if zone == "Z":
            offset = dt.timedelta()
        else:
            digits = zone[1:].replace(":", "")
            offset = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])) * (-1 if zone[0] == "-" else 1)
        moment = moment.replace(tzinfo=dt.timezone(offset))
    if want == "Date":
        return moment.date()
    if want == "DateTime":
        return moment.replace(tzinfo=None)
    if moment.tzinfo is None:  # DateTimeZone.FromText without a zone: the local zone; here UTC, stable in tests
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment


_CUSTOM = re.compile(r"yyyy|yy|MM|M|dd|d|HH|H|hh|h|mm|m|ss|s|f{1,7}|F{1,7}|tt|zzz|zz|z|K|'[^']*'|\"[^\"]*\"|\\.|.")


def custom_format(value: Any, fmt: str) -> str:
    """A .NET custom date and time format ("yyyy-MM-ddTHH:mm:ss.ffffff"), invariant culture."""
    moment = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
    out = []
    for token in _CUSTOM.findall(fmt):
        c = token[0]
        if token == "yyyy":
            out.append(f"{moment.year:04d}")
        elif token == "yy":
            out.append(f"{moment.year % 100:02d}")
        elif token in ("MM", "M"):
            out.append(f"{moment.month:0{len(token)}d}")
        elif token in ("dd", "d"):
            out.append(f"{moment.day:0{len(token)}d}")
        elif token in ("HH", "H"):
            out.append(f"{moment.hour:0{len(token)}d}")
        elif token in ("hh", "h"):
            out.append(f"{(moment.hour % 12) or 12:0{len(token)}d}")
        elif token in ("mm", "m"):
            out.append(f"{moment.minute:0{len(token)}d}")
        elif token in ("ss", "s"):
            out.append(f"{moment.second:0{len(token)}d}")
        elif c in "fF":
            digits = f"{moment.microsecond:06d}0"[: len(token)]
            out.append(digits if c == "f" else digits.rstrip("0"))
        elif token == "tt":
            out.append("AM" if moment.hour < 12 else "PM")
        elif c in "zK":
            offset = moment.utcoffset()
            if offset is None:
                continue
            sign = "-" if offset < dt.timedelta() else "+"
            minutes = abs(int(offset.total_seconds())) // 60
            out.append(f"{sign}{minutes // 60:02d}" + (f":{minutes % 60:02d}" if token in ("zzz", "K") else ""))
        elif c in "'\"":
            out.append(token[1:-1])
        elif c == "\\":
            out.append(token[1:])
        else:
            out.append(token)
    return "".join(out)


def _text_of(value: Any, kind: str, options: Any) -> Any:
    """Date/DateTime/DateTimeZone.ToText: without a format the ISO 8601 text; a format (text, or [Format = ...])
    is a .NET custom format, or "o"/"O" (round trip) or "s" (sortable)."""
    if value is None:
        return None
    if kind_of(value) != kind:
        raise expression_error(f"We cannot convert the value {show_quoted(value)} to type {kind}.", value)
    fmt = options
    if isinstance(options, MRecord):
        fmt = options.get("Format") if options.has("Format") else None
    if fmt is None:
        return to_text(value)
    fmt = need(fmt, "text")
    if fmt in ("o", "O"):
        if kind == "date":
            return value.isoformat()
        text = value.strftime("%Y-%m-%dT%H:%M:%S") + "." + f"{value.microsecond:06d}0"
        return text + (custom_format(value, "zzz") if kind == "datetimezone" else "")
    if fmt == "s":
        return custom_format(value, "yyyy-MM-ddTHH:mm:ss")
    return custom_format(value, fmt)


@fn("Date.FromText", 1, 2)
def date_from_text(text: Any, options: Any = None) -> Any:
    return _parse(text, "Date")


@fn("DateTime.FromText", 1, 2)
def datetime_from_text(text: Any, options: Any = None) -> Any:
    return _parse(text, "DateTime")


@fn("DateTimeZone.FromText", 1, 2)
def datetimezone_from_text(text: Any, options: Any = None) -> Any:
    return _parse(text, "DateTimeZone")


@fn("Date.ToText", 1, 3)
def date_to_text(value: Any, options: Any = None, culture: Any = None) -> Any:
    return _text_of(value, "date", options)


@fn("DateTime.ToText", 1, 3)
def datetime_to_text(value: Any, options: Any = None, culture: Any = None) -> Any:
    return _text_of(value, "datetime", options)


@fn("DateTimeZone.ToText", 1, 3)
def datetimezone_to_text(value: Any, options: Any = None, culture: Any = None) -> Any:
    return _text_of(value, "datetimezone", options)


@fn("Date.From", 1, 2)
def date_from(value: Any, culture: Any = None) -> Any:
    if value is None or kind_of(value) == "date":
        return value
    if kind_of(value) in ("datetime", "datetimezone"):
        return value.date()
    if type(value) is str:
        return _parse(value, "Date")
    raise expression_error(f"We cannot convert the value {show_quoted(value)} to type Date.", value)


@fn("DateTime.From", 1, 2)
def datetime_from(value: Any, culture: Any = None) -> Any:
    kind = kind_of(value)
    if value is None or kind == "datetime":
        return value
    if kind == "date":
        return dt.datetime.combine(value, dt.time())
    if kind == "datetimezone":
        return value.replace(tzinfo=None)
    if kind == "text":
        return _parse(value, "DateTime")
    if kind == "number":
        return dt.datetime(1899, 12, 30) + dt.timedelta(days=value)
    raise expression_error(f"We cannot convert the value {show_quoted(value)} to type DateTime.", value)


@fn("DateTimeZone.From", 1, 2)
def datetimezone_from(value: Any, culture: Any = None) -> Any:
    kind = kind_of(value)
    if value is None or kind == "datetimezone":
        return value
    if kind in ("date", "datetime"):
        moment = value if kind == "datetime" else dt.datetime.combine(value, dt.time())
        return moment.replace(tzinfo=dt.timezone.utc)
    if kind == "text":
        return _parse(value, "DateTimeZone")
    raise expression_error(f"We cannot convert the value {show_quoted(value)} to type DateTimeZone.", value)


@fn("Duration.TotalSeconds", 1)
def total_seconds(value: Any) -> Any:
    return None if value is None else value.total_seconds()


@fn("Duration.From", 1)
def duration_from(value: Any) -> Any:
    if value is None or kind_of(value) == "duration":
        return value
    if kind_of(value) == "number":
        return dt.timedelta(days=value)
    raise expression_error(f"We cannot convert the value {show_quoted(value)} to type Duration.", value)


@fn("DateTimeZone.ToUtc", 1)
def to_utc(value: Any) -> Any:
    """Docs: the datetimezone moved to UTC (+00:00); a datetime is taken as local time (here UTC)."""
    if value is None:
        return None
    kind = kind_of(value)
    if kind == "datetime":
        return value.replace(tzinfo=dt.timezone.utc)
    if kind == "date":
        return dt.datetime.combine(value, dt.time(), dt.timezone.utc)
    if kind != "datetimezone":
        raise expression_error(f"We cannot convert the value {show_quoted(value)} to type DateTimeZone.", value)
    return value.astimezone(dt.timezone.utc)


@fn("DateTimeZone.RemoveZone", 1)
def remove_zone(value: Any) -> Any:
    """Docs: the datetime part of a datetimezone, its zone dropped (no conversion)."""
    if value is None:
        return None
    if kind_of(value) != "datetimezone":
        raise expression_error(f"We cannot convert the value {show_quoted(value)} to type DateTimeZone.", value)
    return value.replace(tzinfo=None)


@fn("DateTimeZone.ZoneHours", 1)
def zone_hours(value: Any) -> Any:
    if value is None:
        return None
    offset = (need(value, "datetimezone").utcoffset() or dt.timedelta()).total_seconds()
    return int(offset / 3600)
