"""`from azureml.core.model import Model; Model.get_model_path(name, version)` for score scripts, against the bundle.

In an AML deployment `get_model_path` finds registered models in the container's model cache. Here the cache is
the bundle (`models/NAME/VERSION/`), and the lookup follows azureml-core 1.61's local rules and error messages, so a
script cannot tell: `version` must be an int; no version means the highest; the version folder must hold exactly one
file or folder, whose path is returned; then `AML_APP_ROOT/azureml-models` (where azureml-core looks) and
`./NAME`. Names must be model names (AML's rule), so a lookup cannot leave the bundle, nor follow a symlink out of
it (or, for `./NAME`, out of the app root).

Without azureml-core this module is `azureml.core.model`, with only `Model.get_model_path`. With azureml-core
installed its own module stays (its other modules import from it) and only `get_model_path` is replaced
(`extend_installed`), raising its own exception classes.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from adapter import models

logger = logging.getLogger("azureml.core.model")

#: azureml-core's message when no location has the model.
NOT_FOUND = (
    "Model {} not found in cache at {} or in current working directory {}. For more info, set logging level to DEBUG."
)


class AzureMLException(Exception):
    """Stands in for azureml-core's exception base when it is not installed: same name, same `message`."""

    def __init__(self, exception_message: str) -> None:
        super().__init__(exception_message)
        self.message = exception_message


class WebserviceException(AzureMLException):
    status_code = None


class ModelNotFoundException(AzureMLException):
    pass


class Model:
    """Only what a score script calls in a deployment; registering and deploying need azureml-core."""

    @staticmethod
    def get_model_path(model_name: str, version: int | None = None, _workspace: object = None) -> str:
        """The path of the model's registered file or folder, from the bundle (see the module docstring)."""
        return resolve(model_name, version)


def resolve(model_name: str, version: int | None = None) -> str:
    if version is not None and not isinstance(version, int):
        raise _error("WebserviceException", "version should be an int")
    if model_name is None:
        raise _error("WebserviceException", "model_name is None")
    try:
        models.check_name(model_name)
    except models.BundleError as ex:
        raise _error("WebserviceException", str(ex)) from None
    caches = (models.app_root() / models.BUNDLE, Path(os.environ.get("AML_APP_ROOT", ""), "azureml-models"))
    for cache in caches:
        found = _from_cache(cache, model_name, version)
        if found is not None:
            return found
    logger.debug("Model %s (version %s) is in none of %s; trying ./%s", model_name, version, caches, model_name)
    if os.path.exists(model_name):
        # The working directory is the app root; a symlink there must not lead the script out of it.
        _contained(models.app_root(), Path(model_name))
        return model_name
    message = NOT_FOUND.format(model_name, " or ".join(str(c) for c in caches), os.getcwd())
    # azureml-core reports a missing pinned version as a WebserviceException, a missing latest one as not found.
    raise _error("ModelNotFoundException" if version is None else "WebserviceException", message)


def extend_installed(module: ModuleType) -> None:
    """azureml-core is installed: keep its module and its `Model`, and resolve local look-ups against the bundle.

    A look-up with a workspace (only possible with azureml-core) still downloads from the registry.
    """
    original: Callable[..., str] = module.Model.get_model_path

    def get_model_path(model_name: str, version: int | None = None, _workspace: object = None) -> str:
        if _workspace is not None:
            return original(model_name, version, _workspace)
        return resolve(model_name, version)

    get_model_path.__doc__ = Model.get_model_path.__doc__
    module.Model.get_model_path = staticmethod(get_model_path)


def _from_cache(cache: Path, name: str, version: int | None) -> str | None:
    """azureml-core's probe of one cache: None when the model or version folder is absent, so the next is tried."""
    model_dir = cache / name
    if not model_dir.exists():
        return None
    real_cache = cache.resolve()
    _contained(real_cache, model_dir)
    if version is None:
        versions = [int(p.name) for p in model_dir.iterdir() if models.VERSION_RULE.fullmatch(p.name) and p.is_dir()]
        if not versions:
            raise _error("WebserviceException", "versions is empty")
        version = max(versions)
        logger.debug("version is None. Latest version is %s", version)
    version_dir = model_dir / str(version)
    if not version_dir.exists():
        return None
    _contained(real_cache, version_dir)
    entries = sorted(os.listdir(version_dir))
    if len(entries) != 1:
        raise _error("WebserviceException", f"Dir {version_dir} can contain only 1 file or folder. Found {entries}")
    path = version_dir / entries[0]
    _contained(real_cache, path)
    logger.debug("Found model path at %s", path)
    return str(path)


def _contained(real_root: Path, path: Path) -> None:
    if not models.inside(real_root, path):
        raise _error("WebserviceException", f"{path} leads outside {real_root}; models must stay inside it.")


def _error(kind: str, message: str) -> Exception:
    """azureml-core's own exception class when it is installed, so a script's `except` clauses keep working."""
    try:
        real: Any = importlib.import_module("azureml.exceptions")
        cls: type[Exception] = getattr(real, kind)
    except (ImportError, AttributeError):
        cls = globals()[kind]
    return cls(message)
