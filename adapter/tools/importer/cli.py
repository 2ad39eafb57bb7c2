"""`python -m adapter import PATH`: turn this function app into the app an AML deployment describes.

PATH is an AML v2 online deployment YAML (`managedOnlineDeployment` or `kubernetesOnlineDeployment`: code folder and
scoring script, model file or folder, environment, environment variables, request settings) or an SDK v1
InferenceConfig (`entryScript`, `sourceDirectory`, `environment`; JSON, or YAML with the same keys). The sample
score.py and model go, the code is copied in as AML lays it out (v2: the code folder is the app root; v1: the source
directory is a folder of the app root named after it, on `sys.path`), the model is bundled as `models/NAME/VERSION`,
the environment's dependencies become requirements.txt lines, and the settings go into local.settings.json and into
one `az functionapp config appsettings set` line to run for the Function App. Then `check` runs.

Everything is read and validated before anything is written: bad input gets one sentence and exit code 2, and the
folder is left as it was.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import re
import shlex
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from adapter import mlflow_model, models
from adapter.paths import FUNCTION_APP_ROOT
from adapter.tools.check.package import SUPPORTED_PYTHON, FuncIgnore
from adapter.tools.importer import mlflow as mlflow_deps
from adapter.tools.importer import requirements as conda_deps
from adapter.tools.importer.deployment_file import AmlDeployment, ModelSource, Refused, read, read_yaml

#: The function app's own files and folders: code from a deployment never replaces them.
APP_OWNED = frozenset(
    {
        "function_app.py",
        "host.json",
        "adapter",
        "local.settings.json",
        "local.settings.sample.json",
        ".funcignore",
        models.BUNDLE,
    }
)
#: Never copied from a code folder: version control, caches, virtual environments.
NOT_COPIED = frozenset(
    {".git", "__pycache__", ".ipynb_checkpoints", ".venv", "venv", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
)
#: AML leaves out of the uploaded code what the first of these in the code folder matches (gitignore syntax).
IGNORE_FILES = (".amlignore", ".gitignore")
DEFAULT_LOCAL_SETTINGS: dict[str, Any] = {"IsEncrypted": False, "Values": {"FUNCTIONS_WORKER_RUNTIME": "python"}}
SETTING_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
SHOWN = 8


@dataclass
class Plan:
    target: Path
    deployment: AmlDeployment
    copies: list[tuple[Path, Path]] = field(default_factory=list)
    unchanged: int = 0
    overwritten: list[str] = field(default_factory=list)
    remove_sample_script: bool = False
    remove_sample_model: bool = False
    #: Local models to bundle, with whether each replaces a bundled version.
    models: list[tuple[ModelSource, bool]] = field(default_factory=list)
    already_bundled: list[str] = field(default_factory=list)
    registered: list[ModelSource] = field(default_factory=list)
    converted: conda_deps.Converted | None = None
    requirements: conda_deps.Merged | None = None
    local_settings: str = ""
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "import",
        help="turn this function app into an AML deployment's app (v2 deployment YAML or v1 InferenceConfig JSON)",
    )
    parser.add_argument(
        "path", type=Path, help="the deployment YAML (like blue-deployment.yml) or inferenceconfig.json"
    )
    parser.add_argument(
        "--into", type=Path, help="the function app folder to turn into the deployment's app (default: this one)"
    )
    parser.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="NAME[:VERSION]=PATH",
        help="a model to bundle: one an InferenceConfig does not name, or a registered one you downloaded",
    )
    parser.add_argument(
        "--replace", action="store_true", help="overwrite app files and bundled model versions that differ"
    )
    parser.add_argument("--no-check", action="store_true", help="do not run `python -m adapter check` at the end")


def main(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    target = Path(os.path.abspath(args.into)) if args.into else FUNCTION_APP_ROOT
    try:
        deployment = read(Path(os.path.abspath(args.path)))
        _use_models(deployment, [_model_option(text) for text in args.model])
        plan = make_plan(deployment, target, args.replace)
    except Refused as ex:
        print(f"error: {ex}", file=err)
        return 2
    except (OSError, ValueError) as ex:  # an unreadable file met while planning: still nothing written
        print(f"error: {type(ex).__name__}: {ex}; nothing was changed.", file=err)
        return 2
    try:
        apply(plan)
    except (OSError, models.BundleError) as ex:
        print(f"error: the import stopped part-way, {ex}", file=err)
        return 1
    report(plan, out)
    if args.no_check:
        return 0
    return _check(plan, out)


def _model_option(text: str) -> ModelSource:
    """`--model NAME[:VERSION]=PATH`."""
    spec, sep, where = text.partition("=")
    if not sep or not spec or not where:
        raise Refused(f"--model {text}: write it as NAME=PATH or NAME:VERSION=PATH.")
    name, _, version = spec.partition(":")
    try:
        models.check_name(name)
        number = models.check_version(version or 1)
    except models.BundleError as ex:
        raise Refused(f"--model {text}: {ex}") from None
    path = Path(os.path.abspath(Path(where).expanduser()))
    if not (path.is_file() or path.is_dir()):
        raise Refused(f"--model {text}: {where} is not a file or folder.")
    return ModelSource(name, number, path=path)


def _use_models(deployment: AmlDeployment, given: list[ModelSource]) -> None:
    """Models given on the command line take the place of the deployment's of the same name."""
    names = {m.name for m in given}
    if len(names) < len(given):
        raise Refused("--model names one model twice.")
    deployment.models = [m for m in deployment.models if m.name not in names] + given


# Planning: every check, no writes


def make_plan(deployment: AmlDeployment, target: Path, replace: bool) -> Plan:
    if not (target / "function_app.py").is_file() or not (target / "host.json").is_file():
        raise Refused(
            f"{target} is not a function app folder (it has no function_app.py and host.json); import into a copy "
            "of this project."
        )
    plan = Plan(target, deployment)
    plan.remove_sample_script = models.is_sample_script(target / models.SAMPLE_SCRIPT)
    names = {m.name for m in deployment.models}
    plan.remove_sample_model = models.sample_model(target) is not None and models.SAMPLE_MODEL not in names
    if deployment.no_code:
        _plan_no_code(plan)
    else:
        _plan_code(plan, replace)
    _plan_package(plan)
    _plan_models(plan, replace)
    _plan_requirements(plan)
    plan.local_settings = _local_settings(target, deployment.settings)
    return plan


def _plan_code(plan: Plan, replace: bool) -> None:
    deployment, target = plan.deployment, plan.target
    if deployment.code is not None:
        real = deployment.code.resolve()
        if target.resolve().is_relative_to(real):
            raise Refused(f"The code folder {deployment.code} holds the function app itself; it cannot be copied in.")
        sources = _code_files(deployment.code)
    else:
        assert deployment.single_file is not None
        sources = [(deployment.single_file, deployment.single_file.name)]
    prefix = f"{deployment.code_as}/" if deployment.code_as else ""
    owned, blocked, differing = [], [], []
    for source, relative in sources:
        destination = prefix + relative
        if destination.split("/")[0] in APP_OWNED:
            owned.append(destination)
            continue
        if destination == "requirements.txt":
            plan.notes.append(
                "The code folder's requirements.txt is not copied: the app's requirements.txt is made from the "
                "environment (AML does not install the code folder's either)."
            )
            continue
        dest = target / destination
        problem = _blocked(target, dest)
        if problem:
            blocked.append(f"{destination} ({problem})")
        elif not dest.exists() or (destination == models.SAMPLE_SCRIPT and plan.remove_sample_script):
            plan.copies.append((source, dest))
        elif filecmp.cmp(source, dest, shallow=False):
            plan.unchanged += 1
        elif replace:
            plan.overwritten.append(destination)
            plan.copies.append((source, dest))
        else:
            differing.append(destination)
    if owned:
        raise Refused(
            f"The code holds {_listed(owned)}, which belong to the function app itself; rename or remove them in the "
            "code folder."
        )
    if blocked:
        raise Refused(f"The code cannot be copied over {_listed(blocked)} in {target}.")
    if differing:
        raise Refused(
            f"The code would overwrite different files in {target}: {_listed(differing)}; add --replace to "
            "overwrite them, or import into a fresh copy of the function app."
        )


def _plan_no_code(plan: Plan) -> None:
    """An MLflow model without a scoring script: no code to copy; the model must be an MLflow folder, and its folder
    name is MLFLOW_MODEL_FOLDER, as AML sets it."""
    local = [m for m in plan.deployment.models if m.path is not None]
    for model in local:
        assert model.path is not None
        if not (model.path / mlflow_model.MLMODEL).is_file():
            raise Refused(
                f"{model.path} has no MLmodel file: a deployment without code_configuration serves an MLflow model "
                "folder (the one with MLmodel in it); give that folder, or a code_configuration with a score.py."
            )
        plan.deployment.settings.setdefault("MLFLOW_MODEL_FOLDER", model.path.name)


def _plan_package(plan: Plan) -> None:
    """Code that `.funcignore` leaves out of the published package (a `tests/` or `scripts/` folder of the code, say)
    runs locally and is missing on Azure: say so now rather than after publishing."""
    funcignore = plan.target / ".funcignore"
    if not funcignore.is_file():
        return
    ignore = FuncIgnore(funcignore.read_text(encoding="utf-8"))
    relative = [dest.relative_to(plan.target).as_posix() for _, dest in plan.copies]
    left_out = [path for path in relative if ignore.excludes(path)]
    if left_out:
        plan.warnings.append(
            f".funcignore leaves copied code out of the published package: {_listed(left_out)}. The script cannot "
            "use it on Azure: move it to another folder or change .funcignore."
        )


def _code_files(code: Path) -> list[tuple[Path, str]]:
    """The files AML would upload from the code folder, as (path, posix path relative to it); symlinks to files
    inside it are copied as files, any other symlink is refused."""
    ignore = _ignore_rules(code)
    real_code = code.resolve()
    found: list[tuple[Path, str]] = []
    links: list[str] = []
    for parent, dirs, files in os.walk(code):
        base = Path(parent).relative_to(code)
        kept = []
        for name in sorted(dirs):
            relative = (base / name).as_posix()
            if name in NOT_COPIED or (ignore and ignore.excludes(relative, is_dir=True)):
                continue
            if Path(parent, name).is_symlink():
                links.append(relative + "/")
                continue
            kept.append(name)
        dirs[:] = kept
        for name in sorted(files):
            relative = (base / name).as_posix()
            path = Path(parent, name)
            if name in NOT_COPIED or name in IGNORE_FILES or (ignore and ignore.excludes(relative)):
                continue
            if path.is_symlink():
                real = path.resolve()
                if not real.is_file() or not real.is_relative_to(real_code):
                    links.append(relative)
                    continue
            found.append((path, relative))
    if links:
        raise Refused(
            f"The code folder has symlinks to folders, to nowhere or out of it: {_listed(links)}; replace them with "
            "the files they stand for."
        )
    return found


def _ignore_rules(code: Path) -> FuncIgnore | None:
    """The first of .amlignore and .gitignore in the code folder, as AML applies it when uploading the code."""
    for path in map(code.joinpath, IGNORE_FILES):
        if path.is_file():
            try:
                return FuncIgnore(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError) as ex:
                raise Refused(f"{path} cannot be read as text ({ex}).") from None
    return None


def _blocked(target: Path, dest: Path) -> str | None:
    """Why `dest` cannot be written: a symlink or a file on its way, or a folder in its place."""
    for parent in reversed(dest.relative_to(target).parents[:-1]):
        folder = target / parent
        if folder.is_symlink():
            return f"{parent.as_posix()} is a symlink in the app"
        if folder.exists() and not folder.is_dir():
            return f"{parent.as_posix()} is a file in the app"
    if dest.is_symlink():
        return "a symlink in the app"
    if dest.is_dir():
        return "a folder in the app"
    return None


def _plan_models(plan: Plan, replace: bool) -> None:
    bundle = plan.target / models.BUNDLE
    if bundle.is_symlink():
        raise Refused(f"{bundle} is a symlink; models are only written into a real folder. Replace it with one.")
    differing = []
    for model in plan.deployment.models:
        if model.path is None:
            plan.registered.append(model)
            continue
        assert model.version is not None
        folder = bundle / model.name
        version = folder / str(model.version)
        if folder.is_symlink() or version.is_symlink():
            raise Refused(f"{models.BUNDLE}/{model.name} is (or holds) a symlink; it is left alone.")
        if folder.resolve().is_relative_to(model.path.resolve()):
            raise Refused(
                f"The model {model.path} holds {models.BUNDLE}/{model.name}; it cannot be copied into itself."
            )
        if version.exists():
            if _same(model.path, version):
                plan.already_bundled.append(f"{models.BUNDLE}/{model.name}/{model.version}")
                continue
            if not replace:
                differing.append(f"{models.BUNDLE}/{model.name}/{model.version}")
                continue
        plan.models.append((model, version.exists()))
    if differing:
        raise Refused(
            f"{_listed(differing)} already bundled with different content; add --replace to replace it, or remove "
            "it first (python -m adapter models remove NAME VERSION)."
        )


def _same(source: Path, version: Path) -> bool:
    """Whether the version folder holds exactly `source`, byte for byte."""
    if sorted(p.name for p in version.iterdir()) != [source.name]:
        return False
    bundled = version / source.name
    if source.is_file():
        return bundled.is_file() and filecmp.cmp(source, bundled, shallow=False)
    if not bundled.is_dir():
        return False
    mine = {p.relative_to(source).as_posix() for p in source.rglob("*") if p.is_file()}
    theirs = {p.relative_to(bundled).as_posix() for p in bundled.rglob("*") if p.is_file()}
    return mine == theirs and all(filecmp.cmp(source / f, bundled / f, shallow=False) for f in mine)


def _plan_requirements(plan: Plan) -> None:
    environment = plan.deployment.environment
    if environment.conda_file is None and environment.inline is None and not environment.pip_files:
        _plan_mlflow_requirements(plan)
        return
    try:
        if environment.conda_file is not None:
            conda = _conda_content(environment.conda_file)
            converted = conda_deps.from_conda(conda, str(environment.conda_file), environment.conda_file.parent)
            source = environment.conda_file.name
        elif environment.inline is not None:
            converted = conda_deps.from_conda(environment.inline, "condaDependencies", plan.deployment.file.parent)
            source = f"{plan.deployment.file.name} condaDependencies"
        else:
            converted = conda_deps.Converted()
            source = ""
        for pip_file in environment.pip_files:
            conda_deps.from_pip_file(pip_file, converted)
            source = f"{source}, {pip_file.name}" if source else pip_file.name
    except conda_deps.DependencyError as ex:
        raise Refused(str(ex)[:1].upper() + str(ex)[1:]) from None
    requirements = plan.target / "requirements.txt"
    try:
        existing = requirements.read_text(encoding="utf-8") if requirements.is_file() else ""
    except (OSError, UnicodeDecodeError) as ex:
        raise Refused(f"{requirements} cannot be read ({ex}).") from None
    plan.converted = converted
    plan.requirements = conda_deps.merge(existing, converted.lines, source)


def _plan_mlflow_requirements(plan: Plan) -> None:
    """A no-code deployment without an environment: AML builds it from the model's own requirements."""
    local = [m.path for m in plan.deployment.models if m.path is not None]
    if not plan.deployment.no_code or not local or environment_named(plan):
        return
    converted, source, notes = mlflow_deps.requirements(local[0])
    plan.notes.extend(notes)
    requirements = plan.target / "requirements.txt"
    try:
        existing = requirements.read_text(encoding="utf-8") if requirements.is_file() else ""
    except (OSError, UnicodeDecodeError) as ex:
        raise Refused(f"{requirements} cannot be read ({ex}).") from None
    plan.converted = converted
    plan.requirements = conda_deps.merge(existing, converted.lines, source)


def environment_named(plan: Plan) -> bool:
    environment = plan.deployment.environment
    return bool(environment.registered or environment.image)


def _conda_content(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as ex:
        raise Refused(f"The conda file {path} cannot be read ({ex}).") from None
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except ValueError as ex:
            raise Refused(f"The conda file {path} is not valid JSON ({ex}).") from None
    return read_yaml(text, path)


def _local_settings(target: Path, settings: dict[str, str]) -> str:
    """local.settings.json with the deployment's settings in `Values` (made from the sample if missing)."""
    path = target / "local.settings.json"
    sample = target / "local.settings.sample.json"
    source = path if path.is_file() else sample if sample.is_file() else None
    data: Any = json.loads(json.dumps(DEFAULT_LOCAL_SETTINGS))
    if source is not None:
        try:
            data = json.loads(source.read_text(encoding="utf-8"))
        except (OSError, ValueError) as ex:
            raise Refused(f"{source} is not valid JSON ({ex}); fix it or delete it, then import again.") from None
    if not isinstance(data, dict) or not isinstance(data.setdefault("Values", {}), dict):
        raise Refused(f"{source}: it must be an object with a Values object.")
    data["Values"].update(settings)
    return json.dumps(data, indent=2) + "\n"


def _listed(items: list[str]) -> str:
    shown = ", ".join(items[:SHOWN])
    return shown + (f" and {len(items) - SHOWN} more" if len(items) > SHOWN else "")


# Writing


def apply(plan: Plan) -> None:
    """Writes the plan; only I/O can fail here, everything else was checked."""
    target = plan.target
    if plan.remove_sample_script:
        (target / models.SAMPLE_SCRIPT).unlink()
    if plan.remove_sample_model:
        models.remove(target, models.SAMPLE_MODEL)
    for source, dest in plan.copies:
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)  # follows a link to a file inside the code: the app gets the file
    for model, replace in plan.models:
        assert model.path is not None and model.version is not None
        models.add(target, model.name, model.path, model.version, replace=replace)
    bundle = target / models.BUNDLE
    if plan.remove_sample_model and bundle.is_dir() and not any(bundle.iterdir()):
        bundle.rmdir()  # then AZUREML_MODEL_DIR stays unset rather than naming an empty folder
    if plan.requirements is not None:
        _write(target / "requirements.txt", plan.requirements.text)
    _write(target / "local.settings.json", plan.local_settings)


def _write(path: Path, text: str) -> None:
    """Whole or not at all: a temporary file beside it, then renamed over it."""
    temporary = path.with_name(f".{path.name}.importing")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


# Reporting


def report(plan: Plan, out: TextIO) -> None:
    deployment, target = plan.deployment, plan.target

    def say(text: str = "") -> None:
        print(text, file=out)

    say(f"Imported {deployment.file} ({deployment.kind}) into {target}")
    say()
    removed = [name for name, gone in ((models.SAMPLE_SCRIPT, plan.remove_sample_script),) if gone]
    removed += [f"{models.BUNDLE}/{models.SAMPLE_MODEL}"] if plan.remove_sample_model else []
    if removed:
        say(f"The sample is gone: {', '.join(removed)}.")
    if deployment.no_code:
        say(
            "Code: none; an MLflow model deployed without code is served by the adapter's MLflow scoring script, as "
            "AML serves it (docs/mlflow.md)."
        )
    else:
        source = deployment.code or deployment.single_file
        where = f"{deployment.code_as}/" if deployment.code_as else "the app root"
        counts = f"{len(plan.copies)} file(s) copied" + (f", {plan.unchanged} already there" if plan.unchanged else "")
        say(f"Code: {source} -> {where} ({counts}).")
    if plan.overwritten:
        say(f"  overwritten: {_listed(plan.overwritten)}")
    say(f"Entry script: {deployment.settings['AZUREML_ENTRY_SCRIPT']}")
    for model, _ in plan.models:
        assert model.path is not None
        say(f"Model: {model.path} -> {models.BUNDLE}/{model.name}/{model.version}/{model.path.name}")
    for bundled in plan.already_bundled:
        say(f"Model: {bundled} is already bundled, unchanged.")
    if not deployment.models:
        say(
            "Model: the deployment names none. Bundle each model the script loads: python -m adapter models add "
            "NAME PATH --version N (or import again with --model NAME:VERSION=PATH)."
        )
    say(models.describe_model_dir(target))
    _report_registered(plan, say)
    _report_requirements(plan, say)
    _report_python(plan, say)
    _report_settings(plan, say)
    warnings = plan.warnings + _bundle_warnings(plan)
    for note in deployment.notes + plan.notes:
        say(f"Note: {note}")
    for warning in warnings:
        say(f"WARNING: {warning}")


def _report_registered(plan: Plan, say: Any) -> None:
    for model in plan.registered:
        version = model.version or "<VERSION>"
        say()
        say(f"WARNING: the model {model.reference} is not on this machine, so it is not bundled yet. Fetch it:")
        if model.label:
            say(f"  az ml model show --name {model.name} --label {model.label} --query version  # its version")
        scope = f"--registry-name {model.registry}" if model.registry else "--resource-group <RG> --workspace-name <WS>"
        say(f"  az ml model download --name {model.name} --version {version} --download-path ./downloaded {scope}")
        held = f"./downloaded/{model.name}/<FILE_OR_FOLDER>"
        say(f"then bundle the file or folder the download holds (under ./downloaded/{model.name}/):")
        say(f"  python -m adapter models add {model.name} {held} --version {version}")


def _report_requirements(plan: Plan, say: Any) -> None:
    environment = plan.deployment.environment
    merged, converted = plan.requirements, plan.converted
    say()
    if merged is None or converted is None:
        if environment.registered:
            _report_registered_environment(environment.registered, say)
        elif environment.image:
            say(
                f"requirements.txt: unchanged; the environment is the image {environment.image} without a conda file, "
                "so its packages are unknown here. List what the script imports in requirements.txt (check finds "
                "what is missing)."
            )
        else:
            say("requirements.txt: unchanged; the deployment names no conda file or pip requirements.")
        return
    say(f"requirements.txt: {len(merged.added)} line(s) from the environment.")
    for title, items in (
        ("added", merged.added),
        ("replaced (the environment's version wins)", merged.replaced),
        ("kept the app's version", merged.kept),
        ("dropped", converted.dropped),
        ("NOT carried over", converted.unmapped),
    ):
        if items:
            say(f"  {title}:")
            for item in items:
                say(f"    {item}")
    if converted.assumed:
        say(f"  assumed to have the same name on PyPI as on conda: {', '.join(converted.assumed)}")


def _report_registered_environment(reference: str, say: Any) -> None:
    match = re.fullmatch(r"azureml:(?://registries/([^/]+)/environments/([^/]+).*|([^:@/]+)[:@](.+))", reference)
    if match and match.group(1):
        shown = f"az ml environment show --name {match.group(2)} --registry-name {match.group(1)}"
    elif match:
        shown = f"az ml environment show --name {match.group(3)} --version {match.group(4)} --resource-group <RG> "
        shown += "--workspace-name <WS>"
    else:
        shown = "az ml environment show ..."
    say(
        f"requirements.txt: unchanged; the environment {reference} is registered in AML, not described here. See its "
        f"dependencies with `{shown}` and add them to requirements.txt."
    )


def _report_python(plan: Plan, say: Any) -> None:
    supported = ", ".join(f"{major}.{minor}" for major, minor in SUPPORTED_PYTHON)
    spec = plan.converted.python if plan.converted else None
    found = re.search(r"(\d+)\.(\d+)", spec or "")
    if spec is None or found is None:
        say(f"Python: the environment does not say which version; Azure Functions supports {supported}.")
        return
    asked = (int(found.group(1)), int(found.group(2)))
    shown = f"{asked[0]}.{asked[1]}"
    if asked in SUPPORTED_PYTHON:
        say(
            f"Python: the environment asks for {spec}, which Azure Functions supports: create the Function App with "
            f"--runtime python --runtime-version {shown}."
        )
        return
    nearest = min(SUPPORTED_PYTHON, key=lambda v: abs((v[0] * 100 + v[1]) - (asked[0] * 100 + asked[1])))
    closest = f"{nearest[0]}.{nearest[1]}"
    say(
        f"WARNING: Python: the environment asks for {spec}, which Azure Functions does not support (it supports "
        f"{supported}). Create the Function App with --runtime-version {closest}, the closest, and make sure the "
        f"pinned versions install on it (run python -m adapter check with Python {closest})."
    )


def _report_settings(plan: Plan, say: Any) -> None:
    settings = plan.deployment.settings
    say()
    say("Settings (written to local.settings.json, which is not published):")
    for name, value in settings.items():
        say(f"  {name}={value}")
    odd = [name for name in settings if not SETTING_NAME.fullmatch(name)]
    if odd:
        say(f"WARNING: app settings on Linux allow only letters, digits and _ in names: {', '.join(odd)}.")
    say("Set them on the Function App (it reads app settings, not local.settings.json):")
    pairs = " ".join(shlex.quote(f"{name}={value}") for name, value in settings.items())
    say(f"  az functionapp config appsettings set --name <APP> --resource-group <RG> --settings {pairs}")


def _bundle_warnings(plan: Plan) -> list[str]:
    """What makes the app differ from AML's deployment: AML points AZUREML_MODEL_DIR at the version folder of a
    deployment's one model; other models left in the bundle make it `models/` here."""
    target = plan.target
    warnings = []
    entry = target / plan.deployment.settings["AZUREML_ENTRY_SCRIPT"]
    local = [m for m in plan.deployment.models if m.path is not None]
    bundled = models.layout(target / models.BUNDLE)
    others = [
        f"{v.name} {v.version}" for v in bundled if not any(m.name == v.name and m.version == v.version for m in local)
    ]
    if "AZUREML_MODEL_DIR" not in plan.deployment.settings and len(plan.deployment.models) == 1 and others:
        model = plan.deployment.models[0]
        warnings.append(
            f"other models are bundled ({', '.join(others)}), so AZUREML_MODEL_DIR is {models.BUNDLE}/, not "
            f"{models.BUNDLE}/{model.name}/{model.version or 'VERSION'} as on AML. Remove them (python -m adapter "
            "models remove NAME) unless the script loads them."
        )
    warnings += models.sample_left_beside(target, entry)
    return warnings


def _check(plan: Plan, out: TextIO) -> int:
    """`python -m adapter check` on the imported app, seeing the settings the Function App will have."""
    from adapter.tools.check import cli as check

    os.environ["AML_APP_ROOT"] = str(plan.target)
    os.environ.update(plan.deployment.settings)
    print(file=out)
    print("Running python -m adapter check:", file=out)
    return check.run(plan.target, out)
