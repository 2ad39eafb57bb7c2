"""The three ways a test can reach a score script: azmlinfsrv (the oracle), our functions called in-process with
`func.HttpRequest` objects, and our functions over HTTP through `python -m adapter serve`."""

from __future__ import annotations

import functools
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import azure.functions as func
import requests

from adapter.hosting.routing import RouteTable

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


class _Process(HttpTarget):
    proc: subprocess.Popen[bytes]
    log: Path

    def wait_ready(self, health_path: str = "/", deadline_s: float = 60) -> None:
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{type(self).__name__} exited early:\n{self.log.read_text()}")
            try:
                if requests.get(self.base + health_path, timeout=1).status_code == 200:
                    return
            except (requests.ConnectionError, requests.Timeout):  # a gunicorn worker still booting holds the request
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{type(self).__name__} did not start:\n{self.log.read_text()}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Reference(_Process):
    """azmlinfsrv 1.5.1 (gunicorn, one worker) serving the script."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.log = log
        exe = shutil.which("azmlinfsrv") or str(Path(sys.executable).parent / "azmlinfsrv")
        full_env = {**os.environ, **env}
        self.proc = subprocess.Popen(
            [exe, "--entry_script", env["AZUREML_ENTRY_SCRIPT"], "--port", str(port)],
            cwd=env["AML_APP_ROOT"],
            env=full_env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        self.wait_ready()


class Serve(_Process):
    """`python -m adapter serve` on a free port."""

    def __init__(
        self, env: dict[str, str], log: Path, app_root: Path = ROOT, health_path: str = "/", clean: bool = False
    ) -> None:
        """`clean`: start from an environment without any adapter configuration, so only `env` and the app's
        local.settings.json configure it."""
        self.log = log
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        base_env = {k: v for k, v in os.environ.items() if not (clean and k.startswith(CONFIG_PREFIXES))}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "adapter", "serve", "--port", str(port)],
            cwd=app_root,
            env={**base_env, **env},
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        self.wait_ready(health_path)


@functools.cache
def function_app_routes() -> RouteTable:
    """`function_app`'s routes, indexed once per process as the worker does (indexing twice is refused)."""
    from adapter import host_config

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import function_app

    return RouteTable.from_app(function_app.app, host_config.route_prefix(ROOT))


class InProcess:
    """`function_app`'s functions called directly with `func.HttpRequest` objects, as the worker calls them."""

    def __init__(self, env: dict[str, str]) -> None:
        from adapter.http import handlers

        # The adapter's whole configuration comes from `env`: nothing left over from another target.
        self._saved_env = {k: v for k, v in os.environ.items() if k.startswith(CONFIG_PREFIXES)}
        self._saved_cwd = os.getcwd()
        for key in self._saved_env:
            del os.environ[key]
        os.environ.update(env)
        handlers.reset()
        self.routes = function_app_routes()

    def request(self, request: Request) -> func.HttpRequest:
        from adapter.hosting import wire

        # The headers `requests` adds over HTTP, so all targets see the same client.
        headers = {**requests.utils.default_headers(), "Host": "localhost:7071", **request.headers}
        if request.body:
            headers["Content-Length"] = str(len(request.body))
        # Built as `serve` builds it from the same parts: the host's conversion, in one place.
        return wire.build_request(request.method, request.target, headers.items(), request.body, ("localhost", 7071))

    def send(self, request: Request, timeout: float = 30) -> Reply:
        resolved = self.routes.resolve(request.method, request.path)
        assert resolved is not None, request.path
        response = resolved[0].handler(self.request(request))
        headers: dict[str, str] = {}
        for name, value in response.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        body = b"" if request.method == "HEAD" else response.get_body()
        return Reply(response.status_code, headers, body)

    def stop(self) -> None:
        from adapter.http import handlers

        handlers.reset()
        for key in [k for k in os.environ if k.startswith(CONFIG_PREFIXES)]:
            del os.environ[key]
        os.environ.update(self._saved_env)
        os.chdir(self._saved_cwd)


UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
