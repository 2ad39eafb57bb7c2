"""The three ways a test can reach a score script: azmlinfsrv (the oracle), our functions called in-process with
`func.HttpRequest` objects, and our functions over HTTP through `python -m adapter serve`."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlencode

import azure.functions as func
import requests

from adapter.hosting.routing import RouteTable
from bench import harness

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = Path(__file__).resolve().parent / "scripts"
#: Environment variables that configure the adapter or the test scripts.
CONFIG_PREFIXES = ("AML_", "AZUREML_", "SCORING_", "SERVICE_", "INIT_", "IMPORT_MARKER")


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes

    def json(self) -> object:
        import json

        return json.loads(self.body)


@dataclass
class Request:
    method: str = "GET"
    path: str = "/score"
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def target(self) -> str:
        return self.path + ("?" + urlencode(self.query) if self.query else "")


def script_env(script: str, **extra: str) -> dict[str, str]:
    env = {"AML_APP_ROOT": str(SCRIPTS), "AZUREML_ENTRY_SCRIPT": script, "AZUREML_SOURCE_DIRECTORY": "srcdir"}
    env.update(extra)
    return env


free_port = harness.free_port
#: Called with the class of each subprocess target as it starts: tests/conftest.py adds a check that the running
#: test carries the marker that target needs, so a test starting azmlinfsrv cannot slip into the fast subset.
START_CHECKS: list[Callable[[type[HttpTarget]], None]] = []


def started(kind: type[HttpTarget]) -> None:
    for check in START_CHECKS:
        check(kind)


class HttpTarget:
    base: str

    def send(self, request: Request, timeout: float = 30) -> Reply:
        response = requests.request(
            request.method,
            self.base + request.target,
            headers=request.headers,
            data=request.body,
            timeout=timeout,
            allow_redirects=False,
        )
        return Reply(response.status_code, {k.lower(): v for k, v in response.headers.items()}, response.content)


P = TypeVar("P", bound="_Process")


class _Process(HttpTarget):
    """A server in a subprocess (`bench/harness.py`), started ready: a failed start raises with its output. Also a
    context manager that stops it, for fixtures: `with Serve(env, log) as server: yield server`."""

    """A server in a subprocess (`bench/harness.py`), started ready: a failed start raises with its output."""

    def __init__(self, server: harness.ServerProcess, log: Path, health_path: str = "/") -> None:
        self.server = server
        self.base = server.base
        self.proc = server.proc
        self.log = log
        server.wait_ready(health_path)

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self: P) -> P:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Reference(_Process):
    """azmlinfsrv 1.5.1 (gunicorn, one worker) serving the script."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        started(Reference)
        script, app_root = env["AZUREML_ENTRY_SCRIPT"], Path(env["AML_APP_ROOT"])
        super().__init__(harness.azmlinfsrv(script, {**os.environ, **env}, app_root=app_root, log=log), log)


class Serve(_Process):
    """`python -m adapter serve` on a free port."""

    def __init__(
        self, env: dict[str, str], log: Path, app_root: Path = ROOT, health_path: str = "/", clean: bool = False
    ) -> None:
        """`clean`: start from an environment without any adapter configuration, so only `env` and the app's
        local.settings.json configure it."""
        started(Serve)
        base_env = harness.environ_without(CONFIG_PREFIXES) if clean else dict(os.environ)
        super().__init__(harness.adapter_serve({**base_env, **env}, app_root=app_root, log=log), log, health_path)


def app_routes(app: object) -> RouteTable:
    """The routes of a Function App as the host would route them (host.json's prefix)."""
    from adapter import host_config

    return RouteTable.from_app(app, host_config.route_prefix(ROOT))


def function_request(
    method: str, target: str = "/score", headers: dict[str, str] | None = None, body: bytes = b""
) -> func.HttpRequest:
    """The `func.HttpRequest` a function gets for these parts, built by the one conversion `serve` uses."""
    from adapter.hosting import wire

    parts = {"Host": "localhost:7071", **(headers or {})}
    if body:
        parts["Content-Length"] = str(len(body))
    return wire.build_request(method, target, parts.items(), body, ("localhost", 7071))


class InProcess:
    """The functions `create_app()` registers (what `function_app.py` holds), for a deployment built from `env`,
    called directly with `func.HttpRequest` objects and a context, as the worker calls them."""

    def __init__(self, env: dict[str, str]) -> None:
        from adapter.deployment import Deployment
        from adapter.functions import Functions, create_app

        # The deployment is built from `env` alone. The scripts' own knobs (INIT_COUNTER_FILE...) are read by the
        # scripts from the process environment, so `env` goes there too, with nothing left from another target.
        self._saved_env = {k: v for k, v in os.environ.items() if k.startswith(CONFIG_PREFIXES)}
        self._saved_cwd = os.getcwd()
        for key in self._saved_env:
            del os.environ[key]
        os.environ.update(env)
        self.deployment = Deployment.from_env(env)
        self.routes = app_routes(create_app(Functions(lambda: self.deployment)))

    def request(self, request: Request) -> func.HttpRequest:
        from adapter.hosting import wire

        # The headers `requests` adds over HTTP, so all targets see the same client.
        headers = {**requests.utils.default_headers(), "Host": "localhost:7071", **request.headers}
        if request.body:
            headers["Content-Length"] = str(len(request.body))
        # Built as `serve` builds it from the same parts: the host's conversion, in one place.
        return wire.build_request(request.method, request.target, headers.items(), request.body, ("localhost", 7071))

    def send(self, request: Request, timeout: float = 30, context: func.Context | None = None) -> Reply:
        resolved = self.routes.resolve(request.method, request.path)
        assert resolved is not None, request.path
        response = resolved[0].call(self.request(request), context)
        headers: dict[str, str] = {}
        for name, value in response.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        body = b"" if request.method == "HEAD" else response.get_body()
        return Reply(response.status_code, headers, body)

    def stop(self) -> None:
        for key in [k for k in os.environ if k.startswith(CONFIG_PREFIXES)]:
            del os.environ[key]
        os.environ.update(self._saved_env)
        os.chdir(self._saved_cwd)


UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
