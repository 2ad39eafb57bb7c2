"""Text.* functions."""

from __future__ import annotations

import re
from typing import Any

from ..operators import format_number, show, show_quoted
from ..values import MFunction, MList, MRecord, call, expression_error, force, kind_of
from . import LIBRARY, fn, need


def txt(value: Any) -> str:
    return need(value, "text")  # type: ignore[no-any-return]


def _ignore_case(args: list[Any]) -> Any:
    a, b = args
    return (a.lower() > b.lower()) - (a.lower() < b.lower())


def _ordinal(args: list[Any]) -> Any:
    a, b = args
    return (a > b) - (a < b)


LIBRARY["Comparer.OrdinalIgnoreCase"] = MFunction("Comparer.OrdinalIgnoreCase", _ignore_case, 2, 2)
LIBRARY["Comparer.Ordinal"] = MFunction("Comparer.Ordinal", _ordinal, 2, 2)


def _same(comparer: Any, a: str, b: str) -> bool:
    return a == b if comparer is None else call(comparer, [a, b]) == 0


@fn("Text.Combine", 1, 2)
def combine(texts: Any, separator: Any = None) -> str:
    """Docs: the texts joined with the separator; null items are skipped."""
    items = [x for x in need(texts, "list").values() if x is not None]
    return (separator or "").join(txt(x) for x in items)


@fn("Text.From", 1, 2)
def from_(value: Any, culture: Any = None) -> Any:
    """Docs: the text form of a number, date, time, datetime, datetimezone, logical, duration or binary; null for
    null; other types are an error."""
    if value is None:
        return None
    kind = kind_of(value)
    if kind == "text":
        return value
    if kind == "number":
        return format_number(value)
    if kind in ("logical", "date", "datetime", "datetimezone", "time", "duration"):
        return show(value)
    if kind == "binary":
        import base64

        return base64.b64encode(value.data).decode()
    raise expression_error(f"We cannot convert a value of type {kind.title()} to type Text.", value)


@fn("Text.Lower", 1, 2)
def lower(text: Any, culture: Any = None) -> Any:
    return None if text is None else txt(text).lower()


@fn("Text.Upper", 1, 2)
def upper(text: Any, culture: Any = None) -> Any:
    return None if text is None else txt(text).upper()


@fn("Text.Start", 2)
def start(text: Any, count: Any) -> Any:
    return None if text is None else txt(text)[: int(need(count, "number"))]


@fn("Text.End", 2)
def end(text: Any, count: Any) -> Any:
    if text is None:
        return None
    n = int(need(count, "number"))
    return txt(text)[-n:] if n else ""


@fn("Text.Middle", 2, 3)
def middle(text: Any, start_: Any, count: Any = None) -> Any:
    if text is None:
        return None
    s = int(start_)
    return txt(text)[s : None if count is None else s + int(count)]


def _trim_chars(trim: Any) -> str | None:
    if trim is None:
        return None
    return trim if type(trim) is str else "".join(need(trim, "list").values())


@fn("Text.Trim", 1, 2)
def trim(text: Any, chars: Any = None) -> Any:
    return None if text is None else txt(text).strip(_trim_chars(chars))


@fn("Text.TrimStart", 1, 2)
def trim_start(text: Any, chars: Any = None) -> Any:
    return None if text is None else txt(text).lstrip(_trim_chars(chars))


@fn("Text.TrimEnd", 1, 2)
def trim_end(text: Any, chars: Any = None) -> Any:
    return None if text is None else txt(text).rstrip(_trim_chars(chars))


@fn("Text.Length", 1)
def length(text: Any) -> Any:
    return None if text is None else len(txt(text).encode("utf-16-le")) // 2


@fn("Text.Contains", 2, 3)
def contains(text: Any, substring: Any, comparer: Any = None) -> Any:
    if text is None:
        return None
    text, substring = txt(text), txt(substring)
    if comparer is None:
        return substring in text
    return any(_same(comparer, text[i : i + len(substring)], substring) for i in range(len(text) - len(substring) + 1))


@fn("Text.StartsWith", 2, 3)
def starts_with(text: Any, substring: Any, comparer: Any = None) -> Any:
    if text is None:
        return None
    text, substring = txt(text), txt(substring)
    return _same(comparer, text[: len(substring)], substring)


@fn("Text.EndsWith", 2, 3)
def ends_with(text: Any, substring: Any, comparer: Any = None) -> Any:
    if text is None:
        return None
    text, substring = txt(text), txt(substring)
    return _same(comparer, text[len(text) - len(substring) :], substring) if substring else True


@fn("Text.Replace", 3)
def replace(text: Any, old: Any, new: Any) -> Any:
    if text is None:
        return None
    old = txt(old)
    if old == "":
        return text
    return txt(text).replace(old, txt(new))


@fn("Text.Split", 2)
def split(text: Any, separator: Any) -> MList:
    return MList(txt(text).split(txt(separator)))


@fn("Text.PadStart", 2, 3)
def pad_start(text: Any, count: Any, char: Any = None) -> Any:
    return None if text is None else txt(text).rjust(int(count), char or " ")


@fn("Text.PadEnd", 2, 3)
def pad_end(text: Any, count: Any, char: Any = None) -> Any:
    return None if text is None else txt(text).ljust(int(count), char or " ")


@fn("Text.Format", 2, 3)
def format_(template: Any, arguments: Any, culture: Any = None) -> str:
    """Docs: `#{0}` takes item 0 of a list argument, `#[name]` field `name` of a record argument."""
    template = txt(template)
    arguments = force(arguments)

    def one(m: re.Match[str]) -> str:
        if m.group(1) is not None:
            if not isinstance(arguments, MList):
                raise expression_error("Text.Format: #{n} needs a list of arguments.")
            i = int(m.group(1))
            if i >= len(arguments):
                raise expression_error(f"The index {i} is outside the argument list.")
            value = arguments.get(i)
        else:
            if not isinstance(arguments, MRecord):
                raise expression_error("Text.Format: #[name] needs a record of arguments.")
            value = arguments.get(m.group(2))
        return "" if value is None else show(value)

    return re.sub(r"#\{(\d+)\}|#\[([^\]]+)\]", one, template)


@fn("Text.Repeat", 2)
def repeat(text: Any, count: Any) -> Any:
    return None if text is None else txt(text) * int(count)


@fn("Text.PositionOf", 2, 4)
def position_of(text: Any, substring: Any, occurrence: Any = None, comparer: Any = None) -> int:
    return txt(text).find(txt(substring))


@fn("Text.Reverse", 1)
def reverse(text: Any) -> Any:
    return None if text is None else txt(text)[::-1]


__all__ = ["show_quoted"]
