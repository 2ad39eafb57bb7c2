"""Serve our modules under the `azureml.*` names score scripts import, installed or not.

Like azmlinfsrv, our `aml_request`/`aml_response` always win over `azureml-contrib-services`, and over azmlinfsrv's
own `azureml_inference_server_http.api` (installed in many development environments: its `@rawhttp` would set its
flag, not ours). The data collection APIs (`azureml.monitoring`, `azureml.ai.monitoring`) are always ours too: the
real ones cannot work outside an AML container (see `adapter.azureml.data_collection`). Parent packages come from a
real installation when there is one (so `azureml.core` stays intact), else they are empty namespace packages.
`azureml.core.model` is ours without azureml-core; with it, azureml-core's module stays (its other modules import
from it) and ours extends it (`EXTENDED`). Nothing else of `azureml` is provided.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from types import ModuleType

ALIASES = {
    "azureml.contrib.services.aml_request": "adapter.azureml.aml_request",
    "azureml.contrib.services.aml_response": "adapter.azureml.aml_response",
    "azureml.core.model": "adapter.azureml.core_model",
    "azureml_inference_server_http.api.aml_request": "adapter.azureml.aml_request",
    "azureml_inference_server_http.api.aml_response": "adapter.azureml.aml_response",
    "azureml.monitoring": "adapter.azureml.monitoring_v1",
    "azureml.monitoring.modeldatacollector": "adapter.azureml.monitoring_v1",
    "azureml.ai.monitoring": "adapter.azureml.monitoring_v2",
    "azureml.ai.monitoring.collector": "adapter.azureml.monitoring_v2",
    "azureml.ai.monitoring.context": "adapter.azureml.monitoring_v2",
}
#: Aliases whose installed module, when there is one, is kept and handed to the target's `extend_installed`.
EXTENDED = frozenset({"azureml.core.model"})
_PARENTS = {alias.rsplit(".", i)[0] for alias in ALIASES for i in range(1, alias.count(".") + 1)}


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(self.target)

    def exec_module(self, module: ModuleType) -> None:
        """The target module is already executed."""


class _ExtendingLoader(importlib.abc.Loader):
    """The installed module's own loader, then the target's `extend_installed(module)`."""

    def __init__(self, installed: importlib.abc.Loader, target: str) -> None:
        self.installed = installed
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.installed.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.installed.exec_module(module)
        importlib.import_module(self.target).extend_installed(module)

    def __getattr__(self, name: str) -> object:
        """`get_source`, `get_filename`... of the installed loader, for tracebacks and inspect."""
        return getattr(self.installed, name)


class _AzuremlFinder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname in EXTENDED:
            installed = importlib.machinery.PathFinder.find_spec(fullname, path)
            if installed is not None and installed.loader is not None:
                installed.loader = _ExtendingLoader(installed.loader, ALIASES[fullname])
                return installed
        if fullname in ALIASES:
            return importlib.util.spec_from_loader(fullname, _AliasLoader(ALIASES[fullname]))
        if fullname in _PARENTS:
            real = importlib.machinery.PathFinder.find_spec(fullname, path)
            return real or importlib.machinery.ModuleSpec(fullname, None, is_package=True)
        return None


def install() -> None:
    """Put the finder first on `sys.meta_path` (idempotent), and forget any aliased module something imported from
    an installed package before, so the script's import reaches the finder."""
    if not any(isinstance(finder, _AzuremlFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AzuremlFinder())
    for alias, target in ALIASES.items():
        loaded = sys.modules.get(alias)
        if loaded is not None and alias not in EXTENDED and loaded is not sys.modules.get(target):
            del sys.modules[alias]
