"""Json.Document and Json.FromValue (learn.microsoft.com/powerquery-m/json-fromvalue: null/text/logical as JSON,
numbers as numbers with #infinity/#nan as null, lists as arrays, records as objects, tables as arrays of objects,
dates and times as ISO-8601 text, binary as base-64, types and functions an error)."""

from __future__ import annotations

import base64
import json
import math
from typing import Any

from ..operators import format_number
from ..values import MBinary, MError, MList, MRecord, MTable, expression_error, force, kind_of
from . import fn
from .binary import codec


def _encode(value: Any, out: list[str]) -> None:
    value = force(value)
    if type(value) is MError:
        raise value
    kind = kind_of(value)
    if kind == "null":
        out.append("null")
    elif kind == "logical":
        out.append("true" if value else "false")
    elif kind == "number":
        out.append("null" if isinstance(value, float) and not math.isfinite(value) else format_number(value))
    elif kind == "text":
        out.append(json.dumps(value, ensure_ascii=False))
    elif kind == "list":
        out.append("[")
        for i, item in enumerate(value.items):
            if i:
                out.append(",")
            _encode(item, out)
        out.append("]")
    elif kind == "record":
        out.append("{")
        for i, name in enumerate(value.fields):
            if i:
                out.append(",")
            out.append(json.dumps(name, ensure_ascii=False))
            out.append(":")
            _encode(value.get(name), out)
        out.append("}")
    elif kind == "table":
        _encode(MList([MRecord(dict(zip(value.columns, row, strict=False))) for row in value.rows]), out)
    elif kind in ("date", "datetime", "datetimezone", "time", "duration"):
        from .datetimes import to_text

        out.append(json.dumps(to_text(value)))
    elif kind == "binary":
        out.append(json.dumps(base64.b64encode(value.data).decode()))
    else:
        raise expression_error(f"We cannot convert a value of type {kind.title()} to JSON.", value)


@fn("Json.FromValue", 1, 2)
def from_value(value: Any, encoding: Any = None) -> MBinary:
    out: list[str] = []
    _encode(value, out)
    return MBinary("".join(out).encode(codec(encoding)))


def _to_m(value: Any) -> Any:
    if isinstance(value, dict):
        return MRecord({k: _to_m(v) for k, v in value.items()})
    if isinstance(value, list):
        return MList([_to_m(v) for v in value])
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _constant(name: str) -> Any:
    raise MError("DataFormat.Error", f"Invalid JSON primitive: {name}.")


@fn("Json.Document", 1, 2)
def document(source: Any, encoding: Any = None) -> Any:
    if isinstance(source, MBinary):
        data = source.data
        name = codec(encoding)
        if name == "utf-8" and data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        text = data.decode(name, errors="replace")
    elif type(source) is str:
        text = source
    else:
        raise expression_error("Json.Document takes text or binary.", source)
    try:
        parsed = json.loads(text, parse_constant=_constant)
    except json.JSONDecodeError as ex:
        if text.strip() == "":
            raise MError("DataFormat.Error", "We reached the end of the buffer.", text) from None
        if ex.msg == "Extra data":
            message = "We found extra characters at the end of the JSON input."
            raise MError("DataFormat.Error", message, text) from None
        raise MError(
            "DataFormat.Error", f"We found an unexpected character in the JSON input ({ex.msg}).", text
        ) from None
    return _to_m(parsed)


__all__ = ["MTable"]
