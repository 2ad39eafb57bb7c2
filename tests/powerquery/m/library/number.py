"""Number.* functions (culture-invariant: "en-US" and no culture read the same)."""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from typing import Any

from ..operators import format_number, is_number, show_quoted
from ..values import MType, expression_error, kind_of
from . import LIBRARY, fn, need

ROUNDING = {"Up": 0, "Down": 1, "AwayFromZero": 2, "TowardZero": 3, "ToEven": 4}
LIBRARY.update({f"RoundingMode.{k}": v for k, v in ROUNDING.items()})
ROUNDING_NAMES = {v: k for k, v in ROUNDING.items()}
for _name, _kind, _facet in [
    ("Int64.Type", "number", "Int64"),
    ("Int32.Type", "number", "Int32"),
    ("Int16.Type", "number", "Int16"),
    ("Int8.Type", "number", "Int8"),
    ("Number.Type", "number", None),
    ("Double.Type", "number", "Double"),
    ("Decimal.Type", "number", "Decimal"),
    ("Currency.Type", "number", "Currency"),
    ("Percentage.Type", "number", "Percentage"),
    ("Text.Type", "text", None),
    ("Logical.Type", "logical", None),
    ("Date.Type", "date", None),
    ("DateTime.Type", "datetime", None),
    ("DateTimeZone.Type", "datetimezone", None),
    ("Duration.Type", "duration", None),
    ("Time.Type", "time", None),
    ("Binary.Type", "binary", None),
    ("Record.Type", "record", None),
    ("List.Type", "list", None),
    ("Table.Type", "table", None),
    ("Function.Type", "function", None),
    ("Any.Type", "any", None),
    ("Null.Type", "null", None),
    ("Type.Type", "type", None),
]:
    LIBRARY[_name] = MType(_kind, facet=_facet)

_NUMBER_TEXT = re.compile(r"\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*")


def as_number(value: float) -> int | float:
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


@fn("Number.FromText", 1, 2)
def from_text(text: Any, culture: Any = None) -> Any:
    if text is None:
        return None
    text = need(text, "text")
    if _NUMBER_TEXT.fullmatch(text):
        stripped = text.strip()
        if re.fullmatch(r"[+-]?\d+", stripped):
            return int(stripped)
        return as_number(float(stripped))
    if text.strip().lower() in ("nan", "infinity", "-infinity", "+infinity"):
        return float(text.strip().lower().replace("infinity", "inf"))
    raise expression_error("We couldn't convert to Number.", text)


@fn("Number.From", 1, 2)
def from_(value: Any, culture: Any = None) -> Any:
    """Docs: null -> null; numbers; text parsed; logical -> 1/0; date/time values as OLE automation numbers."""
    if value is None:
        return None
    if is_number(value):
        return value
    if type(value) is bool:
        return 1 if value else 0
    if type(value) is str:
        return from_text(value)
    kind = kind_of(value)
    if kind == "duration":
        return as_number(value.total_seconds() / 86400)
    if kind in ("date", "datetime"):
        base = dt.datetime(1899, 12, 30)
        moment = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
        return as_number((moment - base).total_seconds() / 86400)
    raise expression_error(f"We cannot convert the value {show_quoted(value)} to type Number.", value)


@fn("Number.Power", 2)
def power(base: Any, exponent: Any) -> Any:
    if base is None or exponent is None:
        return None
    try:
        result = need(base, "number") ** need(exponent, "number")
    except ZeroDivisionError:
        return math.inf
    except OverflowError:
        return math.inf
    return result if not isinstance(result, complex) else math.nan


@fn("Number.Round", 1, 3)
def round_(number: Any, digits: Any = None, mode: Any = None) -> Any:
    """Docs: rounds to the nearest number with `digits` decimals (default 0); the rounding mode only breaks ties:
    Up (toward +infinity), Down (toward -infinity), AwayFromZero, TowardZero, ToEven (the default)."""
    if number is None:
        return None
    number = need(number, "number")
    if isinstance(number, float) and not math.isfinite(number):
        return number
    places = Decimal(1).scaleb(-int(digits or 0))
    d = Decimal(repr(number) if isinstance(number, float) else number)
    low = d.quantize(places, rounding=ROUND_FLOOR)
    high = low + places
    distance_low, distance_high = d - low, high - d
    if distance_low != distance_high:
        rounded = low if distance_low < distance_high else high
    else:
        tie = ROUNDING_NAMES.get(4 if mode is None else int(need(mode, "number")), "ToEven")
        if tie == "Up":
            rounded = high
        elif tie == "Down":
            rounded = low
        elif tie == "AwayFromZero":
            rounded = high if d > 0 else low
        elif tie == "TowardZero":
            rounded = low if d > 0 else high
        else:
            rounded = d.quantize(places, rounding=ROUND_HALF_EVEN)
    return as_number(float(rounded))


@fn("Number.RoundDown", 1, 2)
def round_down(number: Any, digits: Any = None) -> Any:
    return None if number is None else as_number(math.floor(number * 10 ** (digits or 0)) / 10 ** (digits or 0))


@fn("Number.RoundUp", 1, 2)
def round_up(number: Any, digits: Any = None) -> Any:
    return None if number is None else as_number(math.ceil(number * 10 ** (digits or 0)) / 10 ** (digits or 0))


@fn("Number.Abs", 1)
def abs_(number: Any) -> Any:
    return None if number is None else abs(need(number, "number"))


@fn("Number.IsNaN", 1)
def is_nan(number: Any) -> bool:
    return isinstance(need(number, "number"), float) and math.isnan(number)


@fn("Number.ToText", 1, 3)
def to_text(number: Any, fmt: Any = None, culture: Any = None) -> Any:
    """Docs: the number as text; formats "D"/"F"/"N"/"E"/"G"/"P"/"X" with an optional precision (subset)."""
    if number is None:
        return None
    number = need(number, "number")
    if fmt is None or fmt in ("G", "g", "R", "r"):
        return format_number(number)
    m = re.fullmatch(r"([DdFfNnEeGgPpXx])(\d*)", fmt)
    if not m:
        raise expression_error(f"The format {show_quoted(fmt)} is not supported by this evaluator.", fmt)
    kind, digits = m.group(1), m.group(2)
    precision = int(digits) if digits else None
    k = kind.upper()
    if k == "D":
        return str(int(number)).zfill(precision or 0) if number >= 0 else "-" + str(-int(number)).zfill(precision or 0)
    if k == "F":
        return f"{number:.{2 if precision is None else precision}f}"
    if k == "N":
        return f"{number:,.{2 if precision is None else precision}f}"
    if k == "P":
        return f"{number * 100:,.{2 if precision is None else precision}f} %"
    if k == "E":
        text = f"{number:.{6 if precision is None else precision}E}"
        mantissa, exponent = text.split("E")
        return f"{mantissa}{kind}{exponent[0]}{exponent[1:].zfill(3)}"
    if k == "X":
        return format(int(number), "X" if kind == "X" else "x").zfill(precision or 0)
    return format_number(float(f"{number:.{precision}g}")) if precision else format_number(number)


@fn("Number.IntegerDivide", 2, 3)
def integer_divide(a: Any, b: Any, precision: Any = None) -> Any:
    """Docs: the integer part of a / b (truncated toward zero); null when either is null."""
    if a is None or b is None:
        return None
    a, b = need(a, "number"), need(b, "number")
    if b == 0:
        raise expression_error("We cannot divide by zero.", a)
    return (
        int(math.trunc(a / b))
        if isinstance(a, float) or isinstance(b, float)
        else int(abs(a) // abs(b)) * (1 if (a >= 0) == (b >= 0) else -1)
    )


@fn("Number.Mod", 2, 3)
def mod(a: Any, b: Any, precision: Any = None) -> Any:
    if a is None or b is None:
        return None
    a, b = need(a, "number"), need(b, "number")
    if b == 0:
        raise expression_error("We cannot divide by zero.", a)
    return math.fmod(a, b) if isinstance(a, float) or isinstance(b, float) else int(math.fmod(a, b))
