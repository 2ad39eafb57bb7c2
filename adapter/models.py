"""The model bundle: `models/MODEL_NAME/VERSION/<the registered file or folder>`, the layout AML gives a deployment.

A Function App has no model registry, so models travel in the deployment package. Names follow AML's registration
rule and versions are whole numbers, so neither can hold a path; every path is also resolved and checked to stay
inside `models/`, so a symlink cannot lead out of it either.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from adapter import paths, trees

BUNDLE = "models"
#: AML's model name rule (azureml-core's `model_name_validation`): no separators, no leading dot.
NAME_RULE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")
#: Versions as AML writes their folders: `str(int)`, from 1.
VERSION_RULE = re.compile(r"[1-9][0-9]{0,17}")


class BundleError(Exception):
    """A name, version or path that would break the bundle or leave it; the message says why."""


@dataclass(frozen=True)
class ModelVersion:
    name: str
    version: int
    #: The version folder, `models/NAME/VERSION`.
    path: Path


@dataclass(frozen=True)
class Bundled:
    """A version folder with what it holds, for listings and checks."""

    model: ModelVersion
    #: The names in the version folder: one, the registered file or folder, when all is well.
    contents: tuple[str, ...]
    size: int


@dataclass(frozen=True)
class Bundle:
    versions: tuple[Bundled, ...]
    #: Layouts that break serving: bad names, symlinks out, empty version folders.
    problems: tuple[str, ...]
    #: Layouts that serve but trip `Model.get_model_path`.
    warnings: tuple[str, ...]


def app_root(env: Mapping[str, str] | None = None) -> Path:
    """The folder holding the entry script and `models/`: AML_APP_ROOT, else the function app root."""
    return paths.app_root(env)


def check_name(name: str) -> str:
    if not NAME_RULE.fullmatch(name):
        raise BundleError(
            f"Model name {name!r} is not valid: like AML's, it must start with a letter or digit and use only "
            "letters, digits, '-', '_' and '.', up to 255 characters."
        )
    return name


def check_version(version: str | int) -> int:
    text = str(version).strip()
    if not VERSION_RULE.fullmatch(text):
        raise BundleError(f"Model version {version!r} is not valid: versions are whole numbers from 1.")
    return int(text)


def inside(root: Path, path: Path) -> bool:
    """Whether `path`, symlinks followed, stays under `root` (already resolved)."""
    try:
        return path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):  # a symlink loop
        return False


def layout(root: Path) -> list[ModelVersion]:
    """The well-formed version folders under `root`, cheaply: enough to lay out AZUREML_MODEL_DIR."""
    if not root.is_dir():
        return []
    real_root = root.resolve()
    return [
        ModelVersion(model.name, int(version.name), version)
        for model in _children(root)
        if NAME_RULE.fullmatch(model.name) and model.is_dir() and inside(real_root, model)
        for version in _children(model)
        if VERSION_RULE.fullmatch(version.name) and version.is_dir() and inside(real_root, version)
    ]


def default_model_dir(app_root: Path) -> Path | None:
    """AZUREML_MODEL_DIR as AML sets it: one model with one version -> its folder; otherwise `models/` itself."""
    root = app_root / BUNDLE
    if not root.is_dir():
        return None
    versions = layout(root)
    return versions[0].path if len(versions) == 1 else root


def scan(root: Path) -> Bundle:
    """Everything under `root` with what is wrong with it, for `models list` and `check`."""
    versions: list[Bundled] = []
    problems: list[str] = []
    warnings: list[str] = []
    real_root = root.resolve()
    for model in _children(root):
        where = f"{BUNDLE}/{model.name}"
        if not NAME_RULE.fullmatch(model.name):
            problems.append(f"{where}: not a valid model name; folders here are named after the model.")
        elif not inside(real_root, model):
            problems.append(f"{where}: a symlink leading outside {BUNDLE}/; it is refused.")
        elif not model.is_dir():
            problems.append(f"{where}: not a folder; models go in {BUNDLE}/MODEL_NAME/VERSION/.")
        else:
            for version in _children(model):
                problem, warning, bundled = _scan_version(real_root, model.name, version)
                problems += [problem] if problem else []
                warnings += [warning] if warning else []
                versions += [bundled] if bundled else []
    return Bundle(tuple(versions), tuple(problems), tuple(warnings))


def _scan_version(real_root: Path, name: str, version: Path) -> tuple[str | None, str | None, Bundled | None]:
    """(problem, warning, what it holds) for one version folder."""
    where = f"{BUNDLE}/{name}/{version.name}"
    if not VERSION_RULE.fullmatch(version.name):
        return f"{where}: not a version; version folders are whole numbers from 1.", None, None
    if not inside(real_root, version):
        return f"{where}: a symlink leading outside {BUNDLE}/; it is refused.", None, None
    if not version.is_dir():
        return f"{where}: not a folder.", None, None
    escaping = [str(p.relative_to(version)) for p in _walk(version) if p.is_symlink() and not inside(real_root, p)]
    if escaping:
        return f"{where}: symlinks leading outside {BUNDLE}/ are refused: {', '.join(escaping)}.", None, None
    names = tuple(sorted(os.listdir(version)))
    if not names:
        return f"{where}: empty; it should hold the registered model file or folder.", None, None
    warning = None
    if len(names) > 1:
        warning = f"{where} holds {len(names)} entries ({', '.join(names)}): Model.get_model_path wants exactly one."
    size = sum(p.lstat().st_size for p in _walk(version) if p.is_symlink() or not p.is_dir())
    return None, warning, Bundled(ModelVersion(name, int(version.name), version), names, size)


def add(app_root: Path, name: str, source: Path, version: str | int | None = None, replace: bool = False) -> Bundled:
    """Copy `source` into `models/NAME/VERSION/` under its own name; the next version when none is given.

    Nothing is overwritten unless `replace`: then the copy takes the place of that version (by default the highest
    bundled one, which is the one the script loads), and the old one is deleted only once the new one is in place.
    The copy lands in place only when complete. Symlinks in `source` to files inside it are copied as those files,
    and any other symlink (out of it, to a folder, to nothing) is refused, as is a named pipe or a device, so the
    bundle never links out and never takes along what lies outside the model. A `models/` or `models/NAME` that is
    itself a symlink is refused, as writing through it would put the model wherever it points.
    """
    check_name(name)
    number = None if version is None else check_version(version)
    source = Path(os.path.abspath(source))
    if not (source.is_file() or source.is_dir()):
        raise BundleError(f"{source} is not a file or folder that can be copied.")
    root = app_root / BUNDLE
    model_dir = _model_folder(root, name)
    if model_dir.resolve().is_relative_to(source.resolve()):
        raise BundleError(f"{source} contains {BUNDLE}/{name}: a folder cannot be added into itself.")
    tree = check_source(source)
    if number is None:
        taken = [int(v.name) for v in _children(model_dir) if VERSION_RULE.fullmatch(v.name)]
        number = max(taken, default=1) if replace else max(taken, default=0) + 1
    target = model_dir / str(number)
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise BundleError(f"{BUNDLE}/{name}/{number} is a symlink or a file, not a version folder; it is left alone.")
    if target.exists() and not replace:
        raise BundleError(
            f"{BUNDLE}/{name}/{number} already exists; models are never overwritten. Give another --version, add "
            f"--replace to replace it, or remove it first (python -m adapter models remove {name} {number})."
        )
    try:
        _copy(source, tree, model_dir, target, replace)
    except FileExistsError:
        raise BundleError(f"{BUNDLE}/{name}/{number} appeared while copying; it is left alone.") from None
    except (OSError, shutil.Error) as ex:
        raise BundleError(f"Copying {source} into {BUNDLE}/{name}/{number} failed: {ex}") from None
    return next(e for e in scan(root).versions if e.model.name == name and e.model.version == number)


def check_source(source: Path) -> trees.Tree | None:
    """The walked model folder (None for a model file), once nothing in it links out of it or is not a file: the
    bundle is published, so a link to a folder of keys must not take the keys along."""
    if source.is_file():
        return None
    if not source.is_dir():
        raise BundleError(f"{source} is not a file or folder that can be copied.")
    tree = trees.walk(source)
    problem = tree.problem(_listed)
    if problem:
        raise BundleError(f"The model folder {source} {problem}.")
    return tree


def _listed(items: list[str]) -> str:
    return ", ".join(items[:8]) + (f" and {len(items) - 8} more" if len(items) > 8 else "")


def remove(app_root: Path, name: str, version: str | int | None = None) -> list[ModelVersion]:
    """Delete `models/NAME/VERSION`, or every version of NAME (and its folder) when no version is given.

    What goes is first renamed to a hidden name, so an interrupted delete never leaves half a model that still looks
    like one. Symlinks are refused, as for `add`: deleting through one would delete wherever it points.
    """
    check_name(name)
    number = None if version is None else check_version(version)
    root = app_root / BUNDLE
    model_dir = _model_folder(root, name)
    bundled = layout(root)
    if not model_dir.is_dir():
        shown = ", ".join(f"{v.name} {v.version}" for v in bundled) or "none"
        raise BundleError(f"{BUNDLE}/{name} is not bundled; the bundled model versions are: {shown}.")
    versions = [v for v in bundled if v.name == name]
    if number is None:
        _delete(model_dir, root / f".removing-{name}-{os.getpid()}")
        return versions
    target = model_dir / str(number)
    if target.is_symlink():
        raise BundleError(f"{BUNDLE}/{name}/{number} is a symlink; it is left alone.")
    if not target.is_dir():
        shown = ", ".join(str(v.version) for v in versions) or "none"
        raise BundleError(f"{BUNDLE}/{name} has no version {number}; its versions are: {shown}.")
    _delete(target, model_dir / f".removing-{number}-{os.getpid()}")
    if not any(model_dir.iterdir()):
        model_dir.rmdir()
    return [v for v in versions if v.version == number]


def _model_folder(root: Path, name: str) -> Path:
    """`models/NAME`, once neither it nor `models/` is a symlink or a file."""
    if root.is_symlink():
        raise BundleError(
            f"{root} is a symlink; models are only written into a real {BUNDLE}/ folder, never through a link. "
            "Replace the link with a folder."
        )
    if root.exists() and not root.is_dir():
        raise BundleError(f"{root} is not a folder.")
    model_dir = root / name
    if model_dir.is_symlink() or (model_dir.exists() and not model_dir.is_dir()):
        raise BundleError(
            f"{BUNDLE}/{name} exists but is not a folder inside {BUNDLE}/ (a symlink or a file); it is left alone."
        )
    return model_dir


def _delete(path: Path, hidden: Path) -> None:
    try:
        path.rename(hidden)
        shutil.rmtree(hidden)
    except OSError as ex:
        raise BundleError(f"Removing {path} failed: {ex}") from None


def _copy(source: Path, tree: trees.Tree | None, model_dir: Path, target: Path, replace: bool = False) -> None:
    """Copy beside the target first, then move it in: an interrupted copy never looks like a model. A replaced
    version is moved aside and deleted only once the new one is in place (and put back if that fails)."""
    model_dir.parent.mkdir(exist_ok=True)
    model_dir.mkdir(exist_ok=True)
    staging = model_dir / f".adding-{target.name}-{os.getpid()}"
    staging.mkdir()
    old = model_dir / f".replaced-{target.name}-{os.getpid()}"
    try:
        if tree is not None:
            trees.copy(tree, staging / source.name)
        else:
            trees.copy_file(source.resolve(), staging / source.name)
        if replace and target.is_dir():
            target.rename(old)
        try:
            target.mkdir()
            (staging / source.name).rename(target / source.name)
        except OSError:
            if old.is_dir():
                shutil.rmtree(target, ignore_errors=True)
                old.rename(target)
            elif target.is_dir() and not any(target.iterdir()):
                target.rmdir()
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def human_size(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def describe_model_dir(app_root: Path) -> str:
    """Where AZUREML_MODEL_DIR points by default, relative to the app root, and why."""
    model_dir = default_model_dir(app_root)
    if model_dir is None:
        return f"AZUREML_MODEL_DIR stays unset: there is no {BUNDLE}/ folder."
    count = len(layout(app_root / BUNDLE))
    if count == 1:
        return f"AZUREML_MODEL_DIR defaults to {model_dir.relative_to(app_root).as_posix()} (one model, one version)."
    return f"AZUREML_MODEL_DIR defaults to {BUNDLE}/ ({count} model versions)."


def model_dir_change(app_root: Path, before: Path | None) -> str | None:
    """A loud warning when the default AZUREML_MODEL_DIR is no longer `before` (what it was before an add or a
    remove), or None. AML sets it to the version folder when one model version is deployed and to the folder of all
    models otherwise, so adding a second version moves it under a script that opens
    `os.path.join(AZUREML_MODEL_DIR, "model.pkl")`. Nothing is said when there was no bundle before."""
    after = default_model_dir(app_root)
    if before is None or after == before:
        return None
    root = app_root / BUNDLE

    def shown(path: Path | None) -> str:
        return "unset" if path is None else path.relative_to(app_root).as_posix() + ("/" if path == root else "")

    change = f"AZUREML_MODEL_DIR changes from {shown(before)} to {shown(after)}"
    if after == root:
        return (
            f"{change}: with {len(layout(root))} model versions bundled it is the folder of all models, as on AML, "
            f"so a script that opens a file in AZUREML_MODEL_DIR no longer finds it. Remove the versions it does not "
            f"use (python -m adapter models remove NAME [VERSION]), or load models with Model.get_model_path(NAME)."
        )
    return (
        f"{change}: one model version is left, so it is that version's folder, as on AML; a script that looked "
        f"for NAME/VERSION under AZUREML_MODEL_DIR no longer finds it."
    )


#: The sample the function app ships with: an iris classifier, to be replaced by the user's script and model.
SAMPLE_SCRIPT = "score.py"
SAMPLE_MODEL = "iris-classifier"
SAMPLE_MODEL_FILE = "iris_model.npz"
#: The sample score.py says both near its top (its docstring, its model file name); the tests keep it so.
SAMPLE_SCRIPT_MARKS = ("Sample Azure ML entry script", SAMPLE_MODEL_FILE)


def is_sample_script(path: Path) -> bool:
    """Whether `path` is the bundled sample score.py (possibly edited), by what its opening says."""
    try:
        head = paths.read_regular_file(path, 8192).decode("utf-8", "replace")  # a FIFO would hang open()
    except OSError:
        return False
    return all(mark in head for mark in SAMPLE_SCRIPT_MARKS)


def sample_model(app_root: Path) -> Path | None:
    """`models/iris-classifier` when it is the sample's model (a version holding `iris_model.npz`), else None."""
    folder = app_root / BUNDLE / SAMPLE_MODEL
    if folder.is_symlink() or not folder.is_dir():
        return None
    held = any((version / SAMPLE_MODEL_FILE).is_file() for version in _children(folder))
    return folder if held else None


def sample_left_beside(app_root: Path, entry_script: Path) -> list[str]:
    """Loud warnings when the sample's score.py or model is still shipped beside the user's entry script or model:
    both would be published, and the sample model makes AZUREML_MODEL_DIR the folder of all models."""
    warnings = []
    sample_script = app_root / SAMPLE_SCRIPT
    serving_sample = is_sample_script(entry_script)
    if not serving_sample and sample_script.resolve() != entry_script.resolve() and is_sample_script(sample_script):
        warnings.append(
            f"{SAMPLE_SCRIPT} is still the bundled sample (the iris classifier), beside your entry script "
            f"{_shown(entry_script, app_root)}: it would be published too. Delete it."
        )
    model = sample_model(app_root)
    others = [v for v in layout(app_root / BUNDLE) if v.name != SAMPLE_MODEL]
    if model is not None and (others or not serving_sample):
        why = (
            f", and with it AZUREML_MODEL_DIR is {BUNDLE}/ instead of your model's folder"
            if others and default_model_dir(app_root) == app_root / BUNDLE
            else ""
        )
        warnings.append(
            f"{BUNDLE}/{SAMPLE_MODEL}, the sample's model, is still bundled beside yours: it would be published"
            f"{why}. Remove it: python -m adapter models remove {SAMPLE_MODEL}"
        )
    return warnings


def _shown(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def _children(folder: Path) -> Iterator[Path]:
    """Entries in name order, without hidden ones (`.DS_Store`, `.gitkeep`, an unfinished `add`)."""
    if folder.is_dir():
        yield from sorted((p for p in folder.iterdir() if not p.name.startswith(".")), key=lambda p: p.name)


def _walk(folder: Path) -> Iterator[Path]:
    """Every path under `folder`, without following symlinks."""
    for parent, dirs, files in os.walk(folder):
        for name in dirs + files:
            yield Path(parent, name)
