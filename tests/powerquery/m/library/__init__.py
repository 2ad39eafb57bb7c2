"""The standard library functions the evaluator knows, by M name (`LIBRARY`), each to Microsoft's documented
semantics (learn.microsoft.com/powerquery-m). Modules register themselves with `fn`; `load()` imports them all."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..operators import show_quoted, type_title
from ..values import MFunction, MType, expression_error, kind_of

LIBRARY: dict[str, Any] = {}


def fn(name: str, min_args: int, max_args: int | None = -1) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a Python function as the M library function `name` taking min_args..max_args arguments (None: any
    number, passed as one list)."""

    def register(f: Callable[..., Any]) -> Callable[..., Any]:
        most = min_args if max_args == -1 else max_args
        if most is None:
            invoke: Callable[[list[Any]], Any] = lambda args: f(args)  # noqa: E731
        else:
            invoke = lambda args: f(*args)  # noqa: E731
        params = [(f"p{i}", MType("any"), i >= min_args) for i in range(most if most is not None else min_args)]
        LIBRARY[name] = MFunction(name, invoke, min_args, most, MType("function", params=params, ret=MType("any")))
        return f

    return register


def need(value: Any, kind: str, what: str = "") -> Any:
    """`value` when it is of the primitive type `kind` ("number", "text"...), else Expression.Error as M words it."""
    if kind_of(value) == kind:
        return value
    raise expression_error(f"We cannot convert the value {show_quoted(value)} to type {type_title(MType(kind))}.")


def load() -> dict[str, Any]:
    from . import (  # noqa: F401  (each module registers its functions)
        binary,
        datetimes,
        errors,
        json_lib,
        list_lib,
        logical,
        number,
        record,
        table,
        text,
        values_lib,
        web,
    )

    return LIBRARY
