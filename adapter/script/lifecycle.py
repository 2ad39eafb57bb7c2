"""The entry script's life in one process: imported on first need, `init()` exactly once, retried after failure.

azmlinfsrv exits when `init()` fails; a Function App must stay up, answer 503 and try again after a back-off
(doubling, up to a minute) so a transient failure (storage, network) heals without a restart. Each new attempt reads
the script from disk again, so a bug fixed in score.py heals too.

Import and `init()` run on a thread of their own, never on a request's: `init()` has no deadline (loading a model
takes what it takes), but a request waits for it at most SCORING_INIT_WAIT_MS, then gets a 503 "still starting"
with a Retry-After while `init()` goes on.
"""

from __future__ import annotations

import contextvars
import itertools
import logging
import threading
import time
from pathlib import Path

from adapter.script import entry_script
from adapter.script.entry_script import EntryScript
from adapter.script.output import in_invocation
from adapter.settings import Settings

logger = logging.getLogger("adapter")

MAX_RETRY_MS = 60_000
MODEL_LISTING_LIMIT = 200
#: Retry-After of a 503 "still starting": the next request waits for the script again, so this can be short.
STARTING_RETRY_S = 5
#: An exception's text beyond this is cut in the 503 message (the logs have all of it).
MAX_DETAIL_CHARS = 500


class ScriptUnavailable(Exception):
    """The entry script cannot answer yet. `failed`: its import or `init()` failed, and the next attempt (from disk)
    is in `retry_after` seconds; else it is still starting, and `retry_after` says when to come back."""

    def __init__(self, message: str, retry_after: float, *, failed: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.failed = failed


class _Attempt:
    """One try at importing the script and, if `init` (which waiters may set while it imports), running `init()`."""

    __slots__ = ("done", "init", "stage", "since", "failure")

    def __init__(self, init: bool) -> None:
        self.done = threading.Event()
        self.init = init
        self.stage = "import"
        self.since = time.monotonic()
        self.failure: str | None = None


class Lifecycle:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()  # guards everything below
        self._imported: EntryScript | None = None
        self._ready: EntryScript | None = None
        self._reimport = False  # init() failed: read the script from disk again before the next init()
        self._attempt: _Attempt | None = None
        self._failure: str | None = None
        self._failures = 0
        self._retry_at = 0.0

    def deadline(self) -> float:
        """When a request arriving now stops waiting for the script (`time.monotonic()` time). One request that calls
        both `imported()` and `ready()` passes them one deadline, so that it waits at most SCORING_INIT_WAIT_MS in
        all."""
        return time.monotonic() + self.settings.init_wait_ms / 1000

    def imported(self, deadline: float | None = None) -> EntryScript:
        """The script imported and analysed, without running `init()`."""
        script = self._imported
        return script if script is not None else self._wait(False, deadline)

    def ready(self, deadline: float | None = None) -> EntryScript:
        """The script with `init()` done; concurrent first callers wait for the one attempt that runs it."""
        script = self._ready
        return script if script is not None else self._wait(True, deadline)

    def _wait(self, init: bool, deadline: float | None) -> EntryScript:
        if deadline is None:
            deadline = self.deadline()
        while True:
            with self._lock:
                script = self._ready if init else self._imported
                if script is not None:
                    return script
                attempt = self._attempt
                if attempt is None:
                    wait = self._retry_at - time.monotonic()
                    if self._failure is not None and wait > 0:
                        raise ScriptUnavailable(self._failure, wait)
                    attempt = self._attempt = self._start(init)
                elif init:
                    attempt.init = True
            if not attempt.done.wait(max(deadline - time.monotonic(), 0)):
                raise ScriptUnavailable(self._starting(attempt), STARTING_RETRY_S, failed=False)
            if attempt.failure is not None:  # the attempt this request waited for failed: say so, start no other
                raise ScriptUnavailable(attempt.failure, max(self._retry_at - time.monotonic(), 0))

    def _start(self, init: bool) -> _Attempt:
        """Called with the lock held: a new attempt on its own thread, in this request's context and invocation (its
        log records reach the host with this invocation, its request id is this request's)."""
        attempt = _Attempt(init)
        body = in_invocation(self._run)
        thread = threading.Thread(
            target=contextvars.copy_context().run, args=(body, attempt), name="adapter-init", daemon=True
        )
        try:
            thread.start()
        except RuntimeError as ex:  # no thread to be had: not the script's fault, so no back-off
            self._attempt = None
            raise ScriptUnavailable(
                f"The entry script {self.settings.entry_script.name} cannot start yet: {ex}.",
                STARTING_RETRY_S,
                failed=False,
            ) from None
        return attempt

    def _run(self, attempt: _Attempt) -> None:
        name = self.settings.entry_script.name
        try:
            with self._lock:
                script = None if self._reimport else self._imported
            if script is None:
                script = entry_script.load(self.settings)
                with self._lock:
                    self._imported, self._reimport = script, False
                    if not attempt.init:
                        self._finish(attempt, None)
                        return
                    attempt.stage, attempt.since = "init()", time.monotonic()
            else:
                attempt.stage, attempt.since = "init()", time.monotonic()
            script.init()
            with self._lock:
                self._ready = script
                self._finish(attempt, None)
        except BaseException as ex:  # a failing script (even sys.exit or KeyboardInterrupt) must never end the process
            with self._lock:
                if attempt.stage == "import":
                    self._imported = None  # the script on disk does not import
                else:
                    self._reimport = True
                delay_ms = min(self.settings.init_retry_ms * 2**self._failures, MAX_RETRY_MS)
                self._failures += 1
                self._retry_at = time.monotonic() + delay_ms / 1000
                self._finish(attempt, _failure_message(name, attempt.stage, ex, delay_ms))
            logger.error("Entry script %s failed in %s", name, attempt.stage, exc_info=ex)
            if attempt.stage == "init()" and self.settings.model_dir is not None:
                _log_model_listing(self.settings.model_dir)
        else:
            logger.info("Entry script %s is ready", name)

    def _finish(self, attempt: _Attempt, failure: str | None) -> None:
        """Called with the lock held: the attempt's outcome, for its waiters and the next requests."""
        if failure is None:
            self._failures = 0
        self._failure = attempt.failure = failure
        self._attempt = None
        attempt.done.set()

    def _starting(self, attempt: _Attempt) -> str:
        running = "its import" if attempt.stage == "import" else attempt.stage
        return (
            f"The entry script {self.settings.entry_script.name} is still starting ({running} has been running "
            f"for {time.monotonic() - attempt.since:.0f} s); try again in {STARTING_RETRY_S} s."
        )


def _failure_message(name: str, stage: str, ex: BaseException, delay_ms: int) -> str:
    """One line: what failed, and when it is tried again."""
    text = " ".join(str(ex).split())
    detail = text if isinstance(ex, entry_script.ScriptError) else f"{type(ex).__name__}: {text}".rstrip(": ")
    if len(detail) > MAX_DETAIL_CHARS:
        detail = detail[: MAX_DETAIL_CHARS - 1] + "\u2026"
    return (
        f"The entry script {name} failed in {stage}: {detail.rstrip('.')}. "
        f"Retrying in {delay_ms / 1000:g} s, with {name} read again from disk; the function logs have the traceback."
    )


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
