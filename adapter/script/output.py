"""Make what the entry script prints reach the Functions log.

On Azure, output reaches the Functions log with the invocation it belongs to only as `logging` records, which the
Python worker forwards to the host. So the entry module gets its own `print` that writes stdout output to the
`adapter.score` logger, as azmlinfsrv sends `print()` to its `azmlinfsrv.print` logger; output to other files is
printed as usual.
"""

from __future__ import annotations

import builtins
import logging
import sys
from collections.abc import Callable
from typing import Any, TypeVar

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
