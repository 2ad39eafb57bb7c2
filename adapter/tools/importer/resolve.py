"""Make the converted requirements a set that installs and works on one Python version Azure Functions supports,
and choose that version (the one check, README's `az functionapp create` and the printed commands then use).

Resolved once per candidate Python by pip's own resolver for Linux x86_64, wheels only (`check/wheels.py`): the
version the environment asks for when Functions supports it, else the closest supported one; the first candidate on
which every line has a wheel wins. A pin with no wheel on any supported Python belongs to a model that needs
retraining or re-saving with a current library: its line becomes the newest version that installs, said loudly.
Libraries compiled against NumPy 1 (scikit-learn before 1.4.2, ...) load NumPy 2 with "numpy.dtype size changed":
a `numpy<2` bound is added for them, and said. A set that pulls the CUDA runtime (PyPI's torch for Linux) gets a
warning with the CPU index: the lines stay as they are, because that index is not PyPI and may not be reachable
where check runs.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from adapter.tools.check import wheels
from adapter.tools.check.package import SUPPORTED_PYTHON

#: The first release of each compiled library built against NumPy 2; older ones need numpy<2.
NUMPY2_FIRST = {
    "scikit-learn": "1.4.2",
    "scipy": "1.13.0",
    "pandas": "2.2.2",
    "torch": "2.3.0",
    "tensorflow": "2.18.0",
    "tensorflow-cpu": "2.18.0",
    "onnxruntime": "1.19.0",
    "statsmodels": "0.14.2",
    "h5py": "3.11.0",
    "pyarrow": "16.0.0",
    "numba": "0.60.0",
    "shap": "0.46.0",
    "catboost": "1.2.5",
    "scikit-image": "0.24.0",
    "opencv-python-headless": "4.10.0.84",
    "opencv-python": "4.10.0.84",
    "pmdarima": "2.0.5",
    "matplotlib": "3.8.4",
}
NUMPY_BOUND = "numpy<2"
RETRAIN = "this model needs retraining or re-saving with a current library"


@dataclass
class Resolved:
    text: str
    #: The Function App's Python version ("3.10").
    python: str
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: False when the index could not be asked (offline): the text is unchanged.
    checked: bool = True


def candidates(asked: str | None, local: str) -> list[str]:
    """Supported versions, the best first: the one asked for, else the nearest (older asks go to the oldest)."""
    supported = [f"{major}.{minor}" for major, minor in SUPPORTED_PYTHON]
    wanted = _number(asked) if asked and _number(asked) else _number(local) if local in supported else (3, 12)
    return sorted(supported, key=lambda v: (abs(_rank(_number(v)) - _rank(wanted)), -_rank(_number(v))))


def resolve(text: str, asked: str | None, local: str | None = None) -> Resolved:
    """The requirements text made to resolve, and the Python chosen for it."""
    order = candidates(asked, local or wheels.default_python())
    first: wheels.Resolution | None = None
    with tempfile.TemporaryDirectory(prefix="adapter-import-") as scratch:
        path = Path(scratch) / "requirements.txt"
        path.write_text(text, encoding="utf-8")
        for python in order:
            resolution = wheels.resolve(path, python)
            if resolution.unknown is not None:
                return Resolved(
                    text, order[0], warnings=[f"the requirements could not be resolved ({resolution.unknown})"],
                    checked=False,
                )  # fmt: skip
            first = first or resolution
            if not resolution.missing and resolution.error is None:
                return _finished(path, Resolved(text, python), resolution)
        assert first is not None
        return _relaxed(path, text, first)


def _relaxed(path: Path, text: str, resolution: wheels.Resolution) -> Resolved:
    """No supported Python installs every pin: the pins without a wheel anywhere become the newest that installs."""
    python = resolution.python
    resolved = Resolved(text, python)
    lines = text.splitlines()
    for missing in resolution.missing:
        if missing.dependency:
            resolved.warnings.append(f"{missing.requirement}, a dependency, has no wheel for Python {python}.")
            continue
        name = _name(missing.requirement)
        newest = missing.versions[-1] if missing.versions else None
        if name is None or newest is None:
            resolved.warnings.append(f"{missing.requirement} has no wheel for any Python Azure Functions supports.")
            continue
        replacement = f"{name}=={newest}"
        lines = [replacement if _name(line) == name and not line.startswith("#") else line for line in lines]
        resolved.warnings.append(
            f"{missing.requirement} has no wheel for any Python Azure Functions supports: {RETRAIN} (requirements.txt "
            f"installs {replacement}, the newest that installs on Python {python})."
        )
    if resolution.error:
        resolved.warnings.append(f"the requirements do not resolve on Python {python}: {resolution.error}")
    resolved.text = "\n".join(lines) + "\n"
    path.write_text(resolved.text, encoding="utf-8")
    again = wheels.resolve(path, python)
    if again.missing or again.error:
        return resolved
    return _finished(path, resolved, again)


def _finished(path: Path, resolved: Resolved, resolution: wheels.Resolution) -> Resolved:
    """The resolved set's last touches: the NumPy bound, and a word on GPU builds Functions cannot use."""
    gpu = wheels.cuda_advice(resolution)
    if gpu is not None:
        resolved.warnings.append(gpu)
    return _numpy_bound(path, resolved, resolution)


def _numpy_bound(path: Path, resolved: Resolved, resolution: wheels.Resolution) -> Resolved:
    """`numpy<2` when a library pinned below its first NumPy-2 build would otherwise get NumPy 2."""
    chosen = {wheel.name: wheel.version for _, wheel in resolution.direct if wheel}
    numpy = chosen.get("numpy")
    pinned_old = [
        f"{name} {version}"
        for line, wheel in resolution.direct
        if wheel and (name := wheel.name) in NUMPY2_FIRST and _older(version := wheel.version, NUMPY2_FIRST[name])
    ]
    if not pinned_old or (numpy is not None and _older(numpy, "2")):
        return resolved
    lines = resolved.text.rstrip("\n").split("\n")
    numpy_lines = [i for i, line in enumerate(lines) if _name(line) == "numpy" and not line.startswith("#")]
    if numpy_lines:
        index = numpy_lines[-1]
        lines[index] = _with_bound(lines[index])
    else:
        lines.append(NUMPY_BOUND)
    resolved.text = "\n".join(lines) + "\n"
    resolved.notes.append(
        f"numpy is bounded below 2 ({', '.join(pinned_old)} was built against NumPy 1 and fails with NumPy 2: "
        '"numpy.dtype size changed").'
    )
    return resolved


def _with_bound(line: str) -> str:
    requirement, sep, marker = line.partition(";")
    requirement = requirement.rstrip()
    has_spec = re.search(r"[<>=!~]", requirement)
    bounded = f"{requirement},<2" if has_spec else f"{requirement}<2"
    return bounded + (f";{marker}" if sep else "")


def _name(line: str) -> str | None:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line)
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match and not line.lstrip().startswith("-") else None


def _older(version: str, than: str) -> bool:
    return _parts(version) < _parts(than)


def _parts(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version.split("+")[0])[:4])


def _number(version: str | None) -> tuple[int, int]:
    found = re.search(r"(\d+)\.(\d+)", version or "")
    return (int(found.group(1)), int(found.group(2))) if found else (3, 12)


def _rank(version: tuple[int, int]) -> int:
    return version[0] * 100 + version[1]
