"""Does every requirement have a wheel for the Function App's Python on Linux x86_64?

The remote build after `func azure functionapp publish` installs requirements.txt on the Function App's Python, on
Linux x86_64; a requirement with no wheel there (an old pin that predates the Python version, an sdist-only
package) fails that build after the upload. pip's own resolver answers the question, asked for another Python and
platform: `pip install --dry-run --report --target --python-version --platform --only-binary=:all:`.

pip evaluates the environment markers of requirements.txt (`; python_version >= "3.13"`) for the Python running
pip, not for `--python-version`, so the lines are filtered here for the target Python first (with `packaging`, or
the copy pip vendors), then handed to pip.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapter.tools import archives
from adapter.tools.check.imports import logical_lines, normalize
from adapter.tools.check.report import Outcome

#: Debian 12 (glibc 2.36) is the base of the Functions Python images; pip accepts every manylinux tag up to it.
GLIBC_MINOR = 36
PLATFORMS = (
    *(f"manylinux_2_{minor}_x86_64" for minor in range(GLIBC_MINOR, 16, -1)),
    "manylinux2014_x86_64",
    "manylinux2010_x86_64",
    "manylinux1_x86_64",
    "linux_x86_64",
)
#: One retry, short timeouts: offline, the check should say so in seconds, not minutes.
PIP_OPTIONS = ("--retries", "1", "--timeout", "15", "--disable-pip-version-check", "--no-input")
TIMEOUT_S = 300
MAX_RUNS = 10
SHOWN_VERSIONS = 4
#: Libraries whose PyPI wheels for Linux are GPU builds, and the index of their CPU builds.
CPU_INDEXES = {
    "torch": "https://download.pytorch.org/whl/cpu",
    "torchvision": "https://download.pytorch.org/whl/cpu",
    "torchaudio": "https://download.pytorch.org/whl/cpu",
}
_NO_MATCH = re.compile(r"No matching distribution found for (.+)")
_FROM_VERSIONS = re.compile(r"Could not find a version that satisfies the requirement (.+?) \(from versions: (.*)\)")
_OFFLINE = (
    "NewConnectionError",
    "Failed to establish a new connection",
    "connection broken by",
    "Max retries exceeded",
    "Could not fetch URL",
    "Temporary failure in name resolution",
    "Name or service not known",
    "ProxyError",
    "ConnectTimeout",
    "Read timed out",
)
_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
#: Index options carry no code; every other option line (`-e DIR`, `--no-binary`) is left out of installs.
INDEX_OPTIONS = re.compile(r"(?:-i|--index-url|--extra-index-url)(?:\s*=\s*|\s+)(\S+)$")
_NAMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\s*(?:\[[^\]]*\])?\s*(?:[<>=!~(].*)?$")
_WHEEL_URL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\s*(?:\[[^\]]*\])?\s*@\s*https://\S+\.whl$")
#: Options pip reads in a requirements file whose value is a path relative to that file.
_PATH_OPTIONS = ("-c", "--constraint")


@dataclass(frozen=True)
class Wheel:
    name: str
    version: str
    file: str


@dataclass(frozen=True)
class Missing:
    requirement: str
    #: Versions that do have a wheel for this Python and platform (pip's "from versions"), newest last.
    versions: tuple[str, ...]
    #: A dependency of a requirement, not a line of requirements.txt.
    dependency: bool = False


@dataclass(frozen=True)
class Resolution:
    python: str
    #: Each line of requirements.txt kept for this Python, with its wheel (None: none found).
    direct: tuple[tuple[str, Wheel | None], ...] = ()
    dependencies: int = 0
    missing: tuple[Missing, ...] = ()
    #: Why the question could not be asked (pip missing or too old, a timeout, offline): then nothing is known.
    unknown: str | None = None
    #: The package index could not be reached.
    offline: bool = False
    #: Another reason pip refuses requirements.txt (conflicting pins, a bad line), in pip's words.
    error: str | None = None
    #: The CUDA runtime distributions it would install (`nvidia-cublas-cu12`...): a GPU build of torch or the like.
    cuda: tuple[str, ...] = ()


def default_python() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def target_environment(python: str) -> dict[str, str]:
    """The marker environment of CPython `python` on the Function App (Linux x86_64)."""
    return {
        "python_version": python,
        "python_full_version": f"{python}.0",
        "implementation_name": "cpython",
        "implementation_version": f"{python}.0",
        "platform_python_implementation": "CPython",
        "os_name": "posix",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": "x86_64",
        "platform_release": "",
        "platform_version": "",
        "extra": "",
    }


def marker_holds(marker: str, python: str) -> bool:
    """Whether a requirement's environment marker is true for CPython `python` on the Function App; True when it
    cannot be told (no `packaging` to evaluate it, or a marker it cannot read: pip then has its say)."""
    marker_class = _marker_class()
    if marker_class is None:
        return True
    try:
        return bool(marker_class(marker).evaluate(target_environment(python)))
    except ValueError:  # InvalidMarker, UndefinedComparison, ...
        return True


def target_lines(requirements: Path, python: str) -> list[str]:
    """requirements.txt as pip on `python` would read it: `-r` inlined, `-c` paths absolute, lines whose marker is
    false for that Python dropped and the markers of the others removed."""
    marker_class = _marker_class()
    environment = target_environment(python)
    lines = []
    for line, source in logical_lines(requirements):
        option, _, value = line.partition(" ")
        if option in _PATH_OPTIONS and value.strip():
            lines.append(f"{option} {(source.parent / value.strip()).resolve()}")
            continue
        if line.startswith("-"):
            lines.append(line)
            continue
        requirement, marker = _split_marker(line)
        if marker and marker_class is not None and not marker_class(marker).evaluate(environment):
            continue
        lines.append(requirement if marker_class is not None else line)
    return lines


def installable(requirements: Path, python: str) -> tuple[list[str], list[str]]:
    """The lines handed to the installer (named requirements, wheel URLs and index options; markers evaluated for
    `python` on Linux), and the lines left out with why."""
    kept: list[str] = []
    left_out: list[str] = []
    for line in target_lines(requirements, python):
        if INDEX_OPTIONS.match(line):
            kept.append(line)
        elif line.startswith("-"):
            left_out.append(f"{line} (an option line: the check installs named requirements, wheels only)")
        elif _WHEEL_URL.match(line):
            kept.append(line)
        elif (
            "://" in line
            or "@" in line
            or line.startswith((".", "/", "~"))
            or archives.is_archive(line)  # `pkg.tgz` names a file pip would build
            or not _NAMED.match(line)
        ):
            left_out.append(f"{line} (a URL or path: installing it could run its build, so the check does not)")
        else:
            kept.append(line)
    return kept, left_out


def resolve(requirements: Path, python: str, pip: tuple[str, ...] = (sys.executable, "-m", "pip")) -> Resolution:
    """What pip would install from requirements.txt for `python` on Linux x86_64, wheels only.

    pip stops at the first requirement without a wheel, so that one is taken out and pip asked again, to report
    every line.
    """
    try:
        # Never an option, URL or path line: pip builds a direct sdist URL or an editable folder (runs its code)
        # even with --only-binary=:all: and --dry-run, and --no-binary would make it build everything.
        lines, _ = installable(requirements, python)
    except ValueError as ex:  # an invalid marker
        return Resolution(python, error=f"requirements.txt has a line pip cannot read: {ex}")
    missing: list[Missing] = []
    with tempfile.TemporaryDirectory(prefix="adapter-wheels-") as scratch:
        for _ in range(MAX_RUNS):
            done, report = _pip(pip, lines, python, Path(scratch))
            if isinstance(done, str):
                return Resolution(python, missing=tuple(missing), unknown=done)
            if done.returncode == 0:
                return _resolved(python, lines, report, missing)
            output = done.stdout + done.stderr
            if any(marker in output for marker in _OFFLINE):
                return Resolution(
                    python, missing=tuple(missing), unknown=_first_error(output, "the index is offline"), offline=True
                )
            if _old_pip(output, python):
                return Resolution(
                    python,
                    missing=tuple(missing),
                    unknown=f"this pip checks Requires-Python against the Python running it "
                    f"({platform.python_version()}), not {python}: upgrade it to 24.2 or later "
                    "(python -m pip install -U pip) and check again",
                )
            failed = _NO_MATCH.search(output)
            if failed is None:
                return Resolution(python, missing=tuple(missing), error=_first_error(output, "pip failed"))
            wanted = failed.group(1).strip()
            versions = _versions(output, wanted)
            line = _line_of(lines, wanted)
            if line is None:  # a dependency: nothing to take out, and nothing more to learn from pip
                missing.append(Missing(wanted, versions, dependency=True))
                return Resolution(python, _pending(lines), missing=tuple(missing))
            missing.append(Missing(line, versions))
            lines = [other for other in lines if other != line]
    return Resolution(python, missing=tuple(missing), error="pip kept failing; run it yourself to see why")


def check(requirements: Path, python: str) -> Outcome:
    """The `wheels` step of `check`: FAIL for a requirement without a wheel there, WARN when it cannot be known."""
    platform = f"Python {python} on Linux x86_64"
    if not requirements.is_file():
        return Outcome.skip("there is no requirements.txt")
    resolution = resolve(requirements, python)
    found = [_missing_line(m, python) for m in resolution.missing]
    if resolution.unknown is not None:
        if not resolution.offline:
            return Outcome.warn(f"wheels for {platform} are unchecked", resolution.unknown, *found)
        return Outcome.warn(
            f"could not reach the package index, so wheels for {platform} are unchecked",
            resolution.unknown,
            *found,
            "Run the check again with network access to PyPI (or your index).",
        )
    if resolution.error is not None:
        return Outcome.fail(f"pip cannot install requirements.txt for {platform}", resolution.error, *found)
    have = [f"{line}: {wheel.name} {wheel.version} ({wheel.file})" for line, wheel in resolution.direct if wheel]
    dependencies = f" and {resolution.dependencies} dependencies" if resolution.dependencies else ""
    if found:
        return Outcome.fail(
            f"{len(found)} requirement(s) without a wheel for {platform}: the remote build would fail", *found, *have
        )
    summary = f"{len(have)} requirements{dependencies} have wheels for {platform}"
    gpu = cuda_advice(resolution)
    _, left_out = installable(requirements, python)
    if not left_out and gpu is None:
        return Outcome.ok(summary, *have)
    # Lines never handed to pip here: the remote build would still run them.
    unchecked = [f"not checked: {line}" for line in left_out]
    if left_out:
        unchecked.append("The remote build installs these lines as written, which may build and run a package's code.")
        summary += f"; {len(left_out)} line(s) not checked"
    if gpu is not None:
        summary += "; a GPU build among them"
    return Outcome.warn(summary, *([gpu] if gpu else []), *unchecked, *have)


#: NVIDIA's CUDA runtime wheels (`nvidia-cublas-cu12`, `nvidia-nccl-cu12`, `nvidia-cuda-runtime`...), not every
#: `nvidia-` name: `nvidia-ml-py` (pynvml) is a small library that reads GPU counters.
_CUDA_RUNTIME = re.compile(r"nvidia-(?:cu|nccl|nvtx|nvjitlink|nvshmem)|nvidia-.*-cu\d+$")


def cuda_advice(resolution: Resolution) -> str | None:
    """Functions runs on CPU: a GPU build (PyPI's torch for Linux pulls the CUDA runtime, several GB) only makes the
    remote build slow and the app large. PyTorch publishes CPU builds on its own index."""
    if not resolution.cuda:
        return None
    gpu = sorted(
        wheel.name
        for _, wheel in resolution.direct
        if wheel and wheel.name in CPU_INDEXES and "+cpu" not in wheel.version  # a +cpu build pulls no CUDA
    )
    which = ", ".join(gpu) or "a requirement"
    advice = (
        f"{which} installs the CUDA build ({len(resolution.cuda)} nvidia-* packages, several GB), but Azure Functions "
        "runs on CPU: "
    )
    if not gpu:
        return advice + "pin a CPU-only build of the library that pulls them in."
    index = CPU_INDEXES[gpu[0]]
    return advice + (
        f"install the CPU build instead: put --extra-index-url {index} as the first line of requirements.txt and pin "
        f"the +cpu release ({gpu[0]}==VERSION+cpu)."
    )


def _missing_line(missing: Missing, python: str) -> str:
    alternative = _previous(python)
    other = f" or pick Python {alternative}" if alternative else ""
    if missing.versions:
        which = f"these versions have one: {', '.join(missing.versions[-SHOWN_VERSIONS:])}"
    else:
        which = "no release has one"
    what = f"{missing.requirement} (a dependency)" if missing.dependency else missing.requirement
    fix = f"pin a version with a wheel for {python}{other}"
    if alternative is None and not missing.dependency and "==" in missing.requirement:
        # 3.10 is the oldest Python Functions runs: a pin older than every wheel for it has none anywhere.
        fix = (
            "no Python Azure Functions supports has it, so this model needs retraining or re-saving with a current "
            "library; pin one of the versions that have a wheel"
        )
    return f"{what}: no wheel for Python {python} on Linux x86_64 ({which}); {fix}."


def _previous(python: str) -> str | None:
    major, _, minor = python.partition(".")
    return f"{major}.{int(minor) - 1}" if minor.isdigit() and int(minor) > 10 else None


def _pip(
    pip: tuple[str, ...], lines: list[str], python: str, scratch: Path
) -> tuple[subprocess.CompletedProcess[str] | str, dict[str, Any]]:
    filtered, report = scratch / "requirements.txt", scratch / "report.json"
    filtered.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    report.unlink(missing_ok=True)
    command = [
        *pip,
        "install",
        "--dry-run",
        "--ignore-installed",
        "--report",
        str(report),
        "--target",
        str(scratch / "target"),
        "--python-version",
        python,
        "--implementation",
        "cp",
        "--only-binary=:all:",
        *(f"--platform={platform}" for platform in PLATFORMS),
        *PIP_OPTIONS,
        "-r",
        str(filtered),
    ]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    try:
        # In a folder of its own: pip looks for a path-like requirement in the folder it runs in, never the app's.
        done = subprocess.run(command, cwd=scratch, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    except FileNotFoundError:
        return f"{pip[0]} is not there to run pip", {}
    except subprocess.TimeoutExpired:
        return f"pip took more than {TIMEOUT_S} s", {}
    if done.returncode != 0 and "No module named pip" in done.stderr:
        return "pip is not installed in this Python (python -m ensurepip installs it)", {}
    parsed = json.loads(report.read_text(encoding="utf-8")) if report.is_file() else {}
    return done, parsed if isinstance(parsed, dict) else {}


def _resolved(python: str, lines: list[str], report: dict[str, Any], missing: list[Missing]) -> Resolution:
    wheels: dict[str, Wheel] = {}
    for item in report.get("install", []):
        meta = item.get("metadata", {})
        url = str(item.get("download_info", {}).get("url", ""))
        file = urllib.parse.unquote(url.rsplit("/", 1)[-1])
        name = normalize(str(meta.get("name", "")))
        wheels[name] = Wheel(name, str(meta.get("version", "")), file)
    direct = tuple((line, wheels.get(_name_of(line) or "")) for line in lines if not line.startswith("-"))
    named = {_name_of(line) for line, _ in direct}
    cuda = tuple(sorted(name for name in wheels if _CUDA_RUNTIME.match(name)))
    return Resolution(python, direct, len(wheels.keys() - named), tuple(missing), cuda=cuda)


def _pending(lines: list[str]) -> tuple[tuple[str, Wheel | None], ...]:
    return tuple((line, None) for line in lines if not line.startswith("-"))


def _versions(output: str, wanted: str) -> tuple[str, ...]:
    for match in _FROM_VERSIONS.finditer(output):
        if match.group(1).strip() == wanted and match.group(2).strip() != "none":
            return tuple(v.strip() for v in match.group(2).split(","))
    return ()


def _line_of(lines: list[str], wanted: str) -> str | None:
    """The line of requirements.txt pip names (it quotes the requirement as written, markers removed)."""
    name = _name_of(wanted)
    return next((line for line in lines if not line.startswith("-") and _name_of(line) == name), None)


def _name_of(requirement: str) -> str | None:
    match = _NAME.match(requirement.split("#egg=")[-1])
    return normalize(match.group(1)) if match else None


def _split_marker(line: str) -> tuple[str, str]:
    """`name>=1; marker` -> (`name>=1`, `marker`); a URL requirement needs a space before its `;` (PEP 508)."""
    separator = " ;" if "://" in line else ";"
    requirement, _, marker = line.partition(separator)
    return requirement.strip(), marker.strip()


def _old_pip(output: str, python: str) -> bool:
    """pip before 24.2 filters candidates for `--python-version` but then checks their Requires-Python against
    the running Python, and refuses what it has just picked."""
    if python == default_python():
        return False
    running = platform.python_version()
    return any(f"different Python{sep} {running} not in" in output for sep in (":", "."))


def _first_error(output: str, default: str) -> str:
    errors = [line.strip() for line in output.splitlines() if line.startswith(("ERROR:", "WARNING: Retrying"))]
    return (errors[0] if errors else default)[:300]


def _marker_class() -> Any:
    """`packaging.markers.Marker`, from packaging or from pip's vendored copy; None when neither is there (then pip
    evaluates the markers itself, for the Python running it)."""
    for module in ("packaging.markers", "pip._vendor.packaging.markers"):
        try:
            return importlib.import_module(module).Marker
        except ImportError:
            continue
    return None
