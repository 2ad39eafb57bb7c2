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
    # the host would send an empty 404. Only `/score` may need a Functions key.
    for name, route, auth_level in (
        ("score", "score", host_auth_level()),
        ("health", "/", None),
        ("swagger", "swagger.json", None),
        ("powerquery", "powerquery.pq", None),
        ("not_found", "{*path}", None),
    ):
        app.route(route=route, methods=ALL_METHODS, auth_level=auth_level)(_endpoint(functions, name))

    # It takes the invocation's context so that what the import and init() log reaches the host with its invocation
    # id (the host drops records without one), from whichever thread logs it, as for a request.
    @app.warm_up_trigger("warmup")
    def warmup(warmup, context: func.Context) -> None:  # type: ignore[no-untyped-def]  # as the platform docs show it
        functions.deployment.warm_up(context)

    if _preload_requested():
        functions.preload()
    return app


def _endpoint(functions: Functions, name: str) -> Callable[[func.HttpRequest, func.Context], func.HttpResponse]:
    """The function the worker indexes as `name`: the deployment's endpoint of that name, built on first use."""

    def endpoint(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
        handler: Callable[[func.HttpRequest, func.Context], func.HttpResponse] = getattr(functions.deployment, name)
        return handler(req, context)

    endpoint.__name__ = endpoint.__qualname__ = name  # the function's name on the platform
    return endpoint


def _preload_requested() -> bool:
    from adapter.settings import ConfigError, flag

    try:
        return flag(os.environ, "SCORING_PRELOAD")
    except ConfigError as ex:
        logger.error("%s Not preloading.", ex)
        return False
