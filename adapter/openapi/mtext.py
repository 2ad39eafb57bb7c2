"""Power Query (M) literals written from Python values: text, records, lists, identifiers and comments, each safe
whatever a schema holds (quotes, `#(`, line breaks, control characters)."""

from __future__ import annotations

import math
import re
from typing import Any

_CONTROL_ESCAPES = {"\r": "#(cr)", "\n": "#(lf)", "\t": "#(tab)"}
#: M's keywords (Power Query M language specification, "Keywords and predefined identifiers"): never a bare name.
KEYWORDS = frozenset(
    "and as each else error false if in is let meta not null or otherwise section shared then true try type".split()
)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def text(value: str) -> str:
    """A text literal: `"` doubled, `#(` escaped, control and line-breaking characters as escapes, so no name from
    a schema can end the literal or the line."""
    out = []
    for i, char in enumerate(value):
        if char == "#" and value.startswith("(", i + 1):
            out.append("#(#)")  # `#(` starts an escape: write the `#` itself as one
        elif char == '"':
            out.append('""')
        elif char in _CONTROL_ESCAPES:
            out.append(_CONTROL_ESCAPES[char])
        elif ord(char) < 32 or 127 <= ord(char) < 160 or char in "\u2028\u2029":
            out.append(f"#({ord(char):04X})")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def name(value: str) -> str:
    """A field name for a record literal or a field access: always the quoted form, `#"..."`."""
    return "#" + text(value)


def value(item: Any) -> str:
    """A JSON value as an M literal: records with quoted field names, lists, text, numbers, logicals, null.
    Callers bound the nesting first (`powerquery` refuses examples nested past its limit)."""
    if item is None:
        return "null"
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, int):
        return str(item)
    if isinstance(item, float):
        return repr(item) if math.isfinite(item) else "null"
    if isinstance(item, str):
        return text(item)
    if isinstance(item, dict):
        return "[" + ", ".join(f"{name(str(k))} = {value(v)}" for k, v in item.items()) + "]"
    if isinstance(item, (list, tuple)):
        return "{" + ", ".join(value(v) for v in item) + "}"
    return text(str(item))


def text_list(values: tuple[str, ...] | list[str]) -> str:
    return "{" + ", ".join(text(v) for v in values) + "}"


def identifier(wanted: str, taken: set[str]) -> str:
    """A bare M identifier for `wanted` (a function parameter's name), not a keyword and not in `taken`: other
    characters become `_`."""
    candidate = re.sub(r"[^A-Za-z0-9_]", "_", wanted) or "_"
    if not _IDENTIFIER.fullmatch(candidate):
        candidate = "_" + candidate
    while candidate in KEYWORDS or candidate in taken:
        candidate += "_"
    return candidate


def comment(line: str) -> str:
    """Text safe inside a `//` comment: nothing that ends the line."""
    return re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", " ", line)
