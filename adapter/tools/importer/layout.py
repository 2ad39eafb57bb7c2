"""Where a deployment's code may land in the app, and which of its files are copied.

Nothing a deployment file names is written outside the app's own folders, into a dot-folder, or over the app's own
code: the tools act on those (a `.pth` file in `.venv` runs at every Python start, `.git/config` names commands git
runs, `tests/conftest.py` runs with pytest). So a v1 source directory whose name is a dot-name or one of the app's
own is refused, dot-files and dot-folders in a code folder are left out (and listed), and symlinks and named pipes are
handled by `adapter.trees`: a link to a file inside the code folder is copied as the file, anything else is refused.
"""

from __future__ import annotations

from pathlib import Path

from adapter import models, trees
from adapter.tools import documents
from adapter.tools.check.package import FuncIgnore
from adapter.tools.check.target import MANIFEST
from adapter.tools.importer.deployment_file import Refused

#: The function app's own files and folders: code from a deployment never replaces them or writes into them.
APP_OWNED = frozenset(
    {
        "function_app.py",
        "host.json",
        "adapter",
        "local.settings.json",
        "local.settings.sample.json",
        ".funcignore",
        MANIFEST,
        models.BUNDLE,
        # The project's own code and configuration, which its tools run: pytest runs tests/ and reads pyproject.toml.
        "tests",
        "bench",
        "conftest.py",
        "pyproject.toml",
        "requirements-dev.txt",
    }
)
#: Never copied from a code folder, without a word: version control, caches, virtual environments, Finder's files.
NOT_COPIED = frozenset(
    {
        ".git",
        "__pycache__",
        ".ipynb_checkpoints",
        ".venv",
        "venv",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".DS_Store",
    }
)
#: AML leaves out of the uploaded code what the first of these in the code folder matches (gitignore syntax).
IGNORE_FILES = (".amlignore", ".gitignore")
SHOWN = 8


def listed(items: list[str]) -> str:
    shown = ", ".join(items[:SHOWN])
    return shown + (f" and {len(items) - SHOWN} more" if len(items) > SHOWN else "")


def check_folder_name(name: str, what: str) -> str:
    """A v1 source directory's name, which becomes a folder of the app: refused when it is a dot-name (`.venv`,
    `.git`), one of the app's own or a cache folder, since the code would be written into it."""
    if not name or name.startswith(".") or name in APP_OWNED or name in NOT_COPIED or not name.isprintable():
        raise Refused(
            f"{what} is named {name!r}, and its files would go into the app's folder of that name, which import "
            "never writes into (dot-folders such as .venv and .git, and the app's own folders, hold what tools "
            "run); rename the source directory."
        )
    return name


def code_files(code: Path) -> tuple[list[tuple[Path, str]], list[str]]:
    """The files AML would upload from the code folder, as (the file to read, posix path relative to it), and the
    dot-files and dot-folders left out. Symlinks to files inside it are copied as files; any other symlink, and
    anything that is neither a file nor a folder, is refused."""
    ignore = _ignore_rules(code)
    dotted: list[str] = []

    def skip(relative: str, is_dir: bool) -> bool:
        name = relative.rsplit("/", 1)[-1]
        if name in NOT_COPIED or (not is_dir and name in IGNORE_FILES):
            return True
        if ignore is not None and ignore.excludes(relative, is_dir=is_dir):
            return True
        if name.startswith("."):
            dotted.append(relative + ("/" if is_dir else ""))
            return True
        return False

    tree = trees.walk(code, skip)
    problem = tree.problem(listed)
    if problem:
        raise Refused(f"The code folder {problem}.")
    return tree.files, dotted


def not_copied(code: Path, relative: str) -> str:
    """Why the file `relative` (posix, in the code folder) is not among `code_files`, and what to do: the end of a
    sentence."""
    parts = relative.split("/")
    skipped = next((part for part in parts if part in NOT_COPIED), None)
    if skipped is not None:
        return f"{skipped} is never copied (version control, caches and virtual environments are not code); move it"
    dotted = next((part for part in parts if part.startswith(".")), None)
    if dotted is not None:
        return (
            f"{dotted} is a dot-name, and dot-files and dot-folders are never imported (tools act on them); rename it"
        )
    used = next((name for name in IGNORE_FILES if (code / name).is_file()), IGNORE_FILES[0])
    return f"the code folder's {used} leaves it out, as AML leaves it out of the upload; take it off that list"


def _ignore_rules(code: Path) -> FuncIgnore | None:
    """The first of .amlignore and .gitignore in the code folder, as AML applies it when uploading the code."""
    for path in map(code.joinpath, IGNORE_FILES):
        if path.is_file():
            try:
                return FuncIgnore(documents.read_text(path))
            except documents.DocumentError:
                raise Refused(f"{path} cannot be read as text.") from None
    return None


def owned(destination: str) -> bool:
    """Whether a path relative to the app falls on the app's own files, or is or falls into a dot-file of the app."""
    parts = destination.split("/")
    return parts[0] in APP_OWNED or any(part.startswith(".") for part in parts)
