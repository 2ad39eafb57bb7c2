"""Binary.*, Text.FromBinary/ToBinary and TextEncoding.*."""

from __future__ import annotations

import base64
from typing import Any

from ..values import MBinary, MError, MList, expression_error
from . import LIBRARY, fn, need

ENCODINGS = {"Utf8": 65001, "Utf16": 1200, "Unicode": 1200, "BigEndianUnicode": 1201, "Ascii": 20127, "Windows": 1252}
LIBRARY.update({f"TextEncoding.{k}": v for k, v in ENCODINGS.items()})
CODECS = {65001: "utf-8", 1200: "utf-16-le", 1201: "utf-16-be", 20127: "ascii", 1252: "cp1252", 28591: "latin-1"}


def codec(encoding: Any) -> str:
    if encoding is None:
        return "utf-8"
    try:
        return CODECS[int(need(encoding, "number"))]
    except KeyError:
        raise expression_error(f"The encoding {encoding} is not supported by this evaluator.", encoding) from None


def binary(value: Any) -> MBinary:
    return need(value, "binary")  # type: ignore[no-any-return]


@fn("Binary.Buffer", 1)
def buffer(value: Any) -> Any:
    """Docs: buffers the binary value in memory. The buffered value is a new value: it does not keep the
    metadata of a Web.Contents response (read Value.Metadata from the response itself)."""
    if value is None:
        return None
    return MBinary(binary(value).data)


@fn("Binary.Length", 1)
def length(value: Any) -> Any:
    return None if value is None else len(binary(value).data)


@fn("Binary.FromText", 1, 2)
def from_text(text: Any, encoding: Any = None) -> Any:
    if text is None:
        return None
    if encoding in (None, 0):
        try:
            return MBinary(base64.b64decode(need(text, "text"), validate=True))
        except ValueError:
            raise MError("DataFormat.Error", "The input isn't valid Base64 text.", text) from None
    return MBinary(bytes.fromhex(need(text, "text")))


@fn("Binary.ToText", 1, 2)
def to_text(value: Any, encoding: Any = None) -> Any:
    if value is None:
        return None
    data = binary(value).data
    return base64.b64encode(data).decode() if encoding in (None, 0) else data.hex().upper()


@fn("Text.FromBinary", 1, 2)
def text_from_binary(value: Any, encoding: Any = None) -> Any:
    """Docs: decodes the binary with the encoding (UTF-8 by default); a UTF-8 byte order mark is skipped."""
    if value is None:
        return None
    data = binary(value).data
    name = codec(encoding)
    if name == "utf-8" and data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.decode(name, errors="replace")


@fn("Text.ToBinary", 1, 3)
def text_to_binary(text: Any, encoding: Any = None, include_bom: Any = None) -> Any:
    if text is None:
        return None
    name = codec(encoding)
    data = need(text, "text").encode(name)
    if include_bom:
        data = {"utf-8": b"\xef\xbb\xbf", "utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}.get(name, b"") + data
    return MBinary(data)


@fn("#binary", 1)
def hash_binary(value: Any) -> MBinary:
    if type(value) is str:
        return MBinary(base64.b64decode(value))
    return MBinary(bytes(int(need(b, "number")) for b in need(value, "list").values()))


@fn("Binary.ToList", 1)
def to_list(value: Any) -> MList:
    return MList(list(binary(value).data))
