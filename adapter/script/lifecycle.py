"""The entry script's life in one process: imported on first need, `init()` exactly once, retried after failure.

azmlinfsrv exits when `init()` fails; a Function App must stay up, answer 503 and try again after a back-off
(doubling, up to a minute) so a transient failure (storage, network) heals without a restart.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from adapter.script import entry_script
from adapter.script.entry_script import EntryScript
from adapter.settings import Settings

logger = logging.getLogger("adapter")

T = TypeVar("T")
MAX_RETRY_MS = 60_000
MODEL_LISTING_LIMIT = 200


class ScriptUnavailable(Exception):
    """Import or `init()` failed; `retry_after` is how many seconds until the next attempt."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class Lifecycle:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._import_lock = threading.Lock()
        self._init_lock = threading.Lock()
        self._imported: EntryScript | None = None
        self._ready: EntryScript | None = None
        self._failure: str | None = None
        self._failures = 0
        self._retry_at = 0.0

    def imported(self) -> EntryScript:
        """The script imported and analysed, without running `init()`."""
        script = self._imported
        if script is None:
            with self._import_lock:
                if self._imported is None:
                    self._imported = self._attempt("import", lambda: entry_script.load(self.settings))
                script = self._imported
        return script

    def ready(self) -> EntryScript:
        """The script with `init()` done; concurrent first callers wait for the one that runs it."""
        script = self._ready
        if script is not None:
            return script
        with self._init_lock:
            if self._ready is None:
                script = self.imported()
                self._attempt("init()", script.init)
                self._ready = script
                logger.info("Entry script %s is ready", self.settings.entry_script.name)
            return self._ready

    def _attempt(self, stage: str, action: Callable[[], T]) -> T:
        wait = self._retry_at - time.monotonic()
        if self._failure is not None and wait > 0:
            raise ScriptUnavailable(self._failure, wait)
        try:
            result = action()
        except KeyboardInterrupt:
            raise
        except BaseException as ex:  # a failing script (even sys.exit) must never take the process down
            self._record_failure(stage, ex)
            raise ScriptUnavailable(self._failure or "", self._retry_at - time.monotonic()) from None
        self._failure, self._failures = None, 0
        return result

    def _record_failure(self, stage: str, ex: BaseException) -> None:
        delay_ms = min(self.settings.init_retry_ms * 2**self._failures, MAX_RETRY_MS)
        self._failures += 1
        self._retry_at = time.monotonic() + delay_ms / 1000
        name = self.settings.entry_script.name
        detail = str(ex) if isinstance(ex, entry_script.ScriptError) else f"{type(ex).__name__}: {ex}"
        self._failure = (
            f"The entry script {name} failed in {stage}: {detail}. "
            f"Retrying in {delay_ms / 1000:g} s; the function logs have the traceback."
        )
        logger.error("Entry script %s failed in %s", name, stage, exc_info=ex)
        if stage == "init()" and self.settings.model_dir is not None:
            _log_model_listing(self.settings.model_dir)


def _log_model_listing(model_dir: Path) -> None:
    if not model_dir.exists():
        logger.error("AZUREML_MODEL_DIR %s does not exist", model_dir)
        return
    logger.info("Model folder contents:")
    entries = sorted(model_dir.rglob("*"))
    for entry in itertools.islice(entries, MODEL_LISTING_LIMIT):
        depth = len(entry.relative_to(model_dir).parts)
        logger.info("%s%s%s", "    " * depth, entry.name, "/" if entry.is_dir() else "")
    if len(entries) > MODEL_LISTING_LIMIT:
        logger.info("Output truncated: first %d entries shown.", MODEL_LISTING_LIMIT)
