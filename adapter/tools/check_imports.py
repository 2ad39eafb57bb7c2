"""Does requirements.txt install everything the entry script (and the adapter) imports?

`func azure functionapp publish` installs requirements.txt and nothing else, so a package that is only in the local
environment is the classic "works here, ModuleNotFoundError on Azure". Import names map to distributions through
the local installation's metadata (`sklearn` -> scikit-learn, `azure.functions` -> azure-functions).
"""

from __future__ import annotations

import ast
import functools
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from adapter.azureml.shim import ALIASES
from adapter.tools.check_report import Outcome

_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?")
_INCLUDE = re.compile(r"(?:-r|--requirement)(?:\s*=\s*|\s*)(\S+)")
_EXTRA = re.compile(r"""extra\s*==\s*['"]([^'"]+)['"]""")


@dataclass(frozen=True)
class Import:
    module: str
    line: int
    #: Names of a `from module import ...`, which may themselves be modules.
    names: tuple[str, ...] = ()

    @property
    def top(self) -> str:
        return self.module.split(".")[0]


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def imports_of(path: Path) -> list[Import]:
    """Absolute imports anywhere in the file, except those guarded by `except ImportError` (optional ones)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: list[Import] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Try) and any(_catches_import_error(h) for h in node.handlers):
            guarded: list[ast.AST] = [*node.handlers, *node.orelse, *node.finalbody]
            for part in guarded:
                visit(part)
            return
        if isinstance(node, ast.Import):
            found.extend(Import(alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(Import(node.module, node.lineno, tuple(a.name for a in node.names)))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def requirements(path: Path, seen: frozenset[Path] = frozenset()) -> dict[str, set[str]]:
    """Normalized distribution names in a requirements file (following `-r`), with the extras asked for."""
    names: dict[str, set[str]] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #")[0].strip()
        include = _INCLUDE.fullmatch(line)
        if include:
            included = (path.parent / include.group(1)).resolve()
            if included not in seen and included.is_file():
                for name, extras in requirements(included, seen | {path.resolve()}).items():
                    names.setdefault(name, set()).update(extras)
            continue
        if not line or line.startswith(("#", "-")):
            continue
        match = _NAME.match(line.split("#egg=")[-1] if "#egg=" in line else line)
        if match:
            extras = {normalize(e) for e in (match.group(2) or "").split(",") if e.strip()}
            names.setdefault(normalize(match.group(1)), set()).update(extras)
    return names


def installed_closure(direct: dict[str, set[str]]) -> dict[str, str]:
    """Every distribution the requirements pull in, as far as the local installation tells, with the direct
    requirement that pulls it."""
    via = {name: name for name in direct}
    queue = [(name, extras, name) for name, extras in direct.items()]
    while queue:
        name, extras, root = queue.pop()
        try:
            requires = metadata.distribution(name).requires or []
        except metadata.PackageNotFoundError:
            continue
        for requirement in requires:
            spec, _, marker = requirement.partition(";")
            extra = _EXTRA.search(marker)
            match = _NAME.match(spec)
            if match and (extra is None or normalize(extra.group(1)) in extras):
                dependency = normalize(match.group(1))
                if dependency not in via:
                    via[dependency] = root
                    wanted = {normalize(e) for e in (match.group(2) or "").split(",") if e.strip()}
                    queue.append((dependency, wanted, root))
    return via


def distributions(module: str) -> set[str]:
    """The installed distributions providing `module`; for a namespace package (azure, azureml, google) only
    those shipping its subpackage."""
    candidates = set(_packages().get(module.split(".")[0], []))
    parts = module.split(".")
    if len(candidates) > 1 and len(parts) > 1:
        prefix = "/".join(parts[:2])
        candidates = {
            dist
            for dist in candidates
            if any(str(f).startswith(prefix + "/") or str(f) == prefix + ".py" for f in metadata.files(dist) or [])
        }
    return {normalize(d) for d in candidates}


def check(function_root: Path, entry_script: Path, local_dirs: list[Path]) -> Outcome:
    """Fail for an import no requirement installs; warn for one installed only as another's dependency."""
    path = function_root / "requirements.txt"
    if not path.is_file():
        return Outcome.fail("requirements.txt is missing", f"{path} is what the deployment installs.")
    direct = requirements(path)
    closure = installed_closure(direct)
    failures: list[str] = []
    warnings: list[str] = []
    sources = [(entry_script, f"{entry_script.name} line {{}}")] + [
        (file, f"the adapter ({file.relative_to(function_root)} line {{}})") for file in _adapter_files(function_root)
    ]
    checked: set[frozenset[str]] = set()
    for file, where in sources:
        for imp in imports_of(file):
            if _needs_nothing(imp, [file.parent, *local_dirs]):
                continue
            installed = distributions(imp.module)
            dists = frozenset(installed or {normalize(imp.top)})
            if dists in checked or dists & direct.keys():
                continue
            checked.add(dists)
            shown = f"{where.format(imp.line)} imports {imp.module} ({', '.join(sorted(dists))})"
            pulled = sorted({closure[d] for d in dists if d in closure})
            if pulled:
                warnings.append(f"{shown}: installed only as a dependency of {', '.join(pulled)}; list it.")
            elif imp.module.startswith("azureml.core"):
                failures.append(f"{shown}: not installed; `from azureml.core.model import Model` needs nothing.")
            else:
                here = "" if installed else " (nor is it installed here)"
                failures.append(f"{shown}: requirements.txt does not install it{here}.")
    if failures:
        return Outcome.fail(f"{len(failures)} import(s) not installed by requirements.txt", *failures)
    if warnings:
        return Outcome.warn(f"{len(warnings)} import(s) installed only indirectly", *warnings)
    return Outcome.ok(f"{len(direct)} requirements cover every import")


def _needs_nothing(imp: Import, local_dirs: list[Path]) -> bool:
    """Standard library, the adapter's `azureml` modules, or the app's own modules."""
    if imp.top in sys.stdlib_module_names or imp.top == "__future__":
        return True
    if imp.module in ALIASES or (imp.names and all(f"{imp.module}.{n}" in ALIASES for n in imp.names)):
        return True
    return any((d / f"{imp.top}.py").is_file() or (d / imp.top).is_dir() for d in local_dirs)


def _adapter_files(function_root: Path) -> Iterator[Path]:
    yield from sorted((function_root / "adapter").glob("*.py"))
    if (function_root / "function_app.py").is_file():
        yield function_root / "function_app.py"


@functools.cache
def _packages() -> dict[str, list[str]]:
    return dict(metadata.packages_distributions())


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(t, ast.Name) and t.id in ("ImportError", "ModuleNotFoundError") for t in types)
