"""The one way to call the entry script's `run()`: its arguments from the request, on the runner, timed.

Used by the `/score` endpoint and by `python -m adapter check`, so what check reports is what `/score` does. Knows
nothing of responses: it returns what `run()` returned, or raises an `HttpError` that says what the client gets.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import azure.functions as func

from adapter import host_config
from adapter.errors import HttpError
from adapter.paths import FUNCTION_APP_ROOT
from adapter.script import request_conversion
from adapter.script.entry_script import EntryScript
from adapter.script.lifecycle import Lifecycle, ScriptUnavailable
from adapter.script.output import in_invocation
from adapter.script.runner import Runner, RunnerBusy, ScoringTimeout
from adapter.settings import Settings

logger = logging.getLogger("adapter")

SCRIPT_ERROR = "An unexpected error occurred in scoring script. Check the logs for more info."


@dataclass(frozen=True)
class Invocation:
    output: Any
    elapsed_ms: float


class Scorer:
    """One deployment's entry script: its lifecycle (import once, `init()` once) and the runner for `run()`."""

    def __init__(self, settings: Settings, *, function_app_root: Path = FUNCTION_APP_ROOT) -> None:
        self.settings = settings
        self.lifecycle = Lifecycle(settings)
        # When the host stops an invocation before our timeout could fire, a runner thread buys nothing.
        host_limit = host_config.function_timeout_ms(function_app_root)
        inline = host_limit is not None and settings.scoring_timeout_ms >= host_limit
        self.runner = Runner(settings.scoring_timeout_ms, settings.scoring_concurrency, inline=inline)

    def deadline(self) -> float:
        """When a request arriving now stops waiting for the script: pass it to both `imported` and `ready`."""
        return self.lifecycle.deadline()

    def imported(self, deadline: float | None = None) -> EntryScript:
        """The script imported and analysed, without `init()`; `HttpError` 503 while it cannot be."""
        try:
            return self.lifecycle.imported(deadline)
        except ScriptUnavailable as ex:
            raise HttpError(503, ex.message, retry_after=ex.retry_after) from None

    def ready(self, deadline: float | None = None) -> EntryScript:
        """The script with `init()` done; `HttpError` 503 while it cannot be."""
        try:
            return self.lifecycle.ready(deadline)
        except ScriptUnavailable as ex:
            raise HttpError(503, ex.message, retry_after=ex.retry_after) from None

    def call(self, script: EntryScript, req: func.HttpRequest) -> Invocation:
        """`run()` with the arguments the request makes (`InputError` when it cannot), timed.

        Raises `HttpError` for a timeout (500, failed) or a runner stuck behind timed-out calls (503), and
        `ScriptFailed` with the script's own exception when `run()` raises.
        """
        kwargs = script.parser(req)
        if script.wants_headers:
            kwargs["request_headers"] = request_conversion.flask_headers(req)
        run = script.run if self.runner.inline else in_invocation(script.run)
        try:
            output, elapsed_ms = self.runner.call(run, kwargs)
        except ScoringTimeout as ex:
            logger.error("run() timed out after %d ms", ex.timeout_ms)
            raise HttpError(500, str(ex), failed=True) from None
        except RunnerBusy as ex:
            logger.error("%s", ex)
            raise HttpError(503, str(ex), retry_after=self.settings.scoring_timeout_ms / 1000) from None
        except BaseException as ex:  # whatever the script raises, the client gets JSON and the process lives on
            raise ScriptFailed(ex) from ex
        return Invocation(output, elapsed_ms)


class ScriptFailed(HttpError):
    """`run()` raised: azmlinfsrv's 500 with the failed flag. `error` is the script's exception, for the logs, and
    for the message when the deployment shows error details."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(500, SCRIPT_ERROR, failed=True)
        self.error = error

    def detailed(self) -> HttpError:
        """The same answer with the exception's own message (never its traceback), for callers without logs."""
        return HttpError(500, f"{SCRIPT_ERROR} {type(self.error).__name__}: {self.error}", failed=True)
