"""Evaluate an M document: parse it and evaluate it in the standard library's environment."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from .library import load
from .nodes import Env, Node
from .parser import parse
from .values import MRecord, force


@lru_cache(maxsize=1)
def root() -> Env:
    library = dict(load())
    env = Env(library, None)
    library["#shared"] = MRecord(dict(library))
    return env


@lru_cache(maxsize=64)
def _parsed(text: str) -> Node:
    return parse(text)


def evaluate(text: str, names: dict[str, Any] | None = None) -> Any:
    """The value of the M expression `text` (forced; an M error raises `MError`). `names` adds bindings visible to
    the expression (as other queries of a Power BI file would be)."""
    env = root() if not names else Env(dict(names), root())
    return force(_parsed(text).ev(env))
