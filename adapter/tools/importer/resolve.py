"""Make the converted requirements a set that installs and works on one Python version Azure Functions supports,
and choose that version (the one check, README's `az functionapp create` and the printed commands then use).

Resolved once per candidate Python by pip's own resolver for Linux x86_64, wheels only (`check/wheels.py`): the
supported versions the environment's `python` spec allows (`<3.12`, `!=3.12`, `3.10|3.12`), nearest to the one it
names first, or every supported one, nearest first, when it allows none; the first candidate on which every line
has a wheel wins. A pin with no wheel on any supported Python belongs to a model that needs retraining or re-saving
with a current library: its line becomes the newest version that installs, said loudly.
Libraries compiled against NumPy 1 (scikit-learn before 1.4.2, ...) load NumPy 2 with "numpy.dtype size changed":
a `numpy<2` bound is added for them, and said. A set that pulls the CUDA runtime (PyPI's torch for Linux) gets a
warning with the CPU index: the lines stay as they are, because that index is not PyPI and may not be reachable
where check runs.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
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
    """The supported versions the environment's `python` spec allows, the best first: the nearest to the version it
    names (`<3.12` gives 3.11, `>3.11` 3.12). When it allows none, or says nothing, every supported version, the
    nearest to the one it names (older asks go to the oldest) or else to this Python."""
    supported = [f"{major}.{minor}" for major, minor in SUPPORTED_PYTHON]
    named = _named(asked)
    wanted = named or (_number(local) if local in supported else (3, 12))
    pool = allowed(asked) or supported
    return sorted(pool, key=lambda v: (abs(_rank(_number(v)) - _rank(wanted)), -_rank(_number(v))))


def allowed(spec: str | None) -> list[str] | None:
    """The versions Azure Functions supports (`3.10`, ...) that a conda `python` spec allows, oldest first; None
    for no spec, or one this does not read.

    Conda's `|` is or and `,` is and; a version without an operator (`3.11`, `3.11.*`, `3.11.4`) matches its
    release series, as `=3.11` does. Functions chooses the patch release, so each clause is judged on X.Y: `!=3.12`
    and `<3.12` rule 3.12 out, and `>3.11` means after 3.11."""
    if spec is None:
        return None
    clauses = [[_clause(c) for c in alternative.split(",")] for alternative in _spec_text(spec).split("|")]
    if any(clause is None for alternative in clauses for clause in alternative):
        return None
    return [
        f"{major}.{minor}"
        for major, minor in SUPPORTED_PYTHON
        if any(all(_allows(c, (major, minor)) for c in alternative if c) for alternative in clauses)
    ]


#: One clause of a conda version spec: an operator (none is conda's fuzzy match) and a version, perhaps `.*`.
_CLAUSE = re.compile(r"(==|!=|>=|<=|~=|>|<|=)?(\d+(?:\.\d+)*)(\.\*)?")


def _spec_text(spec: str) -> str:
    """The version part of a conda spec: spaces around `,` `|` and operators gone, a build string dropped
    (`3.11 h1234_0`, `3.11=h1234_0`)."""
    text = re.sub(r"\s*([,|])\s*", r"\1", spec.strip())
    text = re.sub(r"(==|!=|>=|<=|~=|>|<|=)\s+", r"\1", text)
    text = text.split()[0] if text.split() else ""
    return text.split("=")[0] if text[:1].isdigit() else text


def _clause(text: str) -> tuple[str, tuple[int, ...]] | None:
    """`<3.12` as ("<", (3, 12)); `3.11`, `3.11.*` and `==3.11` as ("=", (3, 11)), as all allow 3.11; None for what
    this does not read."""
    if text == "*":
        return ("*", ())
    match = _CLAUSE.fullmatch(text)
    if match is None or (match.group(1) == "~=" and "." not in match.group(2)):
        return None
    operator = match.group(1) or "="
    return ("=" if operator == "==" else operator, tuple(int(p) for p in match.group(2).split(".")))


def _allows(clause: tuple[str, tuple[int, ...]], minor: tuple[int, int]) -> bool:
    """Whether the clause allows Python `minor` (some X.Y.Z release of it)."""
    operator, version = clause
    named = version[:2]
    same = minor[: len(named)] == named
    exact_minor = len(version) <= 2  # `!=3.12`, `>3.11`: the whole series
    padded = version + (0,) * (3 - len(version))
    return {
        "*": True,
        "=": same,
        "!=": not same if exact_minor else True,
        ">=": minor >= named,
        ">": minor > named if exact_minor else minor >= named,
        "<": (*minor, 0) < padded,
        "<=": (*minor, 0) <= padded,
        "~=": minor >= named and minor[: len(version) - 1] == version[: len(version) - 1][:2],
    }[operator]


def _named(spec: str | None) -> tuple[int, int] | None:
    """The X.Y a spec names to be near (`!=` clauses name what is not wanted)."""
    if spec is None:
        return None
    for clause in re.split(r"[,|]", _spec_text(spec) or spec):
        found = re.search(r"(\d+)\.(\d+)", clause)
        if found and not clause.startswith("!="):
            return int(found.group(1)), int(found.group(2))
    return None


def resolve(text: str | Callable[[str], str], asked: str | None, local: str | None = None) -> Resolved:
    """The requirements text made to resolve, and the Python chosen for it. `text` may be a function of the Python
    tried: the app's lines that an environment line replaces depend on which markers hold there."""
    text_for = _text_for(text)
    order = candidates(asked, local or wheels.default_python())
    first: wheels.Resolution | None = None
    with tempfile.TemporaryDirectory(prefix="adapter-import-") as scratch:
        path = Path(scratch) / "requirements.txt"
        for python in order:
            path.write_text(text_for(python), encoding="utf-8")
            resolution = wheels.resolve(path, python)
            if resolution.unknown is not None:
                return Resolved(
                    text_for(order[0]), order[0],
                    warnings=[f"the requirements could not be resolved ({resolution.unknown})"], checked=False,
                )  # fmt: skip
            first = first or resolution
            if not resolution.missing and resolution.error is None:
                return _finished(path, Resolved(text_for(python), python), resolution)
        assert first is not None
        path.write_text(text_for(first.python), encoding="utf-8")
        return _relaxed(path, text_for(first.python), first)


def _text_for(text: str | Callable[[str], str]) -> Callable[[str], str]:
    if isinstance(text, str):
        fixed = text
        return lambda _python: fixed
    return text


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
        lines = [_with_requirement(line, replacement) if _installs(line, name, python) else line for line in lines]
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
    numpy_lines = [i for i, line in enumerate(lines) if _installs(line, "numpy", resolved.python)]
    for index in numpy_lines:
        lines[index] = _with_bound(lines[index])
    if not numpy_lines:
        lines.append(NUMPY_BOUND)
    resolved.text = "\n".join(lines) + "\n"
    resolved.notes.append(
        f"numpy is bounded below 2 ({', '.join(pinned_old)} was built against NumPy 1 and fails with NumPy 2: "
        '"numpy.dtype size changed").'
    )
    return resolved


def _installs(line: str, name: str, python: str) -> bool:
    """Whether `line` is a requirement for `name` that pip installs on `python` (its marker, if any, holds)."""
    if _name(line) != name or line.lstrip().startswith("#"):
        return False
    _, sep, marker = line.split(" #")[0].partition(";")
    return not sep or wheels.marker_holds(marker.strip(), python)


def _with_requirement(line: str, requirement: str) -> str:
    """`requirement` in the place of the line's own, its marker kept."""
    _, sep, marker = line.partition(";")
    return requirement + (f";{marker}" if sep else "")


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
