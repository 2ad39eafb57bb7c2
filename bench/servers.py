"""Out-of-process measurements: cold start, HTTP load with wrk, and peak memory during an upload, for
`python -m adapter serve` and azmlinfsrv (gunicorn, one worker) started the same way on the same script."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import requests

from . import harness

ROOT = harness.ROOT
SCRIPTS = Path(__file__).resolve().parent / "scripts"
SAMPLE_BODY = (
    b'{"Inputs": {"data": [{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}]},'
    b' "GlobalParameters": {"method": "predict"}}'
)


def start(server: str, app_root: Path, script: str) -> harness.ServerProcess:
    """`server` ("adapter" or "azmlinfsrv") serving `script` of `app_root`, configured by nothing else."""
    env = harness.environ_without()
    env.update(AML_APP_ROOT=str(app_root), AZUREML_ENTRY_SCRIPT=script)
    if app_root == ROOT:  # the bundled sample: azmlinfsrv needs the model folder spelled out
        env["AZUREML_MODEL_DIR"] = str(ROOT / "models" / "iris-classifier" / "1")
    if server == "adapter":
        return harness.adapter_serve(env)
    return harness.azmlinfsrv(script, env, app_root=app_root)


@contextmanager
def running(server: str, app_root: Path, script: str) -> Iterator[tuple[str, psutil.Process]]:
    """The server, ready, with its base URL and the process that handles requests (gunicorn's worker)."""
    with start(server, app_root, script) as process:
        process.wait_ready(interval_s=0.02)
        main = psutil.Process(process.proc.pid)
        children = main.children()
        yield process.base, (children[0] if server == "azmlinfsrv" and children else main)


def cold_start(server: str) -> float:
    """Seconds from process start to the first successful /score answer, on the bundled sample."""
    started = time.perf_counter()
    with start(server, ROOT, "score.py") as process:
        while True:
            if process.proc.poll() is not None:
                raise RuntimeError(f"{server} exited with {process.proc.returncode}")
            try:
                reply = requests.post(
                    process.base + "/score",
                    data=SAMPLE_BODY,
                    headers={"Content-Type": "application/json"},
                    timeout=30,
                )
                if reply.status_code == 200:
                    return time.perf_counter() - started
            except requests.ConnectionError:
                pass
            time.sleep(0.005)


_LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0}


def load(base: str, connections: int, seconds: float) -> dict[str, float]:
    """wrk against POST /score with a small JSON body: requests/s and p50/p99 latency in seconds."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write('wrk.method = "POST"\nwrk.body = \'{"x": 1, "y": [1, 2, 3]}\'\n')
        lua.write('wrk.headers["Content-Type"] = "application/json"\n')
    try:
        out = subprocess.run(
            [
                "wrk",
                f"-t{min(2, connections)}",
                f"-c{connections}",
                f"-d{seconds}s",
                "--latency",
                "-s",
                lua.name,
                base + "/score",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(lua.name)
    latency = {f"p{p}": float(v) * _UNITS[u] for p, v, u in _LATENCY.findall(out)}
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, **latency, "non_2xx": float(errors.group(1)) if errors else 0.0}


def upload_peak_growth(process: psutil.Process, base: str, body_bytes: int) -> float:
    """Peak resident memory growth (bytes) of the serving process while it receives one multipart upload."""
    payload = os.urandom(body_bytes)
    requests.post(base + "/score", files={"file": ("warm.bin", b"x" * 1024)}, timeout=60)  # warm-up
    Path(f"/proc/{process.pid}/clear_refs").write_text("5")  # reset the peak (VmHWM) to the current size
    before = process.memory_info().rss
    reply = requests.post(base + "/score", files={"file": ("upload.bin", payload)}, timeout=120)
    if reply.status_code != 200 or reply.json() != {"file": body_bytes}:
        raise RuntimeError(f"upload failed: {reply.status_code} {reply.text[:200]}")
    peak = _vm_hwm(process.pid)
    return float(peak - before)


def _vm_hwm(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM")
