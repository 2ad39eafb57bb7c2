"""`/score` and `/`: the request pipeline around the entry script, answer for answer like azmlinfsrv."""

from __future__ import annotations

import logging

import azure.functions as func

from adapter.azureml.aml_response import FAILED_HEADER
from adapter.host_config import function_timeout_ms
from adapter.http.auth import authorize
from adapter.http.cors import CorsPolicy
from adapter.http.methods import INPUT_METHODS
from adapter.http.request_ids import with_request_ids
from adapter.http.request_log import Handler
from adapter.http.responses import (
    HTML,
    INTERNAL_ERROR,
    SCRIPT_ERROR,
    error_response,
    from_run_output,
    unavailable_response,
)
from adapter.paths import FUNCTION_APP_ROOT
from adapter.script import request_conversion as rc
from adapter.script.input_parsers import InputError
from adapter.script.lifecycle import Lifecycle, ScriptUnavailable
from adapter.script.output import in_invocation
from adapter.script.runner import Runner, RunnerBusy, ScoringTimeout
from adapter.settings import Settings

logger = logging.getLogger("adapter")


class ScoringService:
    """One per process: the settings, the entry script's lifecycle and the runner for `run()`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.lifecycle = Lifecycle(settings)
        host_limit = function_timeout_ms(FUNCTION_APP_ROOT)
        inline = host_limit is not None and settings.scoring_timeout_ms >= host_limit
        self.runner = Runner(settings.scoring_timeout_ms, settings.scoring_concurrency, inline=inline)
        self.cors = CorsPolicy(settings.cors_origins) if settings.cors_origins else None

    def respond(self, req: func.HttpRequest, handle: Handler, *, key_required: bool = False) -> func.HttpResponse:
        """Run a route's handler inside the HTTP policies, in order: CORS preflight (answered here, before auth
        and without the script), request ids, key check, the handler, then the CORS grant."""
        if self.cors is not None and self.cors.is_preflight(req):
            response = with_request_ids(req, self.cors.preflight)
        else:
            keys = self.settings.scoring_keys if key_required else ()
            response = with_request_ids(req, lambda r: authorize(r, keys) or handle(r))
        if self.cors is not None:
            self.cors.decorate(req, response)
        return response

    def score(self, req: func.HttpRequest) -> func.HttpResponse:
        try:
            script = self.lifecycle.imported()
            if not script.raw and req.method not in INPUT_METHODS:
                # No input to parse, so no need to run init(): OPTIONS is a plain 200, HEAD is refused.
                if req.method == "OPTIONS":
                    return func.HttpResponse("", headers={"Content-Type": HTML, FAILED_HEADER: "False"})
                return error_response(405, "Method not allowed")
            script = self.lifecycle.ready()
        except ScriptUnavailable as ex:
            return unavailable_response(ex.message, ex.retry_after)
        try:
            kwargs = script.parser(req)
        except InputError as ex:
            return error_response(ex.status, str(ex))
        if script.wants_headers:
            kwargs["request_headers"] = rc.flask_headers(req)
        try:
            # On a runner thread, run()'s log records need the handler thread's invocation to reach the host.
            run = script.run if self.runner.inline else in_invocation(script.run)
            output, elapsed_ms = self.runner.call(run, kwargs)
        except ScoringTimeout as ex:
            logger.error("run() timed out after %d ms", ex.timeout_ms)
            return error_response(500, str(ex), failed=True)
        except RunnerBusy as ex:
            logger.error("%s", ex)
            return unavailable_response(str(ex), self.settings.scoring_timeout_ms / 1000)
        except BaseException:  # whatever the script raises, the client gets JSON and the process lives on
            logger.exception("run() raised an exception")
            return error_response(500, SCRIPT_ERROR, failed=True)
        try:
            response = from_run_output(output)
        except BaseException:  # even a generator body raising SystemExit: JSON, and the process lives on
            logger.exception("run() returned a value that cannot be sent as JSON")
            return error_response(500, INTERNAL_ERROR)
        response.headers["x-ms-run-fn-exec-ms"] = f"{elapsed_ms:.3f}"
        return response
