"""The one process harness: start a server (`python -m adapter serve` or azmlinfsrv) on a free local port, wait until
it answers, stop it. Used by the benchmark (`bench/servers.py`) and by the tests (`tests/targets.py`).

It lives here rather than under `tests/` because the benchmark must run without the test suite, and `bench` is a
package that mypy checks strictly; it is not part of `adapter`, so nothing of it ships with a deployment.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

import requests

ROOT = Path(__file__).resolve().parent.parent
#: Environment variables that configure the adapter or azmlinfsrv: left out when a server must see only its own.
CONFIG_PREFIXES = ("AML_", "AZUREML_", "SCORING_", "SERVICE_")


def free_port() -> int:
    """A port nothing listens on now (the OS picks it; another process could still take it before the server)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def environ_without(prefixes: tuple[str, ...] = CONFIG_PREFIXES) -> dict[str, str]:
    """This process's environment without the variables starting with `prefixes`."""
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


def azmlinfsrv_executable() -> str:
    # The venv's bin folder is not on PATH when the venv's python is run without activating it.
    return shutil.which("azmlinfsrv") or str(Path(sys.executable).parent / "azmlinfsrv")


class ServerProcess:
    """One server in a subprocess, listening on 127.0.0.1:`port`; its output goes to `log` (or nowhere)."""

    def __init__(
        self,
        name: str,
        command: list[str],
        *,
        port: int,
        cwd: Path | str,
        env: Mapping[str, str],
        log: Path | None = None,
    ) -> None:
        self.name = name
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.log = log
        if log is None:
            self.proc = subprocess.Popen(
                command, cwd=cwd, env=dict(env), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        else:
            with log.open("wb") as out:  # the child keeps its own copy of the descriptor
                self.proc = subprocess.Popen(command, cwd=cwd, env=dict(env), stdout=out, stderr=subprocess.STDOUT)

    def output(self) -> str:
        """The server's output so far, for an error message."""
        if self.log is None:
            return "(output not kept)"
        return self.log.read_text(errors="replace")

    def wait_ready(self, path: str = "/", deadline_s: float = 60, interval_s: float = 0.05) -> None:
        """Return once GET `path` answers 200. A server that exits or does not get there in time is stopped and
        RuntimeError carries its output, so a failed start never leaves a process behind."""
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited early with code {self.proc.returncode}:\n{self.output()}")
            try:
                if requests.get(self.base + path, timeout=1).status_code == 200:
                    return
            except (requests.ConnectionError, requests.Timeout):  # a gunicorn worker still booting holds the request
                pass
            time.sleep(interval_s)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer 200 on {path} within {deadline_s} s:\n{self.output()}")

    def stop(self) -> None:
        """SIGTERM (both servers shut down cleanly on it), SIGKILL after 10 s; safe to call twice."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def adapter_serve(
    env: Mapping[str, str], *, app_root: Path = ROOT, log: Path | None = None, port: int | None = None
) -> ServerProcess:
    """`python -m adapter serve` run from `app_root` (the folder holding function_app.py), not yet ready."""
    port = port or free_port()
    command = [sys.executable, "-m", "adapter", "serve", "--port", str(port)]
    return ServerProcess("adapter serve", command, port=port, cwd=app_root, env=env, log=log)


def azmlinfsrv(
    script: str, env: Mapping[str, str], *, app_root: Path, log: Path | None = None, port: int | None = None
) -> ServerProcess:
    """azmlinfsrv 1.5.1 (gunicorn, one worker) serving `script`, not yet ready. It runs in `app_root` because it
    resolves the entry script from its working directory."""
    port = port or free_port()
    command = [azmlinfsrv_executable(), "--entry_script", script, "--port", str(port)]
    return ServerProcess("azmlinfsrv", command, port=port, cwd=app_root, env=env, log=log)
