"""Cold start to first answer, above the entry script's own floor, for `python -m adapter serve` (with and without
SCORING_PRELOAD) and azmlinfsrv.

Every measurement is wall time from starting a process to the first answer, taken by this process:

- floor: a fresh interpreter that imports score.py, runs `init()` and one `run()` on the request body, and says so
  on stdout. No server can answer sooner, so whatever a server takes beyond it is the server's own cost.
- adapter / adapter-preload / azmlinfsrv: the server process started, then a client that polls POST /score from
  that moment (a refused connection is retried after 5 ms) until a 200 whose JSON equals the floor's answer.

The four run in one round per repeat, in an order rotated every repeat, so that the load of a shared machine falls
on all of them alike; "above floor" is taken per round, then the median over rounds.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from . import harness, servers

ROOT = servers.ROOT
MEASUREMENTS = ("floor", "adapter", "adapter-preload", "azmlinfsrv")
#: Longest any one start may take before the benchmark gives up (a broken set-up, not a slow machine).
DEADLINE_S = 180.0
POLL_INTERVAL_S = 0.005

# Run with `python -c` so the floor pays for nothing but the interpreter, the script and the JSON it must read and
# write: a decorated run() gets the body's top-level keys as arguments (as both servers call it), an undecorated one
# the body as text. The answer comes on a marked line: the script may print too.
MARK = "bench-floor-answer: "
FLOOR_CODE = f"""
MARK = {MARK!r}
import importlib.util, json, os, sys
root, script, body_path, raw = sys.argv[1:]
sys.path.insert(0, root)
spec = importlib.util.spec_from_file_location("score", os.path.join(root, script))
module = importlib.util.module_from_spec(spec)
sys.modules["score"] = module
spec.loader.exec_module(module)
module.init()
with open(body_path, encoding="utf-8") as f:
    body = f.read()
answer = module.run(body) if raw == "raw" else module.run(**json.loads(body))
sys.stdout.write(MARK + json.dumps(answer) + "\\n")
sys.stdout.flush()
"""


@dataclass(frozen=True)
class App:
    name: str
    root: Path
    script: str
    model_dir: Path
    body: bytes
    #: An undecorated run(data), which gets the body as text.
    raw: bool


def sample_app() -> App:
    """The bundled sample at the repository root: inference-schema, numpy and pandas, a numpy model file."""
    return App("sample", ROOT, "score.py", ROOT / "models" / "iris-classifier" / "1", servers.SAMPLE_BODY, False)


def sklearn_app(folder: Path) -> App:
    """bench/scripts/sklearn_iris.py as `score.py` in `folder`, beside a small pickled scikit-learn pipeline.

    The model is fitted here, during set-up and outside every timing, on the iris data scikit-learn ships."""
    from joblib import dump
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    features, target = load_iris(return_X_y=True)
    model = make_pipeline(StandardScaler(), RandomForestClassifier(n_estimators=50, random_state=0))
    model.fit(features, target)
    shutil.copyfile(servers.SCRIPTS / "sklearn_iris.py", folder / "score.py")
    model_dir = folder / "models" / "sklearn-iris" / "1"
    model_dir.mkdir(parents=True)
    dump(model, model_dir / "model.pkl")
    return App("sklearn", folder, "score.py", model_dir, b'{"data": [[5.1, 3.5, 1.4, 0.2]]}', True)


@contextmanager
def apps() -> Iterator[tuple[App, ...]]:
    with tempfile.TemporaryDirectory(prefix="bench-coldstart-") as tmp:
        yield sample_app(), sklearn_app(Path(tmp))


def floor(app: App) -> tuple[float, Any]:
    """Seconds from process start to run()'s answer in a bare interpreter, and that answer."""
    with tempfile.NamedTemporaryFile("wb", suffix=".json", delete=False) as body:
        body.write(app.body)
    env = _env(app)
    command = [sys.executable, "-c", FLOOR_CODE, str(app.root), app.script, body.name, "raw" if app.raw else "kwargs"]
    try:
        started = time.perf_counter()
        proc = subprocess.Popen(command, cwd=app.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert proc.stdout is not None
        line = ""
        for raw in proc.stdout:
            if raw.startswith(MARK.encode()):
                line = raw.decode()[len(MARK) :]
                break
        elapsed = time.perf_counter() - started
        proc.stdout.close()
        if proc.wait(DEADLINE_S) != 0 or not line:
            raise RuntimeError(f"the floor run of {app.name} failed (exit code {proc.returncode})")
    finally:
        Path(body.name).unlink()
    return elapsed, json.loads(line)


def first_answer(app: App, server: str, expected: Any) -> float:
    """Seconds from starting `server` (adapter, adapter-preload or azmlinfsrv) to its first 200 from /score."""
    env = _env(app)
    if server == "adapter-preload":
        env["SCORING_PRELOAD"] = "true"
    last = "no answer"
    started = time.perf_counter()
    process = (
        harness.azmlinfsrv(app.script, env, app_root=app.root) if server == "azmlinfsrv" else harness.adapter_serve(env)
    )
    proc, url = process.proc, process.base + "/score"
    try:
        while time.perf_counter() - started < DEADLINE_S:
            if proc.poll() is not None:
                raise RuntimeError(f"{server} exited with {proc.returncode} before answering ({app.name})")
            try:
                reply = requests.post(url, data=app.body, headers={"Content-Type": "application/json"}, timeout=60)
            except requests.ConnectionError:
                time.sleep(POLL_INTERVAL_S)
                continue
            if reply.status_code == 200:
                elapsed = time.perf_counter() - started
                if reply.json() != expected:
                    raise RuntimeError(f"{server} answered {reply.text[:200]!r}, the script alone {expected!r}")
                return elapsed
            last = f"{reply.status_code} {reply.text[:200]}"
            time.sleep(POLL_INTERVAL_S)
        raise RuntimeError(f"{server} gave no 200 within {DEADLINE_S:.0f} s ({app.name}); last: {last}")
    finally:
        process.stop()


def measure(repeats: int, warm_up: bool = True) -> dict[str, dict[str, list[float]]]:
    """Per app, seconds per repeat for the floor and each server. `warm_up` first runs each once, untimed, so that
    no repeat pays for compiling bytecode or a cold page cache."""
    results: dict[str, dict[str, list[float]]] = {}
    with apps() as all_apps:
        for app in all_apps:
            series: dict[str, list[float]] = {name: [] for name in MEASUREMENTS}
            _, expected = floor(app)  # untimed: gives the answer every server must match
            if warm_up:
                for name in MEASUREMENTS[1:]:
                    first_answer(app, name, expected)
            for repeat in range(repeats):
                shift = repeat % len(MEASUREMENTS)
                for name in MEASUREMENTS[shift:] + MEASUREMENTS[:shift]:
                    if name == "floor":
                        seconds, answer = floor(app)
                        if answer != expected:
                            raise RuntimeError(f"run() of {app.name} answered {answer!r}, then {expected!r}")
                    else:
                        seconds = first_answer(app, name, expected)
                    series[name].append(seconds)
            results[app.name] = series
    return results


def _env(app: App) -> dict[str, str]:
    """What the script sees of its deployment, the same for the floor and both servers."""
    env = harness.environ_without()
    env.update(AML_APP_ROOT=str(app.root), AZUREML_ENTRY_SCRIPT=app.script, AZUREML_MODEL_DIR=str(app.model_dir))
    return env
