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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from adapter.azureml.shim import ALIASES
from adapter.tools.check.distributions import to_install
from adapter.tools.check.report import Outcome

_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?")
_INCLUDE = re.compile(r"(?:-r|--requirement)(?:\s*=\s*|\s*)(\S+)")
_EXTRA = re.compile(r"""extra\s*==\s*['"]([^'"]+)['"]""")
#: Libraries whose saved models load only with the version that saved them (or a close one): pin them.
ML_LIBRARIES = frozenset(
    {
        "scikit-learn", "xgboost", "lightgbm", "catboost", "torch", "torchvision", "tensorflow", "tensorflow-cpu",
        "keras", "tf-keras", "onnxruntime", "statsmodels",
    }
)  # fmt: skip
#: Packaging tools: installed with many Pythons, so a missing one is a warning, not a failure.
_TOOLING = frozenset({"pip", "setuptools", "wheel"})
#: The packages above the `azureml` modules the adapter serves (`azureml`, `azureml.core`...), ours to provide.
_ALIAS_PARENTS = frozenset(alias.rsplit(".", i)[0] for alias in ALIASES for i in range(1, alias.count(".") + 1))


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


@dataclass(frozen=True)
class Requirement:
    #: Normalized distribution name.
    name: str
    extras: frozenset[str]
    #: The version specifier as written (`>=1.4,<2`, `==1.9.1`), empty when there is none.
    spec: str
    line: str

    @property
    def pinned(self) -> bool:
        """`==` to one exact version (no wildcard), or `===`: what a pickled model needs."""
        return bool(_PIN.search(self.spec)) and "*" not in self.spec


_PIN = re.compile(r"(?:^|,)\s*===?\s*[0-9]")


def logical_lines(path: Path, seen: frozenset[Path] = frozenset()) -> Iterator[tuple[str, Path]]:
    """The lines of a requirements file as pip reads them: comments dropped, `\\` continuations joined, `-r`
    files inlined; each with the file it comes from (relative paths in it are relative to that file)."""
    text = re.sub(r"\\\r?\n", " ", path.read_text(encoding="utf-8"))
    for raw in text.splitlines():
        line = re.sub(r"(^|\s)#.*", "", raw).strip()
        include = _INCLUDE.fullmatch(line)
        if include:
            included = (path.parent / include.group(1)).resolve()
            if included not in seen and included.is_file():
                yield from logical_lines(included, seen | {path.resolve()})
            continue
        if line:
            yield line, path


def parse(path: Path) -> list[Requirement]:
    """The requirements (not options, not files or URLs without a name) of a requirements file, following `-r`."""
    found = []
    for line, _ in logical_lines(path):
        if line.startswith("-"):
            continue
        named = line.split("#egg=")[-1] if "#egg=" in line else line
        match = _NAME.match(named)
        if match:
            extras = frozenset(normalize(e) for e in (match.group(2) or "").split(",") if e.strip())
            rest = named[match.end() :].split(";")[0]
            spec = "" if rest.lstrip().startswith("@") else rest.strip().strip("()").strip()
            found.append(Requirement(normalize(match.group(1)), extras, spec, line))
    return found


def requirements(path: Path) -> dict[str, set[str]]:
    """Normalized distribution names in a requirements file (following `-r`), with the extras asked for."""
    names: dict[str, set[str]] = {}
    for requirement in parse(path):
        names.setdefault(requirement.name, set()).update(requirement.extras)
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
    return set(_distributions(".".join(module.split(".")[:2])))


@functools.cache
def _distributions(module: str) -> frozenset[str]:
    candidates = set(_packages().get(module.split(".")[0], []))
    parts = module.split(".")
    if len(candidates) > 1 and len(parts) > 1:
        prefix = "/".join(parts[:2])
        candidates = {
            dist
            for dist in candidates
            if any(str(f).startswith(prefix + "/") or str(f) == prefix + ".py" for f in metadata.files(dist) or [])
        }
    return frozenset(normalize(d) for d in candidates)


def check(
    function_root: Path,
    entry_script: Path,
    local_dirs: list[Path],
    loaded: Mapping[str, str] | None = None,
    importers: Mapping[str, str] | None = None,
) -> Outcome:
    """Fail for an import no requirement installs; warn for one installed only as another's dependency, and for an
    ML library without a pinned version.

    `loaded` maps the modules the script's code loaded while it ran (import, `init()`, `run()`) to that step: they
    count as imports too (a pickled model loads the library that pickled it without an `import` in the script),
    unless `importers` (module -> the module that imported it) shows a library trying an optional import.
    """
    path = function_root / "requirements.txt"
    if not path.is_file():
        return Outcome.fail("requirements.txt is missing", f"{path} is what the deployment installs.")
    listed = parse(path)
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
            dists = frozenset(installed or {normalize(to_install(imp.module))})
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
                add = ", ".join(sorted(dists))
                failures.append(f"{shown}: requirements.txt does not install it; add {add}.")
    loaded_failures, loaded_warnings = _loaded(loaded or {}, importers or {}, local_dirs, closure, checked)
    failures += loaded_failures
    warnings += loaded_warnings + _unpinned(listed, closure, loaded or {})
    if failures:
        return Outcome.fail(f"{len(failures)} import(s) not installed by requirements.txt", *failures, *warnings)
    if warnings:
        return Outcome.warn(f"{len(warnings)} requirement problem(s)", *warnings)
    return Outcome.ok(f"{len(direct)} requirements cover every import")


def _loaded(
    loaded: Mapping[str, str],
    importers: Mapping[str, str],
    local_dirs: list[Path],
    closure: dict[str, str],
    checked: set[frozenset[str]],
) -> tuple[list[str], list[str]]:
    """Distributions the script's code loaded that requirements.txt does not install; only the ones to list (a
    library that another missing one pulls in is not repeated, one a library imports optionally is not needed)."""
    missing: dict[str, tuple[str, str]] = {}
    for module, step in loaded.items():
        if provided(module, local_dirs):
            continue
        dists = frozenset(distributions(module))
        if not dists or dists & closure.keys() or (dists in checked and not dists & missing.keys()):
            continue
        checked.add(dists)
        for dist in dists:
            # Shown by its outermost module (`sklearn`, not `sklearn._config`), whose importer tells who needed it.
            if dist not in missing or module.count(".") < missing[dist][0].count("."):
                missing[dist] = (module, step)
    pulled_by_others = {
        dep for dist in missing for dep, root in installed_closure({dist: set()}).items() if dep != dist
    }
    failures: list[str] = []
    warnings: list[str] = []
    for dist in sorted(set(missing) - pulled_by_others):
        module, step = missing[dist]
        if _optional_import(importers.get(module), dist, local_dirs):
            continue
        version = installed_version(dist)
        pin = f"{dist}=={version}" if version else dist
        why = " (a pickled model loads the library that pickled it)" if step == "init()" else ""
        line = f"{step} loaded {module} ({dist}){why}: add {pin} to requirements.txt, which is all Azure installs."
        # pip and setuptools come with many Python installations, so their absence is not certain.
        (warnings if dist in _TOOLING else failures).append(line)
    return failures, warnings


def _optional_import(importer: str | None, dist: str, local_dirs: list[Path]) -> bool:
    """Whether `dist` was imported by a library that does not require it: an optional import that library does
    without (joblib tries psutil). Imported by pickle, the script or the standard library, it is needed."""
    if importer is None or provided(importer, local_dirs):
        return False
    owners = distributions(importer) - {dist}
    if not owners:
        return False
    return not any(dist in _requires(owner) for owner in owners)


def _requires(dist: str) -> set[str]:
    """The distributions `dist` requires, extras left out (what an extra brings is optional)."""
    try:
        requires = metadata.distribution(dist).requires or []
    except metadata.PackageNotFoundError:
        return set()
    found = set()
    for requirement in requires:
        spec, _, marker = requirement.partition(";")
        match = _NAME.match(spec)
        if match and _EXTRA.search(marker) is None:
            found.add(normalize(match.group(1)))
    return found


def _unpinned(listed: list[Requirement], closure: dict[str, str], loaded: Mapping[str, str]) -> list[str]:
    """ML libraries that requirements.txt lists without `==`, or does not list though the script loads them."""
    found = []
    pinned = {r.name for r in listed if r.pinned}
    for requirement in listed:
        if requirement.name in ML_LIBRARIES and requirement.name not in pinned:
            version = installed_version(requirement.name)
            example = f", e.g. {requirement.name}=={version} (installed here)" if version else ""
            found.append(
                f"{requirement.name} is not pinned ({requirement.spec or 'any version'}): a model saved with one "
                f"version may not load with another; pin the version it was trained with{example}."
            )
    names = {r.name for r in listed}
    used = {d for module in loaded for d in distributions(module)}
    for dist in sorted((used & ML_LIBRARIES & closure.keys()) - names):
        found.append(
            f"{dist} is installed only as a dependency of {closure[dist]}, so its version can change under the "
            f"model: list it pinned, e.g. {dist}=={installed_version(dist)}."
        )
    return found


def provided(module: str, local_dirs: list[Path]) -> bool:
    """Standard library, the adapter (and the `azureml` names it serves), or the app's own code."""
    from adapter.script.entry_script import MODULE_NAME

    top = module.split(".")[0]
    if top in sys.stdlib_module_names or top in ("__main__", "adapter", MODULE_NAME):
        return True
    if module in ALIASES or module in _ALIAS_PARENTS:
        return True
    file = getattr(sys.modules.get(module), "__file__", None)
    if file is None:  # a namespace package (`google`, `azure`): its subpackages tell which distributions
        return True
    path = Path(file).resolve()
    if "site-packages" in path.parts or "dist-packages" in path.parts:
        return False
    return any(path.is_relative_to(d) for d in local_dirs)


def installed_version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _needs_nothing(imp: Import, local_dirs: list[Path]) -> bool:
    """Standard library, the adapter's `azureml` modules, or the app's own modules."""
    if imp.top in sys.stdlib_module_names or imp.top == "__future__":
        return True
    if imp.module in ALIASES or (imp.names and all(f"{imp.module}.{n}" in ALIASES for n in imp.names)):
        return True
    return any((d / f"{imp.top}.py").is_file() or (d / imp.top).is_dir() for d in local_dirs)


def _adapter_files(function_root: Path) -> Iterator[Path]:
    """The adapter's modules, sub-packages included, and function_app.py."""
    yield from sorted(p for p in (function_root / "adapter").rglob("*.py") if "__pycache__" not in p.parts)
    if (function_root / "function_app.py").is_file():
        yield function_root / "function_app.py"


@functools.cache
def _packages() -> dict[str, list[str]]:
    return dict(metadata.packages_distributions())


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(t, ast.Name) and t.id in ("ImportError", "ModuleNotFoundError") for t in types)
