"""What the entry script does while its code runs in `check` (import, `init()`, `run()`), that a read of its source
cannot tell: the modules it loads (a pickled model loads the library that pickled it, with no `import` in sight),
the warnings it raises (scikit-learn's "pickled with another version"), and the files it writes into the app folder
(read-only on Azure when the app runs from its package).

Modules: a diff of `sys.modules` around each step, and who imported each (an import hook that only looks), so
that a library another one tries to import optionally is not taken for a need. Writes: an audit hook
(`sys.addaudithook`, PEP 578) for files opened for writing, created, renamed or removed through Python, plus a
before/after listing of the app folder for what C code or a subprocess writes. Warnings:
`warnings.catch_warnings(record=True)`.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import inspect
import os
import re
import sys
import threading
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: os.open flags that mean "this call writes".
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
#: Audit events that change a folder, with the position of the path argument(s) they change.
_CHANGING = {"os.mkdir": (0,), "os.rename": (0, 1), "os.remove": (0,), "os.rmdir": (0,), "os.truncate": (0,)}
#: Never the script's doing: Python's bytecode cache (it skips writing it when the folder is read-only).
_IGNORED_PARTS = frozenset({"__pycache__", ".git"})
#: The folder listing stops here: an app that big is listed by `package`, and writes still show in the audit hook.
MAX_LISTED = 20_000
#: Warnings about the script's libraries, not about what it does; shown only when the script's own code raises them.
_LIBRARY_NOISE = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)


@dataclass(frozen=True)
class Seen:
    step: str
    what: str


@dataclass
class Watch:
    """What the script did, by step (`import`, `init()`, `run()`), accumulated over the check."""

    #: Folders the script must not write into (the function app root, AML_APP_ROOT).
    roots: tuple[Path, ...]
    #: Module name -> the step that first loaded it.
    modules: dict[str, str] = field(default_factory=dict)
    #: Module name -> the module whose code imported it (`pickle`, the script, a library).
    importers: dict[str, str] = field(default_factory=dict)
    #: Path under a root -> the step that first wrote it.
    writes: dict[Path, str] = field(default_factory=dict)
    warnings: list[Seen] = field(default_factory=list)
    #: Folders holding the script's own code, whose warnings are shown whatever their category.
    code_dirs: tuple[Path, ...] = ()


class _Recorder:
    """The process's one audit hook (they cannot be removed) and the watch it reports to while a step runs."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active: tuple[Watch, str] | None = None
        self.installed = False

    def install(self) -> None:
        with self.lock:
            if not self.installed:
                sys.addaudithook(self.hook)
                self.installed = True

    def hook(self, event: str, args: tuple[Any, ...]) -> None:
        active = self.active
        if active is None:
            return
        try:  # an audit hook that raises would make the script's own call fail
            if event == "open":
                path, mode, flags = args
                writes = any(c in mode for c in "wax+") if isinstance(mode, str) else bool((flags or 0) & _WRITE_FLAGS)
                if writes:
                    _note(active, path)
            elif event in _CHANGING:
                for index in _CHANGING[event]:
                    _note(active, args[index])
        except Exception:  # noqa: BLE001 - see above
            pass


_recorder = _Recorder()


class _Importers(importlib.abc.MetaPathFinder):
    """Notes which module's code asked for each module the first time it is looked for; finds nothing."""

    def __init__(self, watch: Watch) -> None:
        self.watch = watch

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        try:
            current = inspect.currentframe()
            frame = current.f_back if current is not None else None
            while frame is not None and str(frame.f_globals.get("__name__", "")).startswith("importlib"):
                frame = frame.f_back
            if frame is not None:
                self.watch.importers.setdefault(fullname, str(frame.f_globals.get("__name__", "")))
        except Exception:  # noqa: BLE001 - looking must never break an import
            pass
        return None


def _note(active: tuple[Watch, str], raw: Any) -> None:
    if isinstance(raw, int) or raw is None:  # a file descriptor: its opening was seen already
        return
    path = Path(os.path.abspath(os.fsdecode(raw)))
    watch, step = active
    if _IGNORED_PARTS.isdisjoint(path.parts) and any(path.is_relative_to(root) for root in watch.roots):
        watch.writes.setdefault(path, step)


@contextlib.contextmanager
def watching(watch: Watch, step: str, *, record_warnings: bool = True) -> Iterator[None]:
    """Record what the code run inside the block loads, writes and warns, as done in `step`."""
    _recorder.install()
    before_modules = set(sys.modules)
    before_files = _listing(watch.roots)
    importers = _Importers(watch)
    sys.meta_path.insert(0, importers)
    _recorder.active = (watch, step)
    try:
        if record_warnings:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                yield
            watch.warnings += [Seen(step, text) for text in _shown_warnings(caught, watch.code_dirs)]
        else:
            yield
    finally:
        _recorder.active = None
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(importers)
        for name in [n for n in list(sys.modules) if n not in before_modules]:
            watch.modules.setdefault(name, step)
        if before_files is not None:
            after = _listing(watch.roots) or {}
            for path, stamp in after.items():
                if before_files.get(path) != stamp:
                    watch.writes.setdefault(path, step)


def _listing(roots: tuple[Path, ...]) -> dict[Path, tuple[int, int]] | None:
    """Every file under the roots with its modification time and size; None when there are too many to list."""
    found: dict[Path, tuple[int, int]] = {}
    for root in roots:
        for parent, dirs, names in os.walk(root):
            dirs[:] = [d for d in dirs if d not in _IGNORED_PARTS and not d.startswith((".venv", "venv"))]
            for name in names:
                path = Path(parent, name)
                with contextlib.suppress(OSError):
                    stat = path.stat()
                    found[path] = (stat.st_mtime_ns, stat.st_size)
                if len(found) > MAX_LISTED:
                    return None
    return found


def _shown_warnings(caught: list[warnings.WarningMessage], code_dirs: tuple[Path, ...]) -> list[str]:
    shown: list[str] = []
    for item in caught:
        own = any(Path(item.filename).resolve().is_relative_to(d) for d in code_dirs) and (
            "site-packages" not in item.filename
        )
        if issubclass(item.category, _LIBRARY_NOISE) and not own:
            continue
        text = describe_warning(item)
        if text not in shown:
            shown.append(text)
    return shown


def describe_warning(item: warnings.WarningMessage) -> str:
    """One line; scikit-learn's version warning as the fix it calls for."""
    message = item.message
    if type(message).__name__ == "InconsistentVersionWarning":
        pickled = getattr(message, "original_sklearn_version", "?")
        installed = getattr(message, "current_sklearn_version", "?")
        estimator = getattr(message, "estimator_name", "the model")
        return sklearn_advice(str(estimator), str(pickled), str(installed), sys.version_info[:2])
    text = str(message).strip().splitlines()[0] if str(message).strip() else ""
    where = f" ({Path(item.filename).name}, line {item.lineno})"
    return f"{item.category.__name__}: {text}{where}"


#: The first scikit-learn release with a Linux wheel for each Python Azure Functions supports.
SKLEARN_FIRST_WHEEL = {(3, 10): "1.0.2", (3, 11): "1.1.3", (3, 12): "1.3.1", (3, 13): "1.5.2"}
#: The last one, for the Pythons scikit-learn no longer supports (1.8 requires Python 3.11).
SKLEARN_LAST_WHEEL = {(3, 10): "1.7.2"}


def sklearn_advice(estimator: str, pickled: str, installed: str, python: tuple[int, int]) -> str:
    """Pinning the pickling version is advice only where that version installs: on `python` (the one running the
    script), or else on the nearest Python Functions runs that has it; older than any wheel, the honest advice is to
    retrain or re-save the model."""
    said = f"the model ({estimator}) was pickled with scikit-learn {pickled}, you install {installed}"
    version = _version(pickled)
    if version and version < _version(SKLEARN_FIRST_WHEEL[(3, 10)]):
        return (
            f"{said}: scikit-learn {pickled} has no wheel for any Python Azure Functions supports, so this model "
            f"needs retraining or re-saving with a current library ({installed} here); it may load and still predict "
            "wrongly"
        )
    runs = [target for target in SKLEARN_FIRST_WHEEL if _has_wheel(version, target)]
    if version and python in SKLEARN_FIRST_WHEEL and not _has_wheel(version, python) and runs:
        nearest = min(runs, key=lambda target: abs(target[1] - python[1]))
        there = f"{nearest[0]}.{nearest[1]}"
        return (
            f"{said}: scikit-learn {pickled} has no wheel for Python {python[0]}.{python[1]}; pin "
            f"scikit-learn=={pickled} on Python {there} (check --python {there}), or retrain and save the model with "
            f"{installed}"
        )
    return f"{said}: pin scikit-learn=={pickled} in requirements.txt, or retrain and save the model with {installed}"


def _has_wheel(version: tuple[int, ...], python: tuple[int, int]) -> bool:
    last = SKLEARN_LAST_WHEEL.get(python)
    return _version(SKLEARN_FIRST_WHEEL[python]) <= version and (last is None or version <= _version(last))


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text.split("+")[0])[:3])
