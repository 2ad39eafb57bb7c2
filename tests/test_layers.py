"""The design shows in the folder layout: each module imports only from its own layer or lower ones, so there is
no import cycle between layers and nothing imports upward (docs/development.md lists the layers)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from targets import ROOT

ADAPTER = ROOT / "adapter"
#: Lowest first. A module's layer is its sub-package, or its own name at the top of the package.
LAYERS = [
    {"paths", "errors", "request_context", "host_config", "trees", "models", "mlflow_model", "settings"},
    {"azureml"},
    {"http"},
    {"script"},
    {"openapi"},
    {"deployment", "functions"},
    {"hosting"},
    {"tools"},
    {"__main__"},
]
#: Within the foundation, the order that keeps it acyclic.
FOUNDATION = ["trees", "paths", "errors", "request_context", "models", "mlflow_model", "settings", "host_config"]


def layer_of(module: str) -> int:
    part = module.split(".")[1] if module.count(".") else module
    return next(i for i, names in enumerate(LAYERS) if part in names)


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("adapter"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names if (ADAPTER / a.name).exists())
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("adapter"))
    return {m for m in found if m != "adapter"}


MODULES = sorted(p for p in ADAPTER.rglob("*.py") if p.name != "__init__.py")


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(ADAPTER)) for p in MODULES])
def test_no_module_imports_from_a_higher_layer(path: Path) -> None:
    module = ".".join(("adapter", *path.relative_to(ADAPTER).with_suffix("").parts))
    own = layer_of(module)
    upward = [m for m in imports(path) if layer_of(m) > own]
    assert not upward, f"{module} imports from a higher layer: {upward}"
    if own == 0:
        rank = FOUNDATION.index(module.split(".")[1])
        later = [m for m in imports(path) if layer_of(m) == 0 and FOUNDATION.index(m.split(".")[1]) > rank]
        assert not later, f"{module} imports {later}, which come after it in the foundation"
