"""The Azure Functions front door: the functions `function_app.py` registers, holding the process's deployment.

`create_app()` registers the AML routes on a `func.FunctionApp`: `/score`, `/` (health), `/swagger.json`, the
Power Query function for Power BI (`/powerquery.pq`), a catch-all 404 in azmlinfsrv's words, and a warm-up trigger.
Importing this module and creating the app is cheap (the worker does it while indexing): the deployment, and with it
the entry script, inference-schema and numpy, is built on first use, once per process, unless SCORING_PRELOAD asks
for it to start right away in the background.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import azure.functions as func

from adapter.http.auth import host_auth_level
from adapter.http.methods import ALL_METHODS

if TYPE_CHECKING:
    from adapter.deployment import Deployment

logger = logging.getLogger("adapter")


class Functions:
    """The process's deployment, built on first use by `build` (default: `Deployment.from_env`)."""

    def __init__(self, build: Callable[[], Deployment] | None = None) -> None:
        self._build = build
        self._deployment: Deployment | None = None
        self._lock = threading.Lock()

    @property
    def deployment(self) -> Deployment:
        deployment = self._deployment
        if deployment is None:
            with self._lock:
                if self._deployment is None:
                    self._deployment = self._create()
                deployment = self._deployment
        return deployment

    def _create(self) -> Deployment:
        if self._build is not None:
            return self._build()
        from adapter.deployment import Deployment

        return Deployment.from_env()

    def preload(self) -> threading.Thread:
        """Build the deployment, import the script and run `init()` on a background thread, so the host's own
        start-up overlaps the model load; requests that come first wait for it as they would anyway."""
        thread = threading.Thread(target=lambda: self.deployment.warm_up(), name="adapter-preload", daemon=True)
        thread.start()
        return thread


def create_app(functions: Functions | None = None) -> func.FunctionApp:
    """The Function App with the AML routes, answered by `functions` (a new one, from the environment, by default)."""
    functions = functions or Functions()
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    # Every route takes every method: the adapter answers the ones a route refuses (405) as azmlinfsrv does, where
    # the host would send an empty 404.
    @app.route(route="score", methods=ALL_METHODS, auth_level=host_auth_level())
    def score(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
        return functions.deployment.score(req, context)

    @app.route(route="/", methods=ALL_METHODS)
    def health(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
        return functions.deployment.health(req, context)

    @app.route(route="swagger.json", methods=ALL_METHODS)
    def swagger(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
        return functions.deployment.swagger(req, context)

    @app.route(route="powerquery.pq", methods=ALL_METHODS)
    def powerquery(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
        return functions.deployment.powerquery(req, context)

    @app.route(route="{*path}", methods=ALL_METHODS)
    def not_found(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
        return functions.deployment.not_found(req, context)

    # Run by the platform when it adds an instance (plans with always-ready or prewarmed instances), before the
    # instance gets traffic: the model load happens there instead of in the first request.
    # It takes the invocation's context so that what the import and init() log reaches the host with its invocation
    # id (the host drops records without one), from whichever thread logs it, as for a request.
    @app.warm_up_trigger("warmup")
    def warmup(warmup, context: func.Context) -> None:  # type: ignore[no-untyped-def]  # as the platform docs show it
        functions.deployment.warm_up(context)

    if _preload_requested():
        functions.preload()
    return app


def _preload_requested() -> bool:
    from adapter.settings import ConfigError, flag

    try:
        return flag(os.environ, "SCORING_PRELOAD")
    except ConfigError as ex:
        logger.error("%s Not preloading.", ex)
        return False
