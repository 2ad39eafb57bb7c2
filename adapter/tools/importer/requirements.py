"""An AML environment's dependencies (a conda file, its `pip:` section, the pip files it includes) as
`requirements.txt` lines, the only thing a Function App installs.

Conda names are mapped to their PyPI names (`pytorch` -> `torch`), conda version specs to pip's (`numpy=1.23.5` ->
`numpy==1.23.5`, `=1.23` -> `==1.23.*`, build strings dropped); `python` becomes the Python version to report and
`pip` is the installer itself. The AML inference server (`azureml-inference-server-http`, `azureml-defaults`) is
dropped: the adapter replaces it. System libraries from conda (`libgcc-ng`, `cudatoolkit`, `mkl`) have no pip
equivalent and are listed as not carried over, as are local paths.

This runs on the developer's machine (`python -m adapter import`), never in the Function App.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from adapter.tools import archives, documents, terminal
from adapter.tools.check import wheels
from adapter.tools.importer import requirement_lines

#: Conda package names whose PyPI name differs.
CONDA_TO_PIP = {
    "pytorch": "torch",
    "pytorch-cpu": "torch",
    "pytorch-gpu": "torch",
    "py-xgboost": "xgboost",
    "py-xgboost-cpu": "xgboost",
    "py-xgboost-gpu": "xgboost",
    # Functions hosts have no display libraries: the headless wheel is the one that imports there.
    "opencv": "opencv-python-headless",
    "py-opencv": "opencv-python-headless",
    "matplotlib-base": "matplotlib",
    "msgpack-python": "msgpack",
    "pytables": "tables",
    "ruamel_yaml": "ruamel.yaml",
    "python-graphviz": "graphviz",
    "tensorflow-base": "tensorflow",
    "keras-base": "keras",
    "lightgbm-cpu": "lightgbm",
    "pyqt": "PyQt5",
}
#: Conda packages that are programs or C libraries, not Python packages: nothing pip can install.
SYSTEM = frozenset(
    """
    blas bzip2 c-ares ca-certificates cmake cudatoolkit cudnn cuda curl expat ffmpeg fontconfig freetype gcc gettext
    git glib gmp graphviz gxx hdf5 icu intel-openmp jpeg krb5 lz4-c make mkl mkl-include mpi mpich nccl ncurses
    nodejs nomkl openblas openjdk openmpi openssl pcre pcre2 perl readline snappy sqlite tbb tk tzdata xz yaml
    zeromq zlib zstd llvm-openmp ld_impl_linux-64 libopenblas
    """.split()
)
#: Conda-only runtimes (CUDA toolkits, MKL): PyPI wheels bring what they need, and Functions runs on CPU.
CONDA_ONLY = frozenset(
    "cudatoolkit cudnn cuda nccl mkl mkl-include mkl-service intel-openmp pytorch-cuda pytorch-mutex cpuonly".split()
)
SYSTEM_PREFIXES = ("lib", "_", "cuda-", "r-", "xorg-", "font-", "gst-", "pthread-", "vc", "vs20")
#: Packages with the same name on conda and PyPI: no need to say they were assumed to be.
KNOWN_SAME = frozenset(
    """
    numpy pandas scipy scikit-learn joblib lightgbm catboost xgboost tensorflow keras torch torchvision torchaudio
    onnx onnxruntime pillow requests matplotlib seaborn statsmodels nltk spacy transformers tokenizers sentencepiece
    h5py pyarrow numba llvmlite cloudpickle dill six pyyaml python-dateutil pytz certifi packaging setuptools wheel
    typing-extensions protobuf regex tqdm click flask pydantic mlflow shap psutil sqlalchemy pyodbc openpyxl xlrd
    plotly networkx sympy prophet pmdarima holidays imbalanced-learn scikit-image fastapi uvicorn azure-storage-blob
    azure-identity opencensus-ext-azure inference-schema azureml-core azureml-mlflow azure-ai-ml cython
    """.split()
)
#: The AML inference server: the adapter takes its place.
SERVER = frozenset({"azureml-inference-server-http", "azureml-defaults"})
#: What the adapter itself needs: the function app's own line wins, taking only the extras asked for.
ADAPTER_OWNED = frozenset({"azure-functions", "werkzeug", "inference-schema"})
#: pip options that are legal in requirements.txt and matter to the install.
PIP_OPTIONS = re.compile(r"(?:-i|--index-url|--extra-index-url|-f|--find-links|--trusted-host|--pre|--prefer-binary)\b")
INCLUDE = re.compile(r"(?:-r|--requirement)(?:\s*=\s*|\s+)(\S+)")
#: `name[extras] spec ; marker` at the start of a requirement line.
REQUIREMENT = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?(.*)", re.S)
CONDA_SPEC = re.compile(r"([A-Za-z0-9_][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)")
PIP_VERSION = re.compile(r"[0-9][0-9A-Za-z.*+!-]*")
#: The comment that starts the imported lines in requirements.txt; a new import replaces everything under it.
BLOCK_MARK = "# From the AML environment"
#: Starts an app line an imported pin replaced: kept in the file, commented out, so that the next import puts it back.
REPLACED_MARK = "# replaced by an AML environment line below (a new import puts it back): "


class DependencyError(Exception):
    """A conda or pip file that cannot be read as one; the message says which and why."""


@dataclass(frozen=True)
class Line:
    """One requirements.txt line and the PyPI name it installs (normalized), or None for an option line."""

    text: str
    name: str | None
    #: Where it came from, for messages: `conda: numpy=1.23.5`, `pip: joblib`.
    origin: str


@dataclass
class Converted:
    lines: list[Line] = field(default_factory=list)
    #: The Python version spec the environment asks for (`3.9`, `>=3.8,<3.11`), if it says.
    python: str | None = None
    #: Conda entries whose PyPI name was assumed to be theirs: `lightgbm` is, `some-conda-only` may not be.
    assumed: list[str] = field(default_factory=list)
    #: What was dropped on purpose (python, pip, the inference server), with why.
    dropped: list[str] = field(default_factory=list)
    #: What could not be carried over, with why: system libraries, local paths, untranslatable versions, options.
    unmapped: list[str] = field(default_factory=list)
    #: Lines the user passed on the command line (`--pip`), written as given.
    passed: list[str] = field(default_factory=list)


def normalize(name: str) -> str:
    """PEP 503 names: `Scikit_Learn` and `scikit-learn` are one package."""
    return re.sub(r"[-_.]+", "-", name).lower()


def from_conda(conda: object, where: str, base: Path) -> Converted:
    """The lines for a parsed conda environment (a conda file's content, or an InferenceConfig's inline
    `condaDependencies`); `base` is the folder its pip `-r` includes are relative to."""
    if not isinstance(conda, dict):
        raise DependencyError(f"{where} is not a conda environment: it should be a mapping with `dependencies`.")
    dependencies = conda.get("dependencies") or []
    if not isinstance(dependencies, list):
        raise DependencyError(f"{where}: `dependencies` should be a list, not {type(dependencies).__name__}.")
    out = Converted()
    for entry in dependencies:
        if isinstance(entry, dict) and set(entry) == {"pip"}:
            pip = entry["pip"] or []
            if not isinstance(pip, list) or not all(isinstance(p, str) for p in pip):
                raise DependencyError(f"{where}: the `pip:` section should be a list of requirement strings.")
            _pip_lines(pip, base, out, frozenset(), base.resolve())
        elif isinstance(entry, str):
            _conda_entry(entry, out)
        elif entry is not None:
            raise DependencyError(f"{where}: the dependency {entry!r} is neither a conda spec nor a `pip:` list.")
    return out


def from_pip_file(path: Path, out: Converted | None = None) -> Converted:
    """The lines of a pip requirements file (its `-r` includes followed)."""
    out = Converted() if out is None else out
    _pip_lines(_read_lines(path), path.parent, out, frozenset({path.resolve()}), path.parent.resolve())
    return out


def _read_lines(path: Path) -> list[str]:
    try:
        return documents.read_text(path, "the pip requirements file").splitlines()
    except documents.DocumentError as ex:
        raise DependencyError(str(ex)) from None


def _conda_entry(entry: str, out: Converted) -> None:
    spec = entry.strip()
    if "::" in spec:  # a channel prefix: `conda-forge::numpy`
        spec = spec.split("::", 1)[1]
    match = CONDA_SPEC.fullmatch(spec)
    if not match:
        out.unmapped.append(f"{entry} (not a conda package spec)")
        return
    conda_name, bracket, rest = match.group(1), match.group(2), match.group(3).strip()
    name = normalize(conda_name)
    if bracket:  # `numpy[version='>=1.2',build=...]`
        found = re.search(r"version\s*=\s*['\"]?([^'\",\]]+(?:,[^'\",\]]+)*)", bracket)
        rest = found.group(1) if found else ""
    if name == "python":
        out.python = rest.lstrip("=") or None
        out.dropped.append(f"{entry} (the Python version is the Function App's: see below)")
        return
    if name == "pip":
        out.dropped.append(f"{entry} (the installer itself)")
        return
    if name in CONDA_ONLY or name.startswith("cuda-"):
        out.dropped.append(
            f"{entry} (conda-only: a CUDA or MKL runtime; PyPI wheels bring their own, and Functions runs on CPU)"
        )
        return
    if {name, conda_name.lower()} & SYSTEM or conda_name.lower().startswith(SYSTEM_PREFIXES):
        out.unmapped.append(f"{entry} (a system library conda installs; pip has no such package)")
        return
    pip_name = CONDA_TO_PIP.get(name, conda_name)
    version = _conda_version(rest)
    if version is None:
        out.unmapped.append(f"{entry} (its version spec has no pip equivalent; {pip_name} is kept without a version)")
        version = ""
    if normalize(pip_name) in SERVER:
        out.dropped.append(f"{entry} (the AML inference server: the adapter replaces it)")
        return
    why = requirement_lines.problem(pip_name + version)
    if why is not None:
        out.unmapped.append(f"{_shown(entry)} ({why})")
        return
    if normalize(pip_name) not in KNOWN_SAME and name not in CONDA_TO_PIP:
        out.assumed.append(pip_name)
    out.lines.append(Line(pip_name + version, normalize(pip_name), f"conda: {entry}"))


def _conda_version(rest: str) -> str | None:
    """A conda version spec as pip's ("" for none), or None when pip cannot say it (`|`, odd characters)."""
    rest = rest.strip()
    if not rest or rest == "*":
        return ""
    if "|" in rest:
        return None
    if " " in rest and not re.search(r"[<>=!~]", rest.split()[0][:1]):  # `1.23.5 py39_0`: version, then build
        rest = rest.split()[0]
        return _fuzzy(rest)
    if rest.startswith("=") and not rest.startswith("=="):  # `=1.23.5` or `=1.23.5=build`
        return _fuzzy(rest[1:].split("=")[0])
    parts = [p.strip() for p in rest.split(",")]
    if all(re.fullmatch(r"(?:==|>=|<=|!=|~=|>|<)\s*" + PIP_VERSION.pattern, p) for p in parts):
        return ",".join(re.sub(r"\s+", "", p) for p in parts)
    if len(parts) == 1 and PIP_VERSION.fullmatch(parts[0]):
        return _fuzzy(parts[0])
    return None


def _fuzzy(version: str) -> str | None:
    """Conda's `=1.23` matches 1.23.x, as pip's `==1.23.*` does; a full `1.23.5` is that release."""
    version = version.rstrip("*").rstrip(".")
    if not version:
        return ""
    if not PIP_VERSION.fullmatch(version) or "*" in version:
        return None
    return f"=={version}.*" if version.count(".") < 2 else f"=={version}"


def _pip_lines(lines: Iterable[str], base: Path, out: Converted, seen: frozenset[Path], root: Path) -> None:
    """Each line, once it is one plain requirement; `-r` includes are followed inside `root` (the folder of the conda
    or pip file the environment names), never out of it."""
    for raw in lines:
        line = raw.split(" #")[0].strip()
        if not line or line.startswith("#"):
            continue
        include = INCLUDE.fullmatch(line)
        if include and not terminal.has_unsafe(line):
            path = (base / include.group(1)).resolve()
            if not path.is_relative_to(root):
                out.unmapped.append(f"{_shown(line)} (an include of a file outside {root}: not followed)")
            elif path not in seen:
                _pip_lines(_read_lines(path), path.parent, out, seen | {path}, root)
            continue
        if PIP_OPTIONS.match(line):
            out.unmapped.append(f"{_shown(line)} (a pip option: written only when you pass it yourself, --pip LINE)")
            continue
        if line.startswith("-") or _is_local(line):
            out.unmapped.append(f"{_shown(line)} (a local path or pip option: install it another way)")
            continue
        why = requirement_lines.problem(line)
        if why is not None:
            out.unmapped.append(f"{_shown(line)} ({why})")
            continue
        match = REQUIREMENT.match(line)
        name = normalize(match.group(1)) if match else None
        if name in SERVER:
            out.dropped.append(f"{line} (the AML inference server: the adapter replaces it)")
            continue
        out.lines.append(Line(line, name, f"pip: {line}"))


def from_command_line(lines: list[str], out: Converted) -> None:
    """Lines the user passed with `--pip`: written as given (options, URLs, editables), one line each."""
    for line in lines:
        if terminal.has_unsafe(line) or not line.strip():
            raise DependencyError(f"--pip {terminal.escape(line)!r} must be one non-empty line.")
        out.lines.append(Line(line.strip(), None, f"command line: {line.strip()}"))
        out.passed.append(line.strip())


def _shown(line: str) -> str:
    """A line for the report, short and on one line."""
    return terminal.escape(line if len(line) <= 120 else line[:117] + "...")


def _is_local(line: str) -> bool:
    """`./wheels/x.whl`, `../pkg`, `/abs/path`, `file:...`, `pkg.tgz`: paths on the machine that built the AML image."""
    return line.startswith((".", "/", "file:", "~")) or ("://" not in line and archives.is_archive(line))


@dataclass
class Merged:
    text: str
    #: What an environment line replaced: `numpy>=1.26 -> numpy==1.23.5`.
    replaced: list[str] = field(default_factory=list)
    #: Environment lines for the adapter's own packages, which keep the app's version (extras are taken).
    kept: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    #: Environment lines whose marker is false on the Function App's Python: written, but they install nothing.
    warnings: list[str] = field(default_factory=list)


def merge(existing: str, lines: list[Line], source: str, python: str | None = None) -> Merged:
    """`requirements.txt` with the environment's lines: the app's own lines stay, except those for a package the
    environment pins (the model was built with that version); the adapter's packages keep the app's version with any
    extras the environment asks for. The imported lines go last under a mark, which a later import replaces.

    A replaced app line stays in the file as a comment (REPLACED_MARK), and every merge first puts such lines back:
    a later import that no longer pins the package leaves the app's line as it was, so merging is the same whatever
    was imported before. Lines are told apart by name and marker (`numpy==1.26.4; python_version >= "3.10"` and
    `numpy==1.21.6; python_version < "3.10"` are two); with `python`, the Function App's, a line whose marker is
    false there replaces nothing (pip skips it on that Python), and an environment line that installs nothing there
    is said."""
    own = existing.split("\n" + BLOCK_MARK)[0] if not existing.startswith(BLOCK_MARK) else ""
    wanted: dict[tuple[str, str], Line] = {}
    options: list[Line] = []
    for line in lines:  # later lines win, as pip's section wins over conda's in AML
        if line.name is None:
            if line not in options:
                options.append(line)
        else:
            key = (line.name, _marker_key(line.text))
            wanted.pop(key, None)
            wanted[key] = line
    merged = Merged("")
    applying: dict[str, list[Line]] = {}
    for (name, _), line in wanted.items():
        if _holds(line.text, python):
            applying.setdefault(name, []).append(line)
        else:
            merged.warnings.append(
                f"{line.text} installs nothing on Python {python}, the Function App's: its marker is false there "
                "(it is written all the same)."
            )
    covered: set[str] = set()  # names whose environment lines the app's own line stands for
    kept_lines = []
    for raw in own.rstrip("\n").split("\n") if own.strip() else []:
        raw = raw.removeprefix(REPLACED_MARK)
        package = _name_of(raw)
        theirs = applying.get(package, []) if package is not None and _holds(raw, python) else []
        if package in ADAPTER_OWNED:
            covered.add(package)
            for line in theirs:
                raw = _with_extras(raw, line.text)
        elif theirs and package is not None:
            pins = [line.text for line in theirs if not _unversioned(line.text)]
            if pins:
                merged.replaced.append(f"{raw.strip()} -> {', '.join(pins)}")
                kept_lines.append(REPLACED_MARK + raw)
                continue
            # A bare `numpy` says nothing about the version: the app's own bound (numpy>=1.26) stays.
            covered.add(package)
            merged.kept += [
                f"{line.text} (the app's {raw.strip()} is kept: the environment names no version)" for line in theirs
            ]
        kept_lines.append(raw)
    block = []
    for (name, _), line in wanted.items():
        if name in covered and (name in ADAPTER_OWNED or line in applying[name]):
            if name in ADAPTER_OWNED:
                merged.kept.append(f"{line.text} (the adapter needs its own version of {name})")
            continue
        block.append(line.text)
        merged.added.append(line.text)
    block = [o.text for o in options] + block
    text = "\n".join(kept_lines).rstrip("\n")
    if block:
        source = terminal.escape(source)  # a file name with a line break must not write a line of its own
        mark = f"{BLOCK_MARK} ({source}), by `python -m adapter import`; a new import replaces the lines below."
        text = (text + "\n\n" if text else "") + mark + "\n" + "\n".join(block)
    merged.text = text + "\n" if text else ""
    return merged


def _holds(line: str, python: str | None) -> bool:
    """Whether pip installs `line` on the Function App's Python (always, when that is not known yet)."""
    marker = _marker_key(line)
    return python is None or not marker or wheels.marker_holds(marker, python)


def _marker_key(line: str) -> str:
    """A requirement line's environment marker, spelled one way (`python_version<'3.10'` as
    `python_version < "3.10"`), or "" for none."""
    marker = line.split(" #")[0].partition(";")[2].strip()
    marker = re.sub(r"\s*(===|==|!=|<=|>=|~=|<|>)\s*", r" \1 ", marker.replace("'", '"'))
    return " ".join(marker.split())


def _unversioned(line: str) -> bool:
    """`numpy`, `numpy[extra]` or `numpy; marker`: no version specifier and no URL."""
    match = REQUIREMENT.match(line.partition(";")[0])
    return bool(match) and not (match.group(3) or "").strip() if match else False


def _name_of(line: str) -> str | None:
    stripped = line.split(" #")[0].strip()
    if not stripped or stripped.startswith(("#", "-")):
        return None
    match = REQUIREMENT.match(stripped)
    return normalize(match.group(1)) if match else None


def _with_extras(own: str, theirs: str) -> str:
    """`inference-schema>=1.8,<2` with the extras of `inference-schema[numpy-support]==1.3.0`."""
    mine, other = REQUIREMENT.match(own), REQUIREMENT.match(theirs)
    if not mine or not other or not other.group(2):
        return own
    extras = {e.strip() for e in (mine.group(2) or "[]")[1:-1].split(",") if e.strip()}
    extras |= {e.strip() for e in other.group(2)[1:-1].split(",") if e.strip()}
    indent = own[: len(own) - len(own.lstrip())]
    return f"{indent}{mine.group(1)}[{','.join(sorted(extras))}]{mine.group(3)}"
