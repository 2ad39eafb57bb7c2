"""One deployment: the entry script, its settings, its documents and the HTTP policies in front of it, built once
per process by `Deployment.from_env()`.

One process serves one deployment, as one AML container serves one: the entry script's import, `init()`, working
directory and `AZUREML_MODEL_DIR` belong to the process. The endpoints here are what each route does; every route
runs inside the ordered policy stack of `adapter.http.pipeline`, built once from the HTTP settings. A broken script
configuration is not a special path: the endpoints that need the script raise it as an error, which the stack
answers like any other (with its details only past auth, on `/score`).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import replace
from urllib.parse import urlsplit

import azure.functions as func

from adapter.azureml.aml_response import FAILED_HEADER
from adapter.errors import HttpError
from adapter.http import pipeline
from adapter.http.cors import CorsPolicy
from adapter.http.methods import GET_ROUTE_METHODS, SCORE_METHODS
from adapter.http.responses import (
    HTML,
    INTERNAL_ERROR,
    automatic_options,
    error_response,
    from_run_output,
    json_response,
)
from adapter.openapi import powerquery
from adapter.openapi.powerquery import PowerQueryError
from adapter.openapi.swagger import DEFAULT_VERSION, Documents, SwaggerNotFound, UserSwaggerError
from adapter.script import request_conversion as rc
from adapter.script.entry_script import EntryScript
from adapter.script.user_script import ScriptFailed, UserScript
from adapter.settings import ConfigError, HttpSettings, Settings

logger = logging.getLogger("adapter")

NOT_FOUND = (
    "The requested URL was not found on the server. If you entered the URL manually please check your spelling "
    "and try again."
)
MISCONFIGURED = "The service is misconfigured; the function logs say how."
SCRIPT_NOT_READY = "The entry script is not ready yet; the function logs say why."
CHUNKED = (
    "Chunked request bodies do not reach Azure Functions: the host passes a body on only with a Content-Length. "
    "Send the request with a Content-Length header."
)
EXEC_MS_HEADER = "x-ms-run-fn-exec-ms"
TEXT = "text/plain; charset=utf-8"


class Script:
    """The script's half of a deployment, present when its settings are valid."""

    def __init__(self, settings: Settings, user_script: UserScript, documents: Documents) -> None:
        self.settings = settings
        self.user_script = user_script
        self.documents = documents
        self._plan: powerquery.Plan | None = None
        self._plan_lock = threading.Lock()

    def powerquery_plan(self) -> powerquery.Plan:
        """What the Power Query function does, worked out once (only the URL differs between requests)."""
        with self._plan_lock:
            if self._plan is None:
                self._plan = powerquery.plan(self.settings, self.user_script.imported())
            return self._plan


class Deployment:
    def __init__(self, http: HttpSettings, script: Script | None, config_error: ConfigError | None = None) -> None:
        self.http = http
        self.script = script
        self.config_error = config_error
        cors = CorsPolicy(http.cors_origins) if http.cors_origins else None
        # Built once: the routes' policy stacks, outermost first (see adapter.http.pipeline).
        self.score = pipeline.build(self._score, methods=SCORE_METHODS, cors=cors, keys=http.scoring_keys)
        self.health = pipeline.build(self._health, methods=GET_ROUTE_METHODS, cors=cors)
        self.swagger = pipeline.build(self._swagger, methods=GET_ROUTE_METHODS, cors=cors)
        self.powerquery = pipeline.build(self._powerquery, methods=GET_ROUTE_METHODS, cors=cors)
        self.not_found = pipeline.build(self._not_found, request_ids=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Deployment:
        """The deployment the environment (app settings, local.settings.json) describes; a bad setting is logged
        and answered on the routes that need it, never raised: the health probe keeps answering."""
        env = os.environ if env is None else env
        try:
            http = HttpSettings.from_env(env)
        except ConfigError as ex:
            logger.error("Invalid configuration: %s", ex)
            return cls(HttpSettings(), None, ex)
        try:
            return cls(http, cls.script_for(Settings.from_env(env)))
        except ConfigError as ex:
            logger.error("Invalid configuration: %s", ex)
            return cls(http, None, ex)

    @staticmethod
    def script_for(settings: Settings) -> Script:
        user_script = UserScript(settings)
        return Script(settings, user_script, Documents(settings, user_script.imported))

    def warm_up(self) -> None:
        """Import the script and run `init()` now (a warm-up trigger, a preload), so no request waits for it. A
        failure is logged and retried by the next request, as always; never raised."""
        if self.script is None:
            return
        try:
            self.script.user_script.ready()
        except HttpError as ex:
            logger.warning("Warm-up: %s", ex.message)

    # The endpoints, each inside its policy stack (see __init__).

    def _script(self, *, detailed: bool) -> Script:
        if self.script is not None:
            return self.script
        message = f"Invalid configuration: {self.config_error}" if detailed else MISCONFIGURED
        raise HttpError(500, message)

    def _score(self, req: func.HttpRequest, context: func.Context | None) -> func.HttpResponse:
        user_script = self._script(detailed=True).user_script
        if "chunked" in req.headers.get("transfer-encoding", "").lower() and not req.get_body():
            raise HttpError(411, CHUNKED)
        deadline = user_script.deadline()  # one wait in all for the import and init()
        script = user_script.imported(deadline)
        if script.parser.methods is not None and req.method not in script.parser.methods:
            return _no_input(req)  # nothing to parse, so no need to run init()
        script = user_script.ready(deadline)
        try:
            return score_answer(user_script, script, req)
        except ScriptFailed as ex:
            logger.error("run() raised an exception", exc_info=ex.error)
            raise ex.detailed() if self.http.error_details else ex from None

    def _health(self, req: func.HttpRequest, context: func.Context | None) -> func.HttpResponse:
        """The liveness probe: alive as soon as the process is, without the entry script, even when misconfigured."""
        if req.method == "OPTIONS":
            return automatic_options()
        return func.HttpResponse("Healthy", headers={"Content-Type": HTML})

    def _swagger(self, req: func.HttpRequest, context: func.Context | None) -> func.HttpResponse:
        """`/swagger.json`: describes the API from the imported script, never running `init()` (no model load on a
        cold instance just to describe it). Anonymous: failures say only where to look."""
        if req.method == "OPTIONS":
            return automatic_options()
        script = self._script(detailed=False)
        try:
            # The wait for the import, bounded, before the documents' lock: requests never queue for it in turn.
            script.user_script.imported()
            return json_response(script.documents.get(rc.query_args(req).get("version", DEFAULT_VERSION)))
        except SwaggerNotFound as ex:
            raise HttpError(404, str(ex)) from None
        except UserSwaggerError as ex:
            raise HttpError(500, str(ex)) from None
        except HttpError as ex:
            if ex.status != 503:
                raise
            raise HttpError(503, SCRIPT_NOT_READY, retry_after=ex.retry_after) from None

    def _powerquery(self, req: func.HttpRequest, context: func.Context | None) -> func.HttpResponse:
        """`/powerquery.pq`: the Power Query function for this script, with this app's scoring URL written in.
        Anonymous like `/swagger.json`, and like it built from the imported script without `init()`."""
        if req.method == "OPTIONS":
            return automatic_options()
        script = self._script(detailed=False)
        try:
            script.user_script.imported()  # the bounded wait, before the plan's lock (as for /swagger.json)
            plan = script.powerquery_plan()
        except PowerQueryError as ex:
            raise HttpError(404, f"There is no Power Query function for this script: {ex}") from None
        except HttpError as ex:
            if ex.status != 503:
                raise
            raise HttpError(503, SCRIPT_NOT_READY, retry_after=ex.retry_after) from None
        url = urlsplit(req.url)
        scoring_url = f"{url.scheme}://{url.netloc}{url.path.rpartition('/')[0]}/score"
        return func.HttpResponse(powerquery.render(replace(plan, url=scoring_url)), headers={"Content-Type": TEXT})

    def _not_found(self, req: func.HttpRequest, context: func.Context | None) -> func.HttpResponse:
        return error_response(404, NOT_FOUND)


def score_answer(user_script: UserScript, script: EntryScript, req: func.HttpRequest) -> func.HttpResponse:
    """The answer to a scoring request once the script is ready: `run()` called as /score calls it, its output
    turned into the response (behind the guard: an output that cannot be sent is the JSON 500, never a crash), with
    run()'s time in `x-ms-run-fn-exec-ms`. The one answer for `/score` and for `python -m adapter check`.

    Raises `HttpError` (a request `run()` cannot take, a timeout, a busy runner) for the caller's error answer, and
    `ScriptFailed` when `run()` raises, carrying the script's exception.
    """
    invocation = user_script.call(script, req)
    try:
        response = from_run_output(invocation.output)
    except BaseException:  # even a generator body raising SystemExit: JSON, and the process lives on
        logger.exception("run() returned a value that cannot be sent as an HTTP answer")
        return error_response(500, INTERNAL_ERROR)
    response.headers[EXEC_MS_HEADER] = f"{invocation.elapsed_ms:.3f}"
    return response


def _no_input(req: func.HttpRequest) -> func.HttpResponse:
    """OPTIONS and HEAD on a script that takes input only from GET and POST: azmlinfsrv's plain 200 and 405."""
    if req.method == "OPTIONS":
        return func.HttpResponse("", headers={"Content-Type": HTML, FAILED_HEADER: "False"})
    return error_response(405, "Method not allowed")
