"""Drive the real Azure Functions Python worker (4.x) the way the Functions host drives it, over gRPC.

The test process plays the host: it serves the `FunctionRpc.EventStream` gRPC stream, starts
`python -m azure_functions_worker` pointed at it, and sends what the host sends: `WorkerInitRequest`,
`FunctionsMetadataRequest` (worker indexing of `function_app.py`), one `FunctionLoadRequest` per function, then an
`InvocationRequest` per HTTP request, with the `RpcHttp` built as the host's `ToRpcHttp` builds it (azure-functions-
host, `GrpcMessageConversionExtensions.cs`):

- header names lower-cased, repeated headers joined with `,` (ASP.NET `StringValues.ToString()`), empty values kept;
- the query map joins repeated keys with `,` and drops empty values; `url` keeps the raw query;
- the body is sent only when `Content-Length` > 0 (a chunked request arrives without one), as bytes (the worker
  asks for `RawHttpBodyBytes`);
- route parameters in `params`.

On the way back it does what the host does with the worker's `RpcHttp`: one value per header name, cookies
written from the structured `RpcHttpCookie`s the way ASP.NET Core's `Response.Cookies.Append` writes them (the
value through `Uri.EscapeDataString`, attributes lower-case, `path=/` by default), and no body for HEAD (Kestrel
sends none). Not modelled: the host's Functions keys (like `func start`, no key is checked), its body size limit
and its own 404/405 answers.

Two workers run Python function apps on Azure, and the harness drives either (`Worker`):
- the 4.x worker (`python -m azure_functions_worker`, Python 3.10-3.12), with its dependencies (grpcio 1.59,
  protobuf 4.25) from requirements-dev.txt, run by the test's own Python;
- the 3.13+ proxy worker (`python worker.py`), run by a Python 3.13 environment holding the app's requirements and
  `azure-functions-runtime`, its own grpcio/protobuf/uvloop installed into its folder as Core Tools ships them.
Neither is on PyPI (the host ships them): `../shared/functions-worker/` holds both, and `.ci/run` prepares them and
names them in AZURE_FUNCTIONS_WORKER_DIR, AZURE_FUNCTIONS_PROXY_WORKER_DIR and AZURE_FUNCTIONS_PROXY_PYTHON. The test
process plays the host with the 4.x worker's compiled protos (the same messages on the wire for both).
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, quote, urlsplit

ROOT = Path(__file__).resolve().parents[2]
#: Where the repository's neighbour `shared/functions-worker` lays both workers out as Core Tools does.
SHARED_WORKERS = ROOT.parent / "shared" / "functions-worker" / "python"
#: Where `.ci/run` prepares the 3.13 environment and proxy worker folder (gitignored).
CI_CACHE = ROOT / ".ci-cache"
#: The folder holding the `azure_functions_worker` package (4.x); the harness looks there first.
WORKER_DIR_ENV = "AZURE_FUNCTIONS_WORKER_DIR"
#: The 3.13+ proxy worker's folder (worker.py, proxy_worker/ and its grpcio/protobuf/uvloop) and the Python 3.13
#: that runs it (with requirements.txt and azure-functions-runtime installed).
PROXY_DIR_ENV = "AZURE_FUNCTIONS_PROXY_WORKER_DIR"
PROXY_PYTHON_ENV = "AZURE_FUNCTIONS_PROXY_PYTHON"
#: Environment variables that configure the adapter or the test scripts: the worker gets only the test's own.
CONFIG_PREFIXES = ("AML_", "AZUREML_", "SCORING_", "SERVICE_", "INIT_", "IMPORT_MARKER")
#: Seconds to wait for any one answer of the worker (the first invocation imports the script and runs init()).
REPLY_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Worker:
    """One real worker as the host starts it."""

    name: str  # "4.x" or "proxy"
    version: str
    folder: Path  # what the host points at: the worker's own folder
    python: str  # the interpreter the host runs it with
    protos: Path  # the 4.x worker's folder, whose compiled protos the test process (the host) speaks with

    @property
    def proxy(self) -> bool:
        return self.name == "proxy"

    @property
    def python_version(self) -> str:
        return _python_version(self.python)

    def command(self) -> list[str]:
        if self.proxy:
            return [self.python, str(self.folder / "worker.py")]
        return [self.python, "-m", "azure_functions_worker"]

    def __str__(self) -> str:
        return f"{self.name} worker {self.version} on Python {self.python_version}"


#: The workers tests run against, by parameter id.
WORKERS = ("4.x", "proxy")
#: What each worker found by `require_worker` is, by parameter id, for the test summary.
FOUND: dict[str, str] = {}


@functools.cache
def _python_version(python: str) -> str:
    if python == sys.executable:
        return f"{sys.version_info.major}.{sys.version_info.minor}"
    code = "import sys; print('%d.%d' % sys.version_info[:2])"
    return subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def default_worker_dir() -> Path:
    configured = os.environ.get(WORKER_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "aml-functions-adapter" / "azure-functions-worker"


def _worker_version(version_file: Path) -> str:
    match = re.search(r"VERSION\s*=\s*['\"]([^'\"]+)", version_file.read_text(encoding="utf-8"))
    return match.group(1) if match else "0"


def promised() -> bool:
    """A worker was promised (CI, or a worker named in the environment): a missing or broken one fails, never
    skips."""
    return any(os.environ.get(name) for name in (WORKER_DIR_ENV, PROXY_DIR_ENV, PROXY_PYTHON_ENV)) or any(
        os.environ.get(name, "").lower() in ("1", "true") for name in ("REQUIRE_FUNCTIONS_WORKER", "CI")
    )


def find_worker() -> tuple[Path | None, str]:
    """The folder to put on PYTHONPATH to run the 4.x worker, or None and why not."""
    candidates = [default_worker_dir()]
    if not os.environ.get(WORKER_DIR_ENV):
        candidates += [SHARED_WORKERS / "3.11" / "LINUX" / "X64", CI_CACHE / "worker-3.11"]
    spec = importlib.util.find_spec("azure_functions_worker")
    if spec is not None and spec.origin:
        candidates.append(Path(spec.origin).parent.parent)
    for folder in candidates:
        package = folder / "azure_functions_worker"
        if not (package / "protos" / "FunctionRpc_pb2.py").is_file() or not (package / "version.py").is_file():
            continue
        version = _worker_version(package / "version.py")
        if int(version.split(".")[0]) < 4:
            return None, f"the Functions Python worker in {folder} is {version}; the v2 programming model needs 4.x"
        try:
            import grpc  # noqa: F401
        except ImportError:
            return None, "grpcio is not installed (pip install -r requirements-dev.txt)"
        return folder, version
    return None, (
        "the Azure Functions Python worker 4.x is not installed: it is not published on PyPI (the host ships it). "
        f"Set {WORKER_DIR_ENV} to the folder holding `azure_functions_worker`, e.g. Core Tools' "
        "workers/python/3.11/LINUX/X64 or ../shared/functions-worker/python/3.11/LINUX/X64 (.ci/run does)"
    )


def find_proxy_worker() -> tuple[tuple[Path, str] | None, str]:
    """The 3.13+ proxy worker's folder (with its dependencies) and the Python 3.13 to run it, or None and why not."""
    folder = Path(os.environ.get(PROXY_DIR_ENV) or CI_CACHE / "proxy-worker").expanduser()
    python = os.environ.get(PROXY_PYTHON_ENV) or str(CI_CACHE / "py3.13" / "bin" / "python")
    how = "run .ci/run once (it prepares both), or see docs/platform.md"
    if not (folder / "worker.py").is_file() or not (folder / "proxy_worker" / "version.py").is_file():
        return None, f"the 3.13 proxy worker is not in {folder} ({PROXY_DIR_ENV}): {how}"
    if not (folder / "grpc").is_dir() or not (folder / "google" / "protobuf").is_dir():
        return None, f"the 3.13 proxy worker in {folder} lacks its grpcio/protobuf (pip install --target): {how}"
    if not Path(python).is_file():
        return None, f"no Python 3.13 environment at {python} ({PROXY_PYTHON_ENV}): {how}"
    return (folder, python), _worker_version(folder / "proxy_worker" / "version.py")


def require_worker(name: str = "4.x") -> Worker:
    """One of the two workers; skips the calling test when it is missing, and fails when one was promised
    (CI=true, a worker variable set, or `REQUIRE_FUNCTIONS_WORKER=1`) so a broken set-up is never a silent skip."""
    import pytest

    folder, reason = find_worker()
    if folder is not None and name == "proxy":
        found, reason = find_proxy_worker()
        if found is not None:
            worker = Worker("proxy", reason, found[0], found[1], protos=folder)
            FOUND[name] = str(worker)
            return worker
    elif folder is not None:
        worker = Worker("4.x", reason, folder, sys.executable, protos=folder)
        FOUND[name] = str(worker)
        return worker
    if promised():
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def _protos(worker: Path) -> Any:
    if str(worker) not in sys.path:
        sys.path.append(str(worker))  # after site-packages: the test process keeps its own packages first
    from azure_functions_worker import protos

    return protos


@dataclass
class Log:
    """One `RpcLog` as the host received it; the host attributes it to an invocation only through `invocation_id`."""

    level: str
    category: str
    message: str
    invocation_id: str
    exception: str = ""


class WorkerReply(NamedTuple):
    """What the host would send the client, and the log records it received for the invocation."""

    status: int
    headers: dict[str, str]  # lower-case names; repeated headers (Set-Cookie) joined with ", " as `requests` does
    body: bytes
    logs: list[Log]


@dataclass
class Function:
    name: str
    function_id: str
    route: str
    methods: list[str]
    auth_level: str
    trigger_param: str
    metadata: Any = field(repr=False)


@dataclass
class Invocation:
    """The raw exchange of one invocation: the `InvocationRequest` sent and the `InvocationResponse` received."""

    request: Any
    response: Any
    logs: list[Log]


def _route_regex(route: str) -> tuple[re.Pattern[str], int]:
    """An ASP.NET-style route template as a regex, with its precedence (literals first, catch-alls last)."""
    pattern = ""
    rank = 0
    for segment in [s for s in route.strip("/").split("/") if s]:
        catch_all = re.fullmatch(r"\{\*(\w+)\}", segment)
        param = re.fullmatch(r"\{(\w+)(?::[^}]*)?\??\}", segment)
        if catch_all:  # the rest of the path, possibly empty
            pattern += f"(?:/?(?P<{catch_all.group(1)}>.*))" if pattern else f"(?P<{catch_all.group(1)}>.*)"
            rank = 2
        elif param:
            pattern += ("/" if pattern else "") + f"(?P<{param.group(1)}>[^/]+)"
            rank = max(rank, 1)
        else:
            pattern += ("/" if pattern else "") + re.escape(segment)
    return re.compile(pattern, re.IGNORECASE), rank


def escape_data_string(value: str) -> str:
    """.NET's `Uri.EscapeDataString`: everything but RFC 3986 unreserved characters is percent-encoded (UTF-8)."""
    return quote(value, safe="-_.~")


def render_cookie(cookie: Any) -> str:
    """An `RpcHttpCookie` as the host writes it: `Response.Cookies.Append(name, value, CookieOptions)`."""
    from datetime import datetime, timezone

    parts = [f"{cookie.name}={escape_data_string(cookie.value)}"]
    if cookie.HasField("expires"):
        when = datetime.fromtimestamp(cookie.expires.value.seconds, tz=timezone.utc)
        parts.append("expires=" + when.strftime("%a, %d %b %Y %H:%M:%S GMT"))
    if cookie.HasField("max_age"):
        parts.append(f"max-age={int(cookie.max_age.value)}")
    # A present domain or path is written even when empty (SetCookieHeaderValue tests `!= null`); the worker
    # always sends both, "" when the cookie has none; CookieOptions.Path defaults to "/".
    if cookie.HasField("domain"):
        parts.append(f"domain={cookie.domain.value}")
    parts.append(f"path={cookie.path.value if cookie.HasField('path') else '/'}")
    if cookie.HasField("secure") and cookie.secure.value:
        parts.append("secure")
    same_site = {1: "lax", 2: "strict", 3: "none"}.get(int(cookie.same_site))
    if same_site:
        parts.append(f"samesite={same_site}")
    if cookie.HasField("http_only") and cookie.http_only.value:
        parts.append("httponly")
    return "; ".join(parts)


class FunctionsHost:
    """A stand-in for the Functions host around one real worker process serving one function app."""

    def __init__(
        self,
        app_root: Path,
        env: Mapping[str, str],
        log_file: Path,
        *,
        worker: Worker | None = None,
        route_prefix: str = "",
    ) -> None:
        import grpc

        self.worker = worker or require_worker()
        self.worker_dir = self.worker.folder
        self.protos = _protos(self.worker.protos)
        self.app_root = app_root.resolve()
        self.route_prefix = route_prefix.strip("/")
        self.log_file = log_file
        self.logs: list[Log] = []  # every RpcLog received, in order
        self._outbox: queue.Queue[Any] = queue.Queue()
        self._inbox: queue.Queue[Any] = queue.Queue()
        self._pending: dict[str, queue.Queue[Any]] = {}
        self._lock = threading.Lock()
        self._closed = False

        host = self

        class Servicer(self.protos.FunctionRpcServicer):  # type: ignore[name-defined,misc]
            def EventStream(self, request_iterator: Iterator[Any], context: Any) -> Iterator[Any]:  # noqa: N802
                threading.Thread(target=host._read, args=(request_iterator,), daemon=True).start()
                while True:
                    message = host._outbox.get()
                    if message is None:
                        return
                    yield message

        self._server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=4),
            options=[("grpc.max_receive_message_length", 2**31 - 1), ("grpc.max_send_message_length", 2**31 - 1)],
        )
        self.protos.add_FunctionRpcServicer_to_server(Servicer(), self._server)
        port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()

        self.request_id = str(uuid.uuid4())
        worker_id = str(uuid.uuid4())
        base_env = {k: v for k, v in os.environ.items() if not k.startswith(CONFIG_PREFIXES)}
        # The 4.x worker's folder goes on PYTHONPATH; the proxy's worker.py puts its own folder there itself.
        python_path = os.pathsep.join(p for p in (str(self.worker_dir), base_env.get("PYTHONPATH", "")) if p)
        for name in ("VIRTUAL_ENV", "PYTHONHOME", "CONTAINER_NAME"):
            base_env.pop(name, None)
        worker_env = {
            **base_env,
            "FUNCTIONS_WORKER_RUNTIME": "python",
            "FUNCTIONS_WORKER_RUNTIME_VERSION": self.worker.python_version,
            "FUNCTIONS_WORKER_DIRECTORY": str(self.worker_dir),
            "AzureWebJobsScriptRoot": str(self.app_root),
            "AzureWebJobsFeatureFlags": "EnableWorkerIndexing",
            "PYTHONUNBUFFERED": "1",
            **env,
            "PYTHONPATH": "" if self.worker.proxy else python_path,
        }
        if self.worker.proxy:
            worker_env["WEBSITE_INSTANCE_ID"] = "harness"  # started as on an App Service plan instance
        self._log_handle = log_file.open("wb")
        # The host starts the worker in the app root (RpcWorkerProcess: the script root is the working directory).
        self.process = subprocess.Popen(
            [
                *self.worker.command(),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workerId",
                worker_id,
                "--requestId",
                self.request_id,
                "--grpcMaxMessageLength",
                str(2**31 - 1),
            ],
            cwd=self.app_root,
            env=worker_env,
            stdout=self._log_handle,
            stderr=subprocess.STDOUT,
        )
        try:
            self._expect("start_stream")
            self.init_response = self._call(
                "worker_init_request",
                "worker_init_response",
                self.protos.WorkerInitRequest(
                    host_version="4.1037.0",
                    worker_directory=str(self.worker_dir),
                    function_app_directory=str(self.app_root),
                ),
            )
            self.metadata_response = self._call(
                "functions_metadata_request",
                "function_metadata_response",
                self.protos.FunctionsMetadataRequest(function_app_directory=str(self.app_root)),
            )
            if self.metadata_response.result.status != self.protos.StatusResult.Success:
                raise RuntimeError(f"indexing failed: {self.metadata_response.result.exception.message}")
            self.functions = [self._load(m) for m in self.metadata_response.function_metadata_results]
        except BaseException:
            self.stop()
            raise

    # -- the stream -------------------------------------------------------------------------------------------

    def _read(self, request_iterator: Iterator[Any]) -> None:
        try:
            for message in request_iterator:
                kind = message.WhichOneof("content")
                if kind == "rpc_log":
                    log = message.rpc_log
                    self.logs.append(
                        Log(
                            self.protos.RpcLog.Level.Name(log.level),
                            log.category,
                            log.message,
                            log.invocation_id,
                            log.exception.message if log.HasField("exception") else "",
                        )
                    )
                elif kind == "invocation_response":
                    with self._lock:
                        waiter = self._pending.pop(message.invocation_response.invocation_id, None)
                    if waiter is not None:
                        waiter.put(message.invocation_response)
                else:
                    self._inbox.put(message)
        except Exception:  # the stream ends when the worker exits or the server stops
            if self._closed or self._exited_soon():
                return  # a worker that died is reported by _expect, with its output, to the test that drove it
            raise

    def _exited_soon(self) -> bool:
        """Whether the worker process is gone (or goes within seconds): its stream breaks a moment before."""
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            return False
        return True

    def _send(self, **content: Any) -> None:
        self._outbox.put(self.protos.StreamingMessage(request_id=self.request_id, **content))

    def _expect(self, kind: str) -> Any:
        deadline = time.monotonic() + REPLY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the worker exited ({self.process.returncode}):\n{self.worker_output()}")
            try:
                message = self._inbox.get(timeout=0.2)
            except queue.Empty:
                continue
            if message.WhichOneof("content") == kind:
                return getattr(message, kind)
        raise TimeoutError(f"no {kind} from the worker:\n{self.worker_output()}")

    def _call(self, request_kind: str, response_kind: str, request: Any) -> Any:
        self._send(**{request_kind: request})
        return self._expect(response_kind)

    def worker_output(self) -> str:
        self._log_handle.flush()
        return self.log_file.read_text(errors="replace")

    # -- functions --------------------------------------------------------------------------------------------

    def _load(self, metadata: Any) -> Function:
        bindings = [json.loads(raw) for raw in metadata.raw_bindings]
        trigger = next(b for b in bindings if b["type"].lower().endswith("trigger"))
        loaded = self.protos.RpcFunctionMetadata()
        loaded.CopyFrom(metadata)
        loaded.directory = str(self.app_root)
        loaded.properties["worker_indexed"] = "True"
        response = self._call(
            "function_load_request",
            "function_load_response",
            self.protos.FunctionLoadRequest(function_id=metadata.function_id, metadata=loaded),
        )
        if response.result.status != self.protos.StatusResult.Success:
            raise RuntimeError(f"loading {metadata.name} failed: {response.result.exception.message}")
        return Function(
            name=metadata.name,
            function_id=metadata.function_id,
            route=trigger.get("route", metadata.name),
            methods=[m.upper() for m in trigger.get("methods") or []],
            auth_level=str(trigger.get("authLevel", "")).upper(),
            trigger_param=trigger["name"],
            metadata=metadata,
        )

    def resolve(self, method: str, path: str) -> tuple[Function, dict[str, str]] | None:
        """The function the host's router picks for a path: literal routes before parameters before catch-alls."""
        local = path.strip("/")
        if self.route_prefix:
            if local != self.route_prefix and not local.startswith(self.route_prefix + "/"):
                return None
            local = local[len(self.route_prefix) :].strip("/")
        best: tuple[int, Function, dict[str, str]] | None = None
        for function in self.functions:
            pattern, rank = _route_regex(function.route)
            match = pattern.fullmatch(local)
            if match and (not function.methods or method.upper() in function.methods):
                if best is None or rank < best[0]:
                    best = (rank, function, {k: v for k, v in match.groupdict().items() if v})
        return None if best is None else (best[1], best[2])

    def rpc_http(
        self, method: str, target: str, headers: Mapping[str, str] | list[tuple[str, str]], body: bytes | None
    ) -> Any:
        """The `RpcHttp` the host builds for a request (`ToRpcHttp`). `body=None` models a chunked request: the
        host forwards a body only when Content-Length is set and positive."""
        items = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
        names = {name.lower() for name, _ in items}
        if body and "content-length" not in names and "transfer-encoding" not in names:
            items.append(("Content-Length", str(len(body))))  # what any HTTP client sends with a body
        if "host" not in names:
            items.insert(0, ("Host", "localhost:7071"))
        joined: dict[str, str] = {}
        for name, value in items:
            key = name.lower()
            joined[key] = f"{joined[key]},{value}" if key in joined else value
        http = self.protos.RpcHttp(method=method.upper(), url=f"http://{joined['host']}{target}")
        for key, value in joined.items():
            http.headers[key] = value
        query: dict[str, str] = {}
        for key, value in parse_qsl(urlsplit(target).query, keep_blank_values=True):
            query[key] = f"{query[key]},{value}" if key in query else value
        for key, value in query.items():
            if value:
                http.query[key] = value
        length = joined.get("content-length", "")
        if body is not None and length.isdigit() and int(length) > 0:
            http.body.CopyFrom(self.protos.TypedData(bytes=body))
        return http

    def invoke_rpc(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str] | list[tuple[str, str]] | None = None,
        body: bytes | None = b"",
    ) -> Invocation:
        path = urlsplit(target).path
        resolved = self.resolve(method, path)
        if resolved is None:
            raise LookupError(f"no function serves {method} {path}")
        function, params = resolved
        http = self.rpc_http(method, target, headers or {}, body)
        for key, value in params.items():
            http.params[key] = value
        return self.call(function, self.protos.TypedData(http=http), f"{method} {target}")

    def call(self, function: Function, data: Any, what: str = "") -> Invocation:
        """One invocation of `function` with `data` (a `TypedData`) for its trigger, as the host sends it."""
        invocation_id = str(uuid.uuid4())
        request = self.protos.InvocationRequest(
            invocation_id=invocation_id,
            function_id=function.function_id,
            input_data=[self.protos.ParameterBinding(name=function.trigger_param, data=data)],
        )
        waiter: queue.Queue[Any] = queue.Queue()
        with self._lock:
            self._pending[invocation_id] = waiter
        self._send(invocation_request=request)
        deadline = time.monotonic() + REPLY_TIMEOUT_S
        while True:
            try:
                response = waiter.get(timeout=0.2)
                break
            except queue.Empty:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"no answer to {what or function.name}:\n{self.worker_output()}") from None
        # Logs are written to the stream before the invocation's response, so all of them are here by now.
        logs = [log for log in list(self.logs) if log.invocation_id == invocation_id]
        return Invocation(request, response, logs)

    def invoke(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str] | list[tuple[str, str]] | None = None,
        body: bytes | None = b"",
    ) -> WorkerReply:
        """One HTTP request through the worker: what the client would get, and the invocation's log records.
        A function that raises becomes the host's bare 500."""
        invocation = self.invoke_rpc(method, target, headers, body)
        response = invocation.response
        if response.result.status != self.protos.StatusResult.Success:
            return WorkerReply(500, {"content-length": "0"}, b"", invocation.logs)
        http = response.return_value.http
        reply_headers = {name.lower(): value for name, value in http.headers.items()}
        cookies = [render_cookie(cookie) for cookie in http.cookies]
        if cookies:
            reply_headers["set-cookie"] = ", ".join(cookies)
        kind = http.body.WhichOneof("data")
        data = getattr(http.body, kind) if kind else b""
        payload = data.encode() if isinstance(data, str) else bytes(data)
        if method.upper() == "HEAD":
            payload = b""
        return WorkerReply(int(http.status_code or 200), reply_headers, payload, invocation.logs)

    def warm_up(self) -> Invocation:
        """What the host does when it adds an instance: the warm-up trigger, before any request."""
        return self.call(self.function("warmup"), self.protos.TypedData(json="{}"), "warmup")

    def alive(self) -> bool:
        return self.process.poll() is None

    def __enter__(self) -> FunctionsHost:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def function(self, name: str) -> Function:
        return next(f for f in self.functions if f.name == name)

    def stop(self) -> None:
        self._closed = True
        self._outbox.put(None)
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._server.stop(grace=None)
        self._log_handle.close()
