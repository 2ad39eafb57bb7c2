"""requirements.txt on each Python the Function App may run: azure-functions 1.x for 3.10-3.12, 2.x for 3.13+, both
lines able to import and index function_app.py, and `check --python` reporting a wheel (or its absence) per
requirement. These ask PyPI (pip's resolver, for Linux x86_64), which CI reaches; offline they skip, except in CI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from targets import CONFIG_PREFIXES, ROOT

from adapter.tools.check import wheels
from adapter.tools.check.report import Status

pytestmark = pytest.mark.slow


def resolved(requirements: Path, python: str) -> wheels.Resolution:
    resolution = wheels.resolve(requirements, python)
    if resolution.offline and os.environ.get("CI") != "true":
        pytest.skip(f"PyPI is not reachable: {resolution.unknown}")
    assert resolution.unknown is None and resolution.error is None, resolution
    return resolution


def version_of(resolution: wheels.Resolution, name: str) -> str:
    return next(wheel.version for _, wheel in resolution.direct if wheel is not None and wheel.name == name)


@pytest.mark.parametrize(("python", "major"), [("3.11", "1"), ("3.12", "1"), ("3.13", "2")])
def test_requirements_pick_the_azure_functions_line_of_each_python(python: str, major: str) -> None:
    """pip evaluates markers for the Python running it, so the lines are filtered for `python` first, as pip on the
    Function App's own Python does (`wheels.target_lines`); then pip's resolver picks the versions."""
    resolution = resolved(ROOT / "requirements.txt", python)
    assert version_of(resolution, "azure-functions").split(".")[0] == major
    assert resolution.missing == ()


INDEX = """\
import json, sys
import azure.functions as func
import function_app
from adapter.http.responses import from_run_output

response = from_run_output({"Results": [1]})
print(json.dumps({
    "version": func.__version__,
    "functions": sorted(
        (f.get_function_name(), json.loads(f.get_raw_bindings()[0]).get("route", "-"))
        for f in function_app.app.get_functions()
    ),
    "answer": [response.status_code, response.get_body().decode(), response.headers["Content-Type"]],
}))
"""


def azure_functions_2(tmp_path: Path) -> Path:
    """The newest azure-functions 2.x wheel (pure Python, for 3.13+), unpacked into a folder for sys.path."""
    download = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--python-version", "3.13"]
        + ["--dest", str(tmp_path), "--retries", "1", "--timeout", "15", "azure-functions>=2,<3"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if download.returncode != 0 and os.environ.get("CI") != "true":
        pytest.skip(f"azure-functions 2.x cannot be downloaded: {download.stderr[-300:]}")
    assert download.returncode == 0, download.stderr
    (wheel,) = tmp_path.glob("azure_functions-2.*.whl")
    target = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    return target


@pytest.mark.parametrize("line", ["1", "2"])
def test_function_app_imports_and_indexes_with_each_azure_functions_line(tmp_path: Path, line: str) -> None:
    """azure-functions 2.x requires Python 3.13 but is pure Python: on this 3.11 it goes first on sys.path, which is
    enough to import and index function_app.py with it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(CONFIG_PREFIXES)}
    if line == "2":
        env["PYTHONPATH"] = os.pathsep.join([str(azure_functions_2(tmp_path)), str(ROOT)])
    done = subprocess.run([sys.executable, "-c", INDEX], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["version"].split(".")[0] == line
    assert found["functions"] == [
        ["health", "/"],
        ["not_found", "{*path}"],
        ["powerquery", "powerquery.pq"],
        ["score", "score"],
        ["swagger", "swagger.json"],
        ["warmup", "-"],
    ]
    assert found["answer"] == [200, '{"Results": [1]}', "application/json"]


def test_a_requirement_without_a_wheel_fails_with_the_fix(tmp_path: Path) -> None:
    """numpy 1.26 predates Python 3.13 (wheels up to 3.12); docopt only ever published sources."""
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("requests>=2.31\nnumpy==1.26.4\ndocopt==0.6.2\n")
    resolution = resolved(requirements, "3.13")
    outcome = wheels.check(requirements, "3.13")
    assert outcome.status is Status.FAIL
    assert outcome.summary == (
        "2 requirement(s) without a wheel for Python 3.13 on Linux x86_64: the remote build would fail"
    )
    numpy, docopt, requests = outcome.details
    assert numpy.startswith("numpy==1.26.4: no wheel for Python 3.13 on Linux x86_64 (these versions have one: ")
    assert numpy.endswith("); pin a version with a wheel for 3.13 or pick Python 3.12.")
    assert docopt == (
        "docopt==0.6.2: no wheel for Python 3.13 on Linux x86_64 (no release has one); pin a version with a wheel "
        "for 3.13 or pick Python 3.12."
    )
    assert requests.startswith("requests>=2.31: requests 2.")
    assert [m.requirement for m in resolution.missing] == ["numpy==1.26.4", "docopt==0.6.2"]
    # On 3.12 numpy 1.26.4 has its wheel.
    requirements.write_text("numpy==1.26.4\n")
    assert version_of(resolved(requirements, "3.12"), "numpy") == "1.26.4"


def test_check_reports_the_wheels_for_the_python_asked_for() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(CONFIG_PREFIXES)}
    done = subprocess.run(
        [sys.executable, "-m", "adapter", "check", "--python", "3.13"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if "could not reach the package index" in done.stdout and os.environ.get("CI") != "true":
        pytest.skip("PyPI is not reachable")
    assert done.returncode == 0, done.stdout
    assert "wheels for Python 3.13 ............. ok      7 requirements and " in done.stdout
    assert "azure-functions>=2.0,<3: azure-functions 2." in done.stdout
    assert "environment from requirements.txt .. ok      Python 3.13 with requirements.txt only" in done.stdout
