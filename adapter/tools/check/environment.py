"""The environment Azure will build: `requirements.txt` alone, installed for the Function App's Python, in a virtual
environment of its own, so "ready to publish" means "works with only what requirements.txt installs".

Built once and cached (keyed by the lines installed, the interpreter and the installer's kind), under the user's
cache folder (`$XDG_CACHE_HOME/aml-functions-adapter/environments`, or `ADAPTER_CHECK_CACHE`), never in the app folder,
which is published. uv builds it in seconds when it is installed (`pip install uv`); otherwise the new
environment's own pip does, more slowly.

Nothing here builds or runs a package's code: installs are binary only (uv `--no-build`, pip
`--only-binary=:all:`), and only named requirements reach the installer, run in an empty folder of its own. Option
lines (`-e DIR`, `--no-binary`), direct URLs other than wheels, local paths and names of archives (`pkg.tgz`) are left
out, and said so: each could make an installer run a build backend, which is the package's code.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from adapter.tools.check import wheels

CACHE_VARIABLE = "ADAPTER_CHECK_CACHE"
INSTALL_TIMEOUT_S = 1200
READY = "ready.json"
#: Variables that would let the developer's environment into the target one.
LEAKING = (
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "PYTHONSAFEPATH",
    "PYTHONUSERBASE",
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
)
ERROR_LINES = 12


class BuildFailed(Exception):
    def __init__(self, summary: str, *details: str) -> None:
        super().__init__(summary)
        self.summary = summary
        self.details = details


@dataclass(frozen=True)
class Interpreter:
    path: str
    #: `3.11`: the version it is.
    version: str


@dataclass
class Built:
    python: Path
    interpreter: Interpreter
    installer: str
    cached: bool
    seconds: float
    #: Lines of requirements.txt not installed, with why.
    left_out: list[str] = field(default_factory=list)


def cache_root() -> Path:
    chosen = os.environ.get(CACHE_VARIABLE)
    if chosen:
        return Path(chosen).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "aml-functions-adapter" / "environments"


def find_interpreter(version: str) -> Interpreter | None:
    """A local CPython `version`: this one, a pyenv one (`~/.pyenv/versions/3.1x.*`), or `python3.1x` on PATH."""
    if wheels.default_python() == version:
        return Interpreter(sys.executable, version)
    pyenv = os.environ.get("PYENV_ROOT") or os.path.join(os.path.expanduser("~"), ".pyenv")
    found = sorted(
        glob.glob(os.path.join(pyenv, "versions", f"{version}.*", "bin", f"python{version}")),
        key=lambda p: [int(n) if n.isdigit() else 0 for n in re.split(r"[.]", p.split("versions/")[1].split("/")[0])],
    )
    candidates = [*reversed(found), shutil.which(f"python{version}")]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return Interpreter(candidate, version)
    return None


def uv_command() -> list[str] | None:
    """uv, on PATH or installed in this Python (`pip install uv`)."""
    found = shutil.which("uv")
    if found:
        return [found]
    try:
        import uv  # type: ignore[import-not-found, import-untyped, unused-ignore]

        return [str(uv.find_uv_bin())]
    except (ImportError, FileNotFoundError, AttributeError):
        return None


def key(lines: list[str], interpreter: Interpreter, installer: str) -> str:
    text = json.dumps([lines, _full_version(interpreter), sys.platform, os.uname().machine, installer])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def build(requirements: Path, python: str, *, use_uv: bool | None = None) -> Built:
    """The environment for `requirements` on Python `python` (cached). Raises `BuildFailed`."""
    interpreter = find_interpreter(python)
    if interpreter is None:
        interpreter = Interpreter(sys.executable, wheels.default_python())
    lines, left_out = wheels.installable(requirements, interpreter.version)
    uv = uv_command() if use_uv in (None, True) else None
    if use_uv and uv is None:
        raise BuildFailed("uv is not installed", "python -m pip install uv")
    installer = "uv" if uv else "pip"
    folder = cache_root() / f"py{interpreter.version}-{installer}-{key(lines, interpreter, installer)}"
    venv_python = folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    started = time.perf_counter()
    folder.parent.mkdir(parents=True, exist_ok=True)
    with _locked(folder.with_name(folder.name + ".lock")):
        if (folder / READY).is_file() and venv_python.exists():
            return Built(venv_python, interpreter, installer, True, time.perf_counter() - started, left_out)
        shutil.rmtree(folder, ignore_errors=True)  # a build cut short
        listed = folder.with_name(folder.name + ".txt")
        listed.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        try:
            if uv:
                _run([*uv, "venv", "--quiet", "--python", interpreter.path, str(folder)], "creating the environment")
                _run(
                    [*uv, "pip", "install", "--python", str(venv_python), "--no-build", "-r", str(listed)],
                    "installing requirements.txt",
                )
            else:
                _run([interpreter.path, "-m", "venv", str(folder)], "creating the environment")
                pip = [str(venv_python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input"]
                _run([*pip, "--only-binary=:all:", "-r", str(listed)], "installing requirements.txt")
        except BuildFailed:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        finally:
            listed.unlink(missing_ok=True)
        (folder / READY).write_text(json.dumps({"lines": lines, "python": interpreter.path}), encoding="utf-8")
    return Built(venv_python, interpreter, installer, False, time.perf_counter() - started, left_out)


def clean_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """The process environment for the target environment's Python: nothing of the developer's Python leaks in."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if k not in LEAKING}
    env["PYTHONNOUSERSITE"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def _run(command: list[str], doing: str) -> None:
    env = clean_environment()
    env.pop("PIP_REQUIRE_VIRTUALENV", None)
    try:
        # In an empty folder of its own: an installer looks for path-like requirements in the folder it runs in,
        # which would otherwise be wherever check was started (the app, with the deployment's code in it).
        with tempfile.TemporaryDirectory(prefix="adapter-install-") as scratch:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, env=env, cwd=scratch
            )
    except subprocess.TimeoutExpired:
        raise BuildFailed(f"{doing} took more than {INSTALL_TIMEOUT_S} s") from None
    except OSError as ex:
        raise BuildFailed(f"{doing} could not start: {ex}") from None
    if done.returncode != 0:
        raise BuildFailed(f"{doing} failed", *_error_lines(done.stderr + done.stdout))


def _error_lines(output: str) -> list[str]:
    lines = [line.rstrip() for line in output.splitlines() if line.strip() and "Resolved" not in line]
    wanted = [line for line in lines if re.search(r"error|because|no matching|no wheels|not satisf", line, re.I)]
    return (wanted or lines)[-ERROR_LINES:]


def _full_version(interpreter: Interpreter) -> str:
    if interpreter.path == sys.executable:
        return sys.version
    return os.path.realpath(interpreter.path)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One build of a given environment at a time (two checks at once wait for each other)."""
    try:
        import fcntl
    except ImportError:  # Windows: no lock, and two checks at once may build the same environment twice
        yield
        return
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
