"""Make what the entry script prints reach the Functions log.

On Azure, output reaches the Functions log with the invocation it belongs to only as `logging` records, which the
Python worker forwards to the host. So the entry module gets its own `print` that writes stdout output to the
`adapter.score` logger, as azmlinfsrv sends `print()` to its `azmlinfsrv.print` logger; output to other files is
printed as usual.
"""

from __future__ import annotations

import builtins
import functools
import logging
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from adapter import request_context

logger = logging.getLogger("adapter.score")

F = TypeVar("F", bound=Callable[..., Any])


def script_print(
    *objects: object, sep: str | None = " ", end: str | None = "\n", file: Any = None, flush: bool = False
) -> None:
    """`print` for the entry script: one INFO record per call for stdout, the builtin for any other file."""
    if file is None or file is sys.stdout:
        logger.info((" " if sep is None else sep).join(map(str, objects)))
    else:
        builtins.print(*objects, sep=sep, end=end, file=file, flush=flush)


def in_invocation(fn: F) -> F:
    """`fn`, tied to the current request's invocation on whatever thread runs it.

    The Python worker tags a log record with the invocation id of the thread that writes it, and the host drops
    records without one; the documented way to tag another thread is `context.thread_local_storage`. Outside an
    invocation (tests, `check`, a preload) `fn` is returned as it is.
    """
    context = request_context.invocation.get()
    storage = getattr(context, "thread_local_storage", None)
    if context is None or storage is None:
        return fn
    invocation_id = context.invocation_id

    @functools.wraps(fn)
    def bound(*args: Any, **kwargs: Any) -> Any:
        storage.invocation_id = invocation_id
        try:
            return fn(*args, **kwargs)
        finally:
            storage.invocation_id = None

    return bound  # type: ignore[return-value]
