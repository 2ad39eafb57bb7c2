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

from adapter import request_context
from adapter.azureml.aml_response import FAILED_HEADER
from adapter.errors import HttpError
from adapter.http import pipeline
from adapter.http.cors import CorsPolicy
from adapter.http.methods import GET_ROUTE_METHODS, SCORE_METHODS
from adapter.http.responses import (
    HTML,
    INTERNAL_ERROR,
    error_response,
    from_run_output,
    json_response,
)
from adapter.openapi import powerquery
from adapter.openapi.powerquery import PowerQueryError
from adapter.openapi.swagger import DEFAULT_VERSION, Documents, SwaggerNotFound, UserSwaggerError
from adapter.script import request_conversion
from adapter.script.entry_script import EntryScript
from adapter.script.scorer import Scorer, ScriptFailed
from adapter.settings import ConfigError, HttpSettings, Settings

logger = logging.getLogger("adapter")

NOT_FOUND = (
    "The requested URL was not found on the server. If you entered the URL manually please check your spelling "
    "and try again."
)
MISCONFIGURED = "The service is misconfigured; the function logs say how."
CHUNKED = (
    "Chunked request bodies do not reach Azure Functions: the host passes a body on only with a Content-Length. "
    "Send the request with a Content-Length header."
)
EXEC_MS_HEADER = "x-ms-run-fn-exec-ms"
TEXT = "text/plain; charset=utf-8"
#: The methods whose requests carry a body.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class Scoring:
    """The scoring half of a deployment, present when its script settings are valid: those settings, the `Scorer`
    that imports the entry script (an `EntryScript` once imported), runs `init()` once and calls `run()`, and the
    documents describing it."""

    def __init__(self, settings: Settings, scorer: Scorer, documents: Documents) -> None:
        self.settings = settings
        self.scorer = scorer
        self.documents = documents
        self._plan: powerquery.Plan | None = None
        self._plan_lock = threading.Lock()

    def powerquery_plan(self) -> powerquery.Plan:
        """What the Power Query function does, worked out once (only the URL differs between requests)."""
        with self._plan_lock:
            if self._plan is None:
                self._plan = powerquery.plan(self.settings, self.scorer.imported())
            return self._plan


class Deployment:
    def __init__(self, http: HttpSettings, scoring: Scoring | None, config_error: ConfigError | None = None) -> None:
        self.http = http
        self.scoring = scoring
        self.config_error = config_error
        cors = CorsPolicy(http.cors_origins) if http.cors_origins else None
        # Built once: the routes' policy stacks, outermost first (see adapter.http.pipeline).
        self.score = pipeline.build(self._score, methods=SCORE_METHODS, cors=cors, keys=http.scoring_keys)
        self.health = pipeline.build(self._health, methods=GET_ROUTE_METHODS, cors=cors, options=True)
        self.swagger = pipeline.build(self._swagger, methods=GET_ROUTE_METHODS, cors=cors, options=True, not_ready=True)
        self.powerquery = pipeline.build(
            self._powerquery, methods=GET_ROUTE_METHODS, cors=cors, options=True, not_ready=True
        )
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
            return cls(http, cls.scoring_for(Settings.from_env(env, http)))
        except ConfigError as ex:
            logger.error("Invalid configuration: %s", ex)
            return cls(http, None, ex)

    @staticmethod
    def scoring_for(settings: Settings) -> Scoring:
        scorer = Scorer(settings)
        return Scoring(settings, scorer, Documents(settings, scorer.imported))

    def warm_up(self, context: func.Context | None = None) -> None:
        """Import the script and run `init()` now (a warm-up trigger, a preload), so no request waits for it. A
        failure is logged and retried by the next request, as always; never raised. With the warm-up invocation's
        `context`, the threads doing it are tied to that invocation, as a request's are."""
        if self.scoring is None:
            return
        token = request_context.invocation.set(context)
        try:
            self.scoring.scorer.ready()
        except HttpError as ex:
            logger.warning("Warm-up: %s", ex.message)
        finally:
            request_context.invocation.reset(token)

    # The endpoints, each inside its policy stack (see __init__).

    def _scoring(self, *, detailed: bool) -> Scoring:
        if self.scoring is not None:
            return self.scoring
        message = f"Invalid configuration: {self.config_error}" if detailed else MISCONFIGURED
        raise HttpError(500, message)

    def _score(self, req: func.HttpRequest, context: func.Context | None) -> func.HttpResponse:
        scorer = self._scoring(detailed=True).scorer
        deadline = scorer.deadline()  # one wait in all for the import and init()
        script = scorer.imported(deadline)
        if script.parser.methods is not None and req.method not in script.parser.methods:
            return _no_input(req)  # nothing to parse, so no need to run init()
        if _body_dropped(req):  # only once the method says a body would be read, as azmlinfsrv would read it
            raise HttpError(411, CHUNKED)
        script = scorer.ready(deadline)
        try:
            return score_answer(scorer, script, req)
        except ScriptFailed as ex:
            logger.error("run() raised an exception", exc_info=ex.error)
            raise ex.detailed() if self.http.error_details else ex from None

    def _health(self, req: func.HttpRequest, context: func.Context | None) -> func.HttpResponse:
        """The liveness probe: alive as soon as the process is, without the entry script, even when misconfigured."""
        return func.HttpResponse("Healthy", headers={"Content-Type": HTML})

    def _swagger(self, req: func.HttpRequest, context: func.Context | None) -> func.HttpResponse:
        """`/swagger.json`: describes the API from the imported script, never running `init()` (no model load on a
        cold instance just to describe it). Anonymous: failures say only where to look."""
        scoring = self._scoring(detailed=False)
        try:
            # The wait for the import, bounded, before the documents' lock: requests never queue for it in turn.
            scoring.scorer.imported()
            return json_response(
                scoring.documents.get(request_conversion.query_args(req).get("version", DEFAULT_VERSION))
            )
        except SwaggerNotFound as ex:
            raise HttpError(404, str(ex)) from None
        except UserSwaggerError as ex:
            raise HttpError(500, str(ex)) from None

    def _powerquery(self, req: func.HttpRequest, context: func.Context | None) -> func.HttpResponse:
        """`/powerquery.pq`: the Power Query function for this script, with this app's scoring URL written in.
        Anonymous like `/swagger.json`, and like it built from the imported script without `init()`."""
        scoring = self._scoring(detailed=False)
        try:
            scoring.scorer.imported()  # the bounded wait, before the plan's lock (as for /swagger.json)
            plan = scoring.powerquery_plan()
        except PowerQueryError as ex:
            raise HttpError(404, f"There is no Power Query function for this script: {ex}") from None
        url = urlsplit(req.url)
        # `/score` beside this route, also when the route was asked for with a trailing slash.
        scoring_url = f"{url.scheme}://{url.netloc}{url.path.rstrip('/').rpartition('/')[0]}/score"
        return func.HttpResponse(powerquery.render(replace(plan, url=scoring_url)), headers={"Content-Type": TEXT})

    def _not_found(self, req: func.HttpRequest, context: func.Context | None) -> func.HttpResponse:
        return error_response(404, NOT_FOUND)


def _body_dropped(req: func.HttpRequest) -> bool:
    """A chunked request whose body the host dropped (it forwards one only with a Content-Length), on a method that
    carries one: GET, HEAD, OPTIONS and DELETE requests have no body to lose and are answered as usual."""
    chunked = "chunked" in req.headers.get("transfer-encoding", "").lower()
    return chunked and req.method in BODY_METHODS and not req.get_body()


def score_answer(scorer: Scorer, script: EntryScript, req: func.HttpRequest) -> func.HttpResponse:
    """The answer to a scoring request once the script is ready: `run()` called as /score calls it, its output
    turned into the response (behind the guard: an output that cannot be sent is the JSON 500, never a crash), with
    run()'s time in `x-ms-run-fn-exec-ms`. The one answer for `/score` and for `python -m adapter check`.

    Raises `HttpError` (a request `run()` cannot take, a timeout, a busy runner) for the caller's error answer, and
    `ScriptFailed` when `run()` raises, carrying the script's exception.
    """
    invocation = scorer.call(script, req)
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
