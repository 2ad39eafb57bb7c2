"""Make what the entry script prints reach the Functions log.

On Azure, output reaches the Functions log with the invocation it belongs to only as `logging` records, which the
Python worker forwards to the host. So the entry module gets its own `print` that writes stdout output to the
`adapter.score` logger, as azmlinfsrv sends `print()` to its `azmlinfsrv.print` logger; output to other files is
printed as usual.

`run()` executes on a runner thread (see `adapter.script.runner`), and the worker drops records from threads it
cannot tie to an invocation (azure-functions-python-worker#1358). `in_invocation` carries the handler thread's
invocation id over, the way the worker's docs ask threads to (`context.thread_local_storage.invocation_id`).
"""

from __future__ import annotations

import builtins
import functools
import logging
import sys
from collections.abc import Callable
from typing import Any, TypeVar

logger = logging.getLogger("adapter.score")

F = TypeVar("F", bound=Callable[..., Any])

#: Where the Python worker (Python 3.7 to 3.12) keeps the invocation id of each of its threads; newer workers fall
#: back to the latest invocation for any thread, so nothing needs carrying over there.
_WORKER_DISPATCHER = "azure_functions_worker.dispatcher"


def script_print(
    *objects: object, sep: str | None = " ", end: str | None = "\n", file: Any = None, flush: bool = False
) -> None:
    """`print` for the entry script: one INFO record per call for stdout, the builtin for any other file."""
    if file is None or file is sys.stdout:
        logger.info((" " if sep is None else sep).join(map(str, objects)))
    else:
        builtins.print(*objects, sep=sep, end=end, file=file, flush=flush)


def in_invocation(fn: F) -> F:
    """`fn`, tied to the calling thread's invocation wherever it runs; `fn` itself outside the Python worker."""
    storage: Any = getattr(sys.modules.get(_WORKER_DISPATCHER), "_invocation_id_local", None)
    invocation_id = getattr(storage, "invocation_id", None)
    if invocation_id is None:
        return fn

    @functools.wraps(fn)
    def bound(*args: Any, **kwargs: Any) -> Any:
        storage.invocation_id = invocation_id
        try:
            return fn(*args, **kwargs)
        finally:
            storage.invocation_id = None

    return bound  # type: ignore[return-value]
