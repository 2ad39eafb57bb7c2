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
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from adapter import mlflow_model, models, trees
from adapter.paths import FUNCTION_APP_ROOT
from adapter.tools import documents, terminal
from adapter.tools.check.package import SUPPORTED_PYTHON, FuncIgnore, settings_command
from adapter.tools.check.target import MANIFEST
from adapter.tools.check.wheels import default_python
from adapter.tools.importer import app_settings, identity, layout, manifest, resolve
from adapter.tools.importer import mlflow as mlflow_deps
from adapter.tools.importer import requirements as conda_deps
from adapter.tools.importer.deployment_file import AmlDeployment, Environment, ModelSource, Refused, read
from adapter.tools.importer.layout import listed as _listed

DEFAULT_LOCAL_SETTINGS: dict[str, Any] = {"IsEncrypted": False, "Values": {"FUNCTIONS_WORKER_RUNTIME": "python"}}
SETTING_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class Plan:
    target: Path
    deployment: AmlDeployment
    copies: list[tuple[Path, Path]] = field(default_factory=list)
    #: Every code file of the deployment, copied or already there (relative posix paths).
    laid: set[str] = field(default_factory=set)
    #: The ones this import owns, recorded in the manifest for the next import to remove: those it writes, and those
    #: the previous import wrote and finds unchanged. A file the user had put there, identical, stays the user's.
    owned: set[str] = field(default_factory=set)
    unchanged: int = 0
    overwritten: list[str] = field(default_factory=list)
    remove_sample_script: bool = False
    remove_sample_model: bool = False
    #: Local models to bundle, with whether each replaces a bundled version.
    models: list[tuple[ModelSource, bool]] = field(default_factory=list)
    already_bundled: list[str] = field(default_factory=list)
    #: Of those, the ones the previous import bundled: recorded again, with the versions this import bundles.
    owned_models: list[str] = field(default_factory=list)
    registered: list[ModelSource] = field(default_factory=list)
    converted: conda_deps.Converted | None = None
    requirements: conda_deps.Merged | None = None
    local_settings: str = ""
    #: The Function App's Python version, chosen with the requirements.
    python: str = ""
    #: The previous import's record, and its files and model versions this import removes.
    previous: manifest.Manifest | None = None
    stale_files: list[str] = field(default_factory=list)
    stale_models: list[str] = field(default_factory=list)
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
    parser.add_argument(
        "--pip",
        action="append",
        default=[],
        metavar="LINE",
        help="a requirements.txt line to write as given (a pip option, URL or -e line the environment's own are not "
        "trusted with); repeat it for more",
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit with check's code (1 when a check step fails), not the import's"
    )


def main(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    target = Path(os.path.abspath(args.into)) if args.into else FUNCTION_APP_ROOT
    try:
        deployment = read(Path(os.path.abspath(args.path)))
        _use_models(deployment, [_model_option(text) for text in args.model])
        for warning in deployment.warnings:  # before anything is written
            print(f"WARNING: {terminal.escape(warning)}", file=out)
        plan = make_plan(deployment, target, args.replace, args.pip)
    except Refused as ex:
        print(f"error: {terminal.escape(str(ex))}", file=err)
        return 2
    except (OSError, ValueError) as ex:  # an unreadable file met while planning: still nothing written
        print(f"error: {type(ex).__name__}: {terminal.escape(str(ex))}; nothing was changed.", file=err)
        return 2
    try:
        apply(plan)
    except (OSError, models.BundleError) as ex:
        print(f"error: the import stopped part-way, {terminal.escape(str(ex))}", file=err)
        return 1
    report(plan, out)
    if args.no_check:
        return 0
    verdict = _check(plan, out)
    return verdict if args.strict else 0


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


def make_plan(deployment: AmlDeployment, target: Path, replace: bool, pip: list[str] | None = None) -> Plan:
    if not (target / "function_app.py").is_file() or not (target / "host.json").is_file():
        raise Refused(
            f"{target} is not a function app folder (it has no function_app.py and host.json); import into a copy "
            "of this project."
        )
    plan = Plan(target, deployment)
    settings = app_settings.split(deployment.settings)
    deployment.settings = settings.kept
    plan.warnings += [f"not carried over, the platform owns this setting: {refused}" for refused in settings.refused]
    plan.previous = manifest.read(target)
    plan.remove_sample_script = models.is_sample_script(target / models.SAMPLE_SCRIPT)
    names = {m.name for m in deployment.models}
    plan.remove_sample_model = models.sample_model(target) is not None and models.SAMPLE_MODEL not in names
    if deployment.no_code:
        _plan_no_code(plan)
    else:
        _plan_code(plan, replace)
    _plan_package(plan)
    _plan_models(plan, replace)
    _plan_requirements(plan, pip or [])
    _plan_previous(plan)
    plan.local_settings = _local_settings(target, deployment.settings)
    return plan


def _plan_previous(plan: Plan) -> None:
    """The previous import's files and model versions that this one does not lay again: removed, so they are not
    published with the new deployment."""
    previous = plan.previous
    if previous is None:
        return
    plan.stale_files = manifest.stale_files(plan.target, previous, plan.laid)
    keep = {f"{m.name}/{m.version}" for m in plan.deployment.models if m.path is not None}
    plan.stale_models = [m for m in previous.models if m not in keep and (plan.target / models.BUNDLE / m).is_dir()]


def _plan_code(plan: Plan, replace: bool) -> None:
    deployment, target = plan.deployment, plan.target
    if deployment.code is not None:
        real = deployment.code.resolve()
        if target.resolve().is_relative_to(real):
            raise Refused(f"The code folder {deployment.code} holds the function app itself; it cannot be copied in.")
        if deployment.code_as is not None:
            layout.check_folder_name(deployment.code_as, f"The source directory {deployment.code}")
        sources, dotted = layout.code_files(deployment.code)
        entry = deployment.settings["AZUREML_ENTRY_SCRIPT"]
        entry = entry.removeprefix(f"{deployment.code_as}/") if deployment.code_as else entry
        if entry not in {relative for _, relative in sources}:  # else the app would serve no script at all
            raise Refused(
                f"The entry script {entry} is not copied from {deployment.code}: "
                f"{layout.not_copied(deployment.code, entry)}."
            )
        if dotted:
            plan.notes.append(
                f"Not copied: {_listed(dotted)} (dot-files and dot-folders are never imported, since tools act on "
                "them); rename any the script reads."
            )
    else:
        assert deployment.single_file is not None
        # Read where a link inside the deployment's folder leads (copying never follows a link itself).
        sources = [(deployment.single_file.resolve(), deployment.single_file.name)]
    prefix = f"{deployment.code_as}/" if deployment.code_as else ""
    owned, blocked, differing = [], [], []
    for source, relative in sources:
        destination = prefix + relative
        if layout.owned(destination):
            owned.append(destination)
            continue
        if destination == "requirements.txt":
            plan.notes.append(
                "The code folder's requirements.txt is not copied: the app's requirements.txt is made from the "
                "environment (AML does not install the code folder's either)."
            )
            continue
        dest = target / destination
        plan.laid.add(destination)
        ours = plan.previous is not None and destination in plan.previous.files
        problem = _blocked(target, dest)
        if problem:
            blocked.append(f"{destination} ({problem})")
        elif not dest.exists() or (destination == models.SAMPLE_SCRIPT and plan.remove_sample_script):
            plan.copies.append((source, dest))
            plan.owned.add(destination)
        elif filecmp.cmp(source, dest, shallow=False):
            plan.unchanged += 1
            if ours:
                plan.owned.add(destination)
        elif replace or ours:  # a file the previous import wrote is the previous deployment's, replaced
            plan.owned.add(destination)
            plan.overwritten.append(destination)
            plan.copies.append((source, dest))
        else:
            differing.append(destination)
    if owned:
        raise Refused(
            f"The code holds {_listed(owned)}, which belong to the function app itself or are dot-files that tools "
            "act on; rename or remove them in the code folder (or list them in its .amlignore)."
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
    if dest.exists() and not dest.is_file():
        return "not a regular file in the app"
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
        try:
            models.check_source(model.path)
        except models.BundleError as ex:
            raise Refused(str(ex)) from None
        previous = plan.previous is not None and f"{model.name}/{model.version}" in plan.previous.models
        if version.exists():
            if _same(model.path, version):
                plan.already_bundled.append(f"{models.BUNDLE}/{model.name}/{model.version}")
                if previous:  # the previous import bundled it: still an import's; else it stays the user's
                    plan.owned_models.append(f"{model.name}/{model.version}")
                continue
            if not replace and not previous:
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


def _plan_requirements(plan: Plan, pip: list[str]) -> None:
    environment = plan.deployment.environment
    plan.python = resolve.candidates(None, default_python())[0]
    if environment.conda_file is None and environment.inline is None and not environment.pip_files and not pip:
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
        conda_deps.from_command_line(pip, converted)
        source = f"{source}, --pip" if pip and source else source or "--pip"
    except conda_deps.DependencyError as ex:
        raise Refused(str(ex)[:1].upper() + str(ex)[1:]) from None
    _plan_written_requirements(plan, converted, source)


def _plan_written_requirements(plan: Plan, converted: conda_deps.Converted, source: str) -> None:
    """The converted lines merged into the app's requirements.txt, then resolved once for the Python chosen."""
    requirements = plan.target / "requirements.txt"
    try:
        existing = documents.read_text(requirements) if os.path.lexists(requirements) else ""
    except documents.DocumentError as ex:
        raise Refused(str(ex)) from None
    plan.converted = converted
    merged: dict[str, conda_deps.Merged] = {}

    def merged_for(python: str) -> str:  # which app lines a marked line replaces depends on the Python tried
        if python not in merged:
            merged[python] = conda_deps.merge(existing, converted.lines, source, python)
        return merged[python].text

    resolved = resolve.resolve(merged_for, converted.python, default_python())
    merged_for(resolved.python)
    plan.requirements = merged[resolved.python]
    plan.requirements.text = resolved.text
    plan.python = resolved.python
    plan.notes += resolved.notes
    plan.warnings += plan.requirements.warnings + resolved.warnings


def _plan_mlflow_requirements(plan: Plan) -> None:
    """A no-code deployment without an environment: AML builds it from the model's own requirements."""
    local = [m.path for m in plan.deployment.models if m.path is not None]
    if not plan.deployment.no_code or not local or environment_named(plan):
        return
    converted, source, notes = mlflow_deps.requirements(local[0])
    plan.notes.extend(notes)
    _plan_written_requirements(plan, converted, source)


def environment_named(plan: Plan) -> bool:
    environment = plan.deployment.environment
    return bool(environment.registered or environment.image)


def _conda_content(path: Path) -> object:
    try:
        return documents.read_document(path, "The conda file")
    except documents.DocumentError as ex:
        raise Refused(str(ex)) from None


def _local_settings(target: Path, settings: dict[str, str]) -> str:
    """local.settings.json with the deployment's settings in `Values` (made from the sample if missing)."""
    path = target / "local.settings.json"
    sample = target / "local.settings.sample.json"
    source = path if path.is_file() else sample if sample.is_file() else None
    data: Any = json.loads(json.dumps(DEFAULT_LOCAL_SETTINGS))
    if source is not None:
        try:
            data = documents.parse_json(documents.read_text(source), str(source))
        except documents.DocumentError as ex:
            raise Refused(f"{str(ex).rstrip('.')}; fix it or delete it, then import again.") from None
    if not isinstance(data, dict) or not isinstance(data.setdefault("Values", {}), dict):
        raise Refused(f"{source}: it must be an object with a Values object.")
    data["Values"].update(settings)
    return json.dumps(data, indent=2) + "\n"


# Writing


def apply(plan: Plan) -> None:
    """Writes the plan; only I/O can fail here, everything else was checked."""
    target = plan.target
    if plan.remove_sample_script:
        (target / models.SAMPLE_SCRIPT).unlink()
    if plan.remove_sample_model:
        models.remove(target, models.SAMPLE_MODEL)
    manifest.remove_files(target, plan.stale_files)
    for stale in plan.stale_models:
        name, version = stale.split("/")
        models.remove(target, name, int(version))
    for source, dest in plan.copies:
        dest.parent.mkdir(parents=True, exist_ok=True)
        trees.copy_file(source, dest, overwrite=True)  # a link inside the code was resolved: the app gets the file
    for model, replace in plan.models:
        assert model.path is not None and model.version is not None
        models.add(target, model.name, model.path, model.version, replace=replace)
    bundle = target / models.BUNDLE
    if plan.remove_sample_model and bundle.is_dir() and not any(bundle.iterdir()):
        bundle.rmdir()  # then AZUREML_MODEL_DIR stays unset rather than naming an empty folder
    if plan.requirements is not None:
        _write(target / "requirements.txt", plan.requirements.text)
    _write(target / "local.settings.json", plan.local_settings)
    bundled = [f"{m.name}/{m.version}" for m, _ in plan.models] + plan.owned_models
    manifest.write(
        target, manifest.Manifest(str(plan.deployment.file), plan.python, sorted(plan.owned), sorted(set(bundled)))
    )


def _write(path: Path, text: str) -> None:
    """Whole or not at all: a temporary file beside it, then renamed over it."""
    temporary = path.with_name(f".{path.name}.importing")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


# Reporting


def report(plan: Plan, out: TextIO) -> None:
    deployment, target = plan.deployment, plan.target

    def say(text: str = "") -> None:
        print(terminal.escape(text), file=out)  # every line carries names and values from the deployment

    say(f"Imported {deployment.file} ({deployment.kind}) into {target}")
    say()
    removed = [name for name, gone in ((models.SAMPLE_SCRIPT, plan.remove_sample_script),) if gone]
    removed += [f"{models.BUNDLE}/{models.SAMPLE_MODEL}"] if plan.remove_sample_model else []
    if removed:
        say(f"The sample is gone: {', '.join(removed)}.")
    if plan.stale_files or plan.stale_models:
        gone = plan.stale_files + [f"{models.BUNDLE}/{m}" for m in plan.stale_models]
        say(f"The previous import's files are gone ({MANIFEST}): {_listed(gone)}.")
    if deployment.no_code:
        say(
            "Code: none; an MLflow model deployed without code is served by the adapter's MLflow scoring script, as "
            "AML serves it (docs/mlflow.md)."
        )
    else:
        source = deployment.code or deployment.single_file
        where = f"{deployment.code_as}/" if deployment.code_as else "the app root"
        counts = f"{len(plan.copies)} file(s) copied" + (f", {plan.unchanged} already there" if plan.unchanged else "")
        say(f"Code: {_resolved(source)} -> {where} ({counts}).")
    if plan.overwritten:
        say(f"  overwritten: {_listed(plan.overwritten)}")
    say(f"Entry script: {deployment.settings['AZUREML_ENTRY_SCRIPT']}")
    for model, _ in plan.models:
        assert model.path is not None
        say(f"Model: {_resolved(model.path)} -> {models.BUNDLE}/{model.name}/{model.version}/{model.path.name}")
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
        say(note if note.startswith("  ") else f"Note: {note}")
    for warning in warnings:
        say(f"WARNING: {warning}")


def _resolved(path: Path | None) -> str:
    """A source as the deployment names it, and where it really is when a symlink leads there (inside the deployment
    file's folder: deployment_file refuses the others), so what was copied is never hidden behind a link's name."""
    real = path.resolve() if path is not None else None
    return f"{path} (resolved: {real})" if real is not None and real != path else str(path)


def _report_registered(plan: Plan, say: Any) -> None:
    """The commands that fetch each registered model: every value from the deployment quoted for the shell (its
    names were checked against AML's rule already), only the <PLACEHOLDERS> left for the user to replace."""
    q = shlex.quote
    for model in plan.registered:
        version = q(str(model.version)) if model.version else "<VERSION>"
        name = q(model.name)
        say()
        say(f"WARNING: the model {model.reference} is not on this machine, so it is not bundled yet. Fetch it:")
        if model.label:
            say(f"  az ml model show --name {name} --label {q(model.label)} --query version  # its version")
        registry = f"--registry-name {q(model.registry)}" if model.registry else ""
        scope = registry or "--resource-group <RG> --workspace-name <WS>"
        say(f"  az ml model download --name {name} --version {version} --download-path ./downloaded {scope}")
        folder = q(f"./downloaded/{model.name}/")
        say(f"then bundle the file or folder the download holds (under ./downloaded/{model.name}/):")
        say(f"  python -m adapter models add {name} {folder}<FILE_OR_FOLDER> --version {version}")


def _report_requirements(plan: Plan, say: Any) -> None:
    environment = plan.deployment.environment
    merged, converted = plan.requirements, plan.converted
    say()
    if merged is None or converted is None:
        if environment.registered:
            _report_registered_environment(environment, say)
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
        ("passed with --pip, written as given", converted.passed),
    ):
        if items:
            say(f"  {title}:")
            for item in items:
                say(f"    {item}")
    if converted.assumed:
        say(f"  assumed to have the same name on PyPI as on conda: {', '.join(converted.assumed)}")


def _report_registered_environment(environment: Environment, say: Any) -> None:
    q = shlex.quote
    if environment.name is None:
        shown = "az ml environment show ..."
    else:
        shown = f"az ml environment show --name {q(environment.name)}"
        shown += f" --version {q(environment.version)}" if environment.version else ""
        registry = f" --registry-name {q(environment.registry)}" if environment.registry else ""
        shown += registry or " --resource-group <RG> --workspace-name <WS>"
    say(
        f"requirements.txt: unchanged; the environment {environment.registered} is registered in AML, not described "
        f"here. See its dependencies with `{shown}` and add them to requirements.txt."
    )


def _report_python(plan: Plan, say: Any) -> None:
    """The one Python version: the environment's when Functions supports it, else the nearest on which the
    requirements install. check tests it, and the Function App is created with it."""
    supported = ", ".join(f"{major}.{minor}" for major, minor in SUPPORTED_PYTHON)
    spec = plan.converted.python if plan.converted else None
    chosen = plan.python
    allowed = resolve.allowed(spec)
    if spec is None:
        why = f"the environment does not say which version; Azure Functions supports {supported}"
    elif allowed is None:
        why = (
            f"the environment asks for {spec}, which import cannot read; {chosen} is the nearest version Azure "
            f"Functions supports ({supported}) on which requirements.txt installs"
        )
    elif chosen in allowed:  # the spec is the reason only when the version meets it
        why = f"the environment asks for {spec}"
    elif not allowed:
        why = (
            f"the environment asks for {spec}, which Azure Functions cannot meet (it supports {supported}); {chosen} "
            "is the nearest version it supports on which requirements.txt installs"
        )
    else:
        why = f"the environment asks for {spec}, which {chosen} does not meet; Azure Functions supports {supported}"
    say(f"Python {chosen}: {why}. check tests {chosen}; create the Function App with it (Flex Consumption):")
    say(
        f"  az functionapp create --name <APP_NAME> --resource-group <RESOURCE_GROUP> --storage-account <STORAGE> "
        f"--flexconsumption-location <REGION> --runtime python --runtime-version {chosen}"
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
    controlled = [name for name, value in settings.items() if terminal.has_unsafe(value)]
    if controlled:
        say(
            f"WARNING: the values of {', '.join(controlled)} hold control characters (line breaks, escape "
            "sequences), shown escaped here and below; check they are meant, and set them in the portal."
        )
    say("Set them on the Function App (it reads app settings, not local.settings.json; check prints the same line):")
    say(f"  {settings_command(plan.target, json.loads(plan.local_settings).get('Values', {}))}")
    sources = [dest for _, dest in plan.copies] + [plan.target / laid for laid in plan.laid]
    hints = identity.hints(sorted(set(sources)), settings)
    if hints:
        say()
        for line in hints:
            say(line)


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
    """`python -m adapter check` on the imported app, in an environment built from the requirements.txt just
    written, for the Python chosen; its verdict is its own line (the import itself has succeeded)."""
    from adapter.tools.check import cli as check

    # The deployment's settings win over the shell's (a stale AZUREML_ENTRY_SCRIPT), except those check never takes
    # from local.settings.json; check names them.
    os.environ.update(app_settings.for_check(plan.deployment.settings))
    print(file=out)
    print("Running python -m adapter check (in an environment built from requirements.txt alone):", file=out)
    code = check.run(plan.target, out, isolated=True)  # the Python import chose, from its manifest
    print(file=out)
    if code:
        print("Import done; the check found problems to fix before publishing (above).", file=out)
    else:
        print("Import done; the check passed.", file=out)
    return code
