"""Logical.* functions."""

from __future__ import annotations

from typing import Any

from ..operators import show_quoted
from ..values import expression_error, kind_of
from . import fn


@fn("Logical.From", 1)
def from_(value: Any) -> Any:
    """Docs: null -> null; a logical itself; a number: 0 is false, others true; text "true"/"false"."""
    if value is None or type(value) is bool:
        return value
    kind = kind_of(value)
    if kind == "number":
        return value != 0
    if kind == "text":
        return from_text(value)
    raise expression_error(f"We cannot convert the value {show_quoted(value)} to type Logical.", value)


@fn("Logical.FromText", 1)
def from_text(text: Any) -> Any:
    if text is None:
        return None
    lowered = text.strip().lower() if type(text) is str else None
    if lowered in ("true", "false"):
        return lowered == "true"
    raise expression_error(f"We cannot convert the value {show_quoted(text)} to type Logical.", text)


@fn("Logical.ToText", 1)
def to_text(value: Any) -> Any:
    return None if value is None else ("true" if value else "false")
