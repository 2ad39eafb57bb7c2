"""Reading an AML deployment file for `python -m adapter import`: a v2 online deployment YAML
(`managedOnlineDeployment`, `kubernetesOnlineDeployment`) or an SDK v1 InferenceConfig (JSON, or YAML with the same
keys), into what the import needs, with every path resolved and checked to exist. Nothing here writes.

The layouts are AML's: a v2 deployment's code folder is the app root and its scoring script is relative to it; a v1
source directory keeps its name under the app root, is put on `sys.path` (AZUREML_SOURCE_DIRECTORY) and holds the
entry script. A model is bundled under its name and version, or its file or folder name and 1.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapter import host_config, mlflow_model, models
from adapter.tools import documents

V2_SCHEMAS = ("managedOnlineDeployment", "kubernetesOnlineDeployment")


class Refused(Exception):
    """Input that cannot be imported, in one sentence; nothing has been written."""


@dataclass
class ModelSource:
    name: str
    version: int | None
    #: The local file or folder; None for a model registered in the workspace (`azureml:NAME:VERSION`).
    path: Path | None = None
    reference: str | None = None
    registry: str | None = None
    label: str | None = None


@dataclass
class Environment:
    conda_file: Path | None = None
    #: Conda dependencies written into the deployment file itself (an InferenceConfig's `condaDependencies`).
    inline: object = None
    pip_files: list[Path] = field(default_factory=list)
    #: A registered environment (`azureml:NAME:VERSION`), and its parts when import reads its form.
    registered: str | None = None
    name: str | None = None
    version: str | None = None
    registry: str | None = None
    image: str | None = None


@dataclass
class AmlDeployment:
    """What a deployment file says, with every path resolved and checked to exist."""

    kind: str
    file: Path
    #: The folder copied into the app (v2 code, v1 source directory), or None for a lone v1 entry script.
    code: Path | None
    #: v1: the source directory lands in a folder of this name; v2 code lands at the app root (None).
    code_as: str | None
    single_file: Path | None
    settings: dict[str, str]
    models: list[ModelSource]
    environment: Environment
    notes: list[str] = field(default_factory=list)
    #: Said loudly before anything is written (a GPU instance type).
    warnings: list[str] = field(default_factory=list)

    @property
    def no_code(self) -> bool:
        """An MLflow model without a scoring script: the adapter's MLflow script serves it."""
        return self.code is None and self.single_file is None


# Reading the deployment file


def read(path: Path) -> AmlDeployment:
    data = _load(path)
    # Kinds the adapter cannot serve get their own reason before any key is read (refusals raises `Refused`, so it
    # imports this module: imported here, not at the top).
    from adapter.tools.importer import refusals

    refusals.refuse_unsupported(path, data)
    if "entryScript" in data or "entry_script" in data:
        return _v1(path, data)
    schema = str(data.get("$schema") or "")
    if "code_configuration" in data or any(name in schema for name in V2_SCHEMAS):
        return _v2(path, data, schema)
    raise Refused(_not_a_deployment(path, data, schema))


def _load(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise Refused(f"{path} does not exist.")
    if path.is_dir():
        raise Refused(
            f"{path} is a folder; give the deployment YAML (like blue-deployment.yml) or the InferenceConfig JSON."
        )
    try:
        data = documents.read_document(path)
    except documents.DocumentError as ex:
        raise Refused(str(ex)) from None
    if not isinstance(data, dict):
        raise Refused(f"{path} is not an AML deployment file: it holds {type(data).__name__}, not settings.")
    return data


def read_yaml(text: str, path: Path) -> object:
    """YAML text read from `path`, aliases bounded (`adapter.tools.documents`)."""
    try:
        return documents.parse_yaml(text, str(path), path.name)
    except documents.DocumentError as ex:
        raise Refused(str(ex)) from None


def _not_a_deployment(path: Path, data: dict[str, Any], schema: str) -> str:
    if "Endpoint" in schema or "deployments" in data or ("auth_mode" in data and "code_configuration" not in data):
        return (
            f"{path} describes an endpoint, not a deployment; import one of its deployment files (the YAML with "
            "code_configuration, like blue-deployment.yml)."
        )
    if "batchDeployment" in schema or data.get("type") == "batch" or "mini_batch_size" in data:
        return f"{path} is a batch deployment; only online deployments answer HTTP requests."
    if schema:
        return (
            f"{path} uses the schema {schema}, which import does not read; it reads managedOnlineDeployment and "
            "kubernetesOnlineDeployment YAML files and InferenceConfig JSON files."
        )
    return (
        f"{path} is not an AML deployment file: it has neither code_configuration (an online deployment YAML) nor "
        "entryScript (an InferenceConfig)."
    )


def _v2(path: Path, data: dict[str, Any], schema: str) -> AmlDeployment:
    if schema and not any(name in schema for name in V2_SCHEMAS):
        raise Refused(_not_a_deployment(path, {}, schema))
    kind = data.get("type")
    if kind not in (None, "managed", "kubernetes"):
        raise Refused(f"{path}: deployment type {kind!r} is not an online deployment (managed or kubernetes).")
    kubernetes = kind == "kubernetes" or "kubernetes" in schema.lower()
    base = path.parent
    config = data.get("code_configuration")
    model = data.get("model")
    if not isinstance(config, dict):
        if not _mlflow(base, model):
            raise Refused(f"{path}: code_configuration must give `code` (a folder) and `scoring_script`.")
        # No-code: AML serves an MLflow model with its own scoring script; the adapter has its own by that name.
        code_dir, settings = None, {"AZUREML_ENTRY_SCRIPT": mlflow_model.ENTRY_SCRIPT_NAME}
    else:
        code_dir, settings = _v2_code(path, config)
    notes = []
    request = data.get("request_settings") or {}
    if not isinstance(request, dict):
        raise Refused(f"{path}: request_settings must be a mapping.")
    timeout = _positive(request, "request_timeout_ms", path)
    if timeout is not None:
        settings["SCORING_TIMEOUT_MS"] = str(timeout)
    concurrency = _positive(request, "max_concurrent_requests_per_instance", path)
    if concurrency is not None:
        settings["SCORING_CONCURRENCY"] = str(concurrency)
    variables = _variables(data.get("environment_variables"), "environment_variables", path)
    settings.update({name: value for name, value in variables.items() if name not in settings})
    from adapter.tools.importer import hosting, refusals

    collection = hosting.mlflow_collection(data, path) if code_dir is None else {}
    if collection:  # the deployment's own environment_variables win
        settings.update({name: value for name, value in collection.items() if name not in variables})
        shown = " ".join(f"{name}={value}" for name, value in collection.items())
        notes.append(f"data_collector: the MLflow model's inputs and outputs are collected ({shown}).")
    carried = hosting.not_carried_over(data, frozenset({"data_collector"} if collection else ()))
    if carried:
        notes.append("Not carried over (AML hosting settings), with what plays their part on Functions:")
        notes.extend(f"  {line}" for line in carried)
    gpu = refusals.gpu_warning(data)
    return AmlDeployment(
        kind=f"v2 {'kubernetes' if kubernetes else 'managed'} online deployment",
        file=path,
        code=code_dir,
        code_as=None,
        single_file=None,
        settings=settings,
        models=_v2_models(base, model, path),
        environment=_v2_environment(base, data.get("environment"), path),
        notes=notes,
        warnings=[gpu] if gpu else [],
    )


def _v2_code(path: Path, config: dict[str, Any]) -> tuple[Path, dict[str, str]]:
    base = path.parent
    code = config.get("code")
    if isinstance(code, dict):  # the preview schema's `code: {local_path: ...}`
        code = code.get("local_path")
    script = config.get("scoring_script")
    if not isinstance(code, str) or not isinstance(script, str):
        raise Refused(f"{path}: code_configuration must give `code` (a folder) and `scoring_script` (a file in it).")
    if code.startswith("azureml:"):
        raise Refused(
            f"{path}: code_configuration.code is a registered code asset ({code}); point it at the local folder "
            "holding the scoring script."
        )
    code_dir = _folder(base, code, "code_configuration.code", path)
    entry = _file_inside(code_dir, script, "code_configuration.scoring_script")
    return code_dir, {"AZUREML_ENTRY_SCRIPT": entry}


def _mlflow(base: Path, model: object) -> bool:
    """Whether the deployment's model is an MLflow model: typed so, or a local folder holding an MLmodel; a
    registered model (`azureml:NAME:VERSION`) deployed without code can only be one (AML refuses any other)."""
    if isinstance(model, str):
        return model.startswith("azureml:")
    if not isinstance(model, dict):
        return False
    if "mlflow" in str(model.get("type", "")).lower():
        return True
    where = model.get("path")
    return isinstance(where, str) and (base / where / mlflow_model.MLMODEL).is_file()


def _v2_models(base: Path, model: object, path: Path) -> list[ModelSource]:
    if model is None:
        return []
    if isinstance(model, str):
        if model.startswith("azureml:"):
            return [_registered(model, path)]
        raise Refused(f"{path}: model must be azureml:NAME:VERSION or a mapping with a path, not {model!r}.")
    if not isinstance(model, dict):
        raise Refused(f"{path}: model must be azureml:NAME:VERSION or a mapping with a path.")
    where = model.get("path")
    if not isinstance(where, str) or not where:
        raise Refused(f"{path}: model has no path, so there is nothing to bundle.")
    if where.startswith("azureml:") or "://" in where:
        name = _name(str(model.get("name") or "MODEL"), path)
        version = model.get("version")
        return [ModelSource(name, _version(version, path) if version is not None else None, reference=where)]
    local = _named_path(base, where, "model.path", path)
    if not local.exists():
        raise Refused(f"{path}: model.path {where} does not exist (looked for {local}).")
    if not (local.is_file() or local.is_dir()):
        raise Refused(f"{path}: model.path {where} is not a file or a folder.")
    name = str(model.get("name") or _name_from(local))
    try:
        models.check_name(name)
    except models.BundleError as ex:
        raise Refused(f"{path}: {ex}") from None
    version = model.get("version")
    return [ModelSource(name, _version(1 if version is None else version, path), path=local)]


def _registered(reference: str, path: Path) -> ModelSource:
    """`azureml:NAME:VERSION`, `azureml:NAME@LABEL`, `azureml://registries/REG/models/NAME/versions/V`, or the full
    ARM id `azureml:/subscriptions/.../models/NAME/versions/V`."""
    full = re.fullmatch(r"azureml:/*(?:.*?/)??(?:registries/([^/]+)/)?models/([^/]+)/versions/([^/]+)", reference)
    if full:
        registry, name, version = _names(path, f"model {reference}", *full.groups())
        return ModelSource(_name(name, path), _version(version, path), reference=reference, registry=registry)
    labelled = re.fullmatch(r"azureml:([^:@/]+)@([^:@/]+)", reference)
    if labelled:
        name, label = _names(path, f"model {reference}", *labelled.groups())
        return ModelSource(_name(name, path), None, reference=reference, label=label)
    short = re.fullmatch(r"azureml:([^:@/]+):([^:@/]+)", reference)
    if short:
        return ModelSource(_name(short.group(1), path), _version(short.group(2), path), reference=reference)
    raise Refused(f"{path}: model {reference} is not a model reference import reads (azureml:NAME:VERSION).")


def _registered_environment(reference: str, path: Path) -> Environment:
    """`azureml:NAME:VERSION`, `azureml:NAME@LABEL`, `azureml://registries/REG/environments/NAME[/versions/V]` or an
    ARM id; another form is kept as it is, and named without its parts."""
    found = Environment(registered=reference)
    full = re.fullmatch(
        r"azureml:/*(?:.*?/)??(?:registries/([^/]+)/)?environments/([^/]+)(?:/(?:versions|labels)/([^/]+))?/?",
        reference,
    )
    short = re.fullmatch(r"azureml:([^:@/]+)[:@](.+)", reference)
    if full:
        found.registry, found.name, found.version = _names(path, f"environment {reference}", *full.groups())
    elif short:
        found.name, found.version = _names(path, f"environment {reference}", *short.groups())
    return found


def _names(path: Path, what: str, *parts: str | None) -> tuple[str | None, ...]:
    """Names, versions, labels and registries read from a reference, each checked against AML's name rule: they
    are printed into the `az ml` and `models add` commands to run, where `m$(touch x)` would run."""
    for part in parts:
        if part is not None and not models.NAME_RULE.fullmatch(part):
            raise Refused(
                f"{path}: {what}: {part!r} is not an AML name (a letter or digit, then letters, digits, '-', '_' "
                "and '.'), so it is not put into the commands import prints."
            )
    return parts


def _name(name: str | None, path: Path) -> str:
    assert name is not None
    try:
        return models.check_name(name)
    except models.BundleError as ex:
        raise Refused(f"{path}: {ex}") from None


def _v2_environment(base: Path, environment: object, path: Path) -> Environment:
    if environment is None:
        return Environment()
    if isinstance(environment, str):
        if environment.startswith("azureml:"):
            return _registered_environment(environment, path)
        raise Refused(f"{path}: environment must be azureml:NAME:VERSION or a mapping, not {environment!r}.")
    if not isinstance(environment, dict):
        raise Refused(f"{path}: environment must be azureml:NAME:VERSION or a mapping.")
    found = Environment(image=environment.get("image") if isinstance(environment.get("image"), str) else None)
    conda = environment.get("conda_file")
    if conda is not None:
        if not isinstance(conda, str):
            raise Refused(f"{path}: environment.conda_file must be a path.")
        found.conda_file = _existing_file(base, conda.removeprefix("file:"), "environment.conda_file", path)
    build = environment.get("build")
    if isinstance(build, dict) and isinstance(build.get("path"), str):
        context = _folder(base, build["path"], "environment.build.path", path)
        if (context / "requirements.txt").is_file():  # what a build context's Dockerfile usually pip-installs
            found.pip_files.append(context / "requirements.txt")
    return found


def _v1(path: Path, data: dict[str, Any]) -> AmlDeployment:
    entry = data.get("entryScript", data.get("entry_script"))
    if not isinstance(entry, str) or not entry:
        raise Refused(f"{path}: entryScript must name the entry script.")
    source = data.get("sourceDirectory", data.get("source_directory"))
    base = path.parent
    settings: dict[str, str] = {}
    code_dir = single = None
    code_as = None
    if source:
        if not isinstance(source, str):
            raise Refused(f"{path}: sourceDirectory must be a path.")
        code_dir = _folder(base, source, "sourceDirectory", path)
        # As AML v1 builds the image: the source directory keeps its name under the app root and is put on
        # sys.path; the entry script is relative to it.
        code_as = code_dir.resolve().name
        relative = _file_inside(code_dir, entry, "entryScript")
        settings["AZUREML_SOURCE_DIRECTORY"] = code_as
        settings["AZUREML_ENTRY_SCRIPT"] = f"{code_as}/{relative}"
    else:
        single = _existing_file(base, entry, "entryScript", path)
        settings["AZUREML_ENTRY_SCRIPT"] = single.name
    environment = Environment()
    notes = []
    described = data.get("environment")
    if isinstance(described, dict):
        variables = _variables(described.get("environmentVariables"), "environmentVariables", path)
        settings.update({name: value for name, value in variables.items() if name not in settings})
        python = described.get("python") or {}
        if isinstance(python, dict) and python.get("condaDependencies"):
            environment.inline = python["condaDependencies"]
        elif isinstance(python, dict) and isinstance(python.get("condaDependenciesFile"), str):
            folder = code_dir or base
            environment.conda_file = _existing_file(
                folder, python["condaDependenciesFile"], "condaDependenciesFile", path
            )
        elif described.get("name") and not python:
            registered = _registered_environment(f"azureml:{described['name']}:{described.get('version') or 1}", path)
            environment.registered, environment.name, environment.version = (
                registered.registered,
                registered.name,
                registered.version,
            )
        if isinstance(python, dict) and python.get("userManagedDependencies"):
            notes.append(
                "The environment manages its own dependencies (userManagedDependencies): list what the script "
                "imports in requirements.txt yourself."
            )
        docker = described.get("docker")
        if isinstance(docker, dict) and isinstance(docker.get("baseImage"), str):
            environment.image = docker["baseImage"]
    elif described is not None:
        raise Refused(f"{path}: environment must be a mapping like the one Environment.save_to_directory writes.")
    conda_file = data.get("condaFile", data.get("conda_file"))
    if isinstance(conda_file, str) and environment.inline is None and environment.conda_file is None:
        environment.conda_file = _existing_file(code_dir or base, conda_file, "condaFile", path)
    return AmlDeployment(
        kind="v1 InferenceConfig",
        file=path,
        code=code_dir,
        code_as=code_as,
        single_file=single,
        settings=settings,
        models=[],
        environment=environment,
        notes=notes,
    )


def _folder(base: Path, relative: str, what: str, path: Path) -> Path:
    folder = _named_path(base, relative, what, path)
    if not folder.is_dir():
        raise Refused(f"{what} {relative} is not a folder (looked for {folder}).")
    return folder


def _existing_file(base: Path, relative: str, what: str, path: Path) -> Path:
    file = _named_path(base, relative, what, path)
    if os.path.exists(file) and not file.is_file():
        raise Refused(f"{path}: {what} {relative} is not a regular file (looked for {file}); it is not opened.")
    if not file.is_file():
        raise Refused(f"{path}: {what} {relative} does not exist (looked for {file}).")
    return file


def _named_path(base: Path, relative: str, what: str, path: Path) -> Path:
    """The absolute path `relative` (from `base`) names, the one that is checked, reported and copied; refused when
    a symlink on its way that sits in the deployment file's folder leads out of that folder.

    It is normalised as the copy and the report take it (`x/../b` is the folder's own `b`, whatever `x` links to), so
    the links checked are the links the copy goes through. trees.walk checks what is inside a code or model folder;
    this checks the path to it. A `code -> ~/.ssh` link beside the deployment file would otherwise copy the keys into
    the app, named as an innocent folder. A path the file spells out (`../../shared/src`, `/data/model`) stays
    allowed, through whatever links the machine has outside the folder (`/tmp -> /private/tmp` on macOS, a home on
    another disk): it shows in the file, and the report prints where it resolves.
    """
    named = Path(os.path.abspath(base / relative))
    boundary = path.parent.resolve()
    try:
        link = next(filter(lambda step: _placed_link(step, boundary), [named, *named.parents][::-1]), None)
        real = named.resolve(strict=False)
    except (OSError, RuntimeError):  # a loop: nothing there to copy; the existence checks say so
        return named
    if link is not None and not real.is_relative_to(boundary):
        raise Refused(
            f"{path}: {what} {relative} leads through the symlink {link} to {real}, outside {path.parent}: "
            "a link there would copy whatever it points at (your keys) into the app; give the real path instead."
        )
    return named


def _placed_link(step: Path, boundary: Path) -> bool:
    """Whether `step` is a symlink placed in the deployment file's folder (its parent resolves inside it); links
    elsewhere are the machine's."""
    return step.is_symlink() and step.parent.resolve().is_relative_to(boundary)


def _file_inside(folder: Path, relative: str, what: str) -> str:
    """`relative` as a path inside `folder` (posix), once it is a file there that does not lead out."""
    file = folder / relative
    if not file.is_file():
        raise Refused(f"{what} {relative} is not a file in {folder}.")
    real = file.resolve()
    if not real.is_relative_to(folder.resolve()):
        raise Refused(f"{what} {relative} leads outside {folder}, which is what gets copied.")
    return Path(os.path.relpath(os.path.abspath(file), folder)).as_posix()


def _variables(variables: object, what: str, path: Path) -> dict[str, str]:
    if variables is None:
        return {}
    if not isinstance(variables, dict):
        raise Refused(f"{path}: {what} must be a mapping of names to values.")
    out = {}
    for name, value in variables.items():
        if not isinstance(name, str) or not name or "=" in name or not name.isprintable():
            raise Refused(f"{path}: {what} has a name that is not a variable name: {name!r}.")
        text = "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
        why = host_config.unsettable(name, text)
        if why is not None:  # it would be written, then fail every later check and func start
            raise Refused(f"{path}: {what}: the setting {name!r} {why}.")
        out[name] = text
    return out


def _positive(settings: dict[str, Any], key: str, path: Path) -> int | None:
    value = settings.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise Refused(f"{path}: request_settings.{key} must be a whole number above 0, not {value!r}.")
    return value


def _version(version: object, path: Path) -> int:
    try:
        return models.check_version(str(version))
    except models.BundleError:
        raise Refused(
            f"{path}: model version {version!r} is not a whole number from 1, which the bundle's folders (like "
            "AML's azureml-models) need; pass --model NAME:VERSION=PATH with a number."
        ) from None


def _name_from(path: Path) -> str:
    """A model name for an unnamed model: its folder's name, or its file's name without the extension."""
    base = path.name if path.is_dir() else path.name.split(".")[0] or path.name
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", base).lstrip("._-")[:255]
    return name or "model"
