"""What an import wrote into the app (`.import-manifest.json`): the code files, the bundled model versions and the
Python version it chose. A later import removes the previous deployment's files before laying the new one, so
nothing of an old deployment is published with the next; check reads the Python version."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from adapter.tools.check.target import MANIFEST


@dataclass
class Manifest:
    deployment: str = ""
    python: str = ""
    #: Code files, relative to the app root (posix).
    files: list[str] = field(default_factory=list)
    #: Model versions bundled, as `NAME/VERSION`.
    models: list[str] = field(default_factory=list)


def read(root: Path) -> Manifest | None:
    path = root / MANIFEST
    if not path.is_file() or path.is_symlink():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    files = [f for f in data.get("files", []) if isinstance(f, str) and _inside(f)]
    models = [m for m in data.get("models", []) if isinstance(m, str) and _inside(m) and m.count("/") == 1]
    return Manifest(str(data.get("deployment", "")), str(data.get("python", "")), files, models)


def write(root: Path, manifest: Manifest) -> None:
    data = {
        "about": "Written by python -m adapter import: what it wrote, removed by the next import. Not published.",
        "deployment": manifest.deployment,
        "python": manifest.python,
        "files": sorted(manifest.files),
        "models": sorted(manifest.models),
    }
    temporary = root / f"{MANIFEST}.importing"
    temporary.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, root / MANIFEST)


def stale_files(root: Path, previous: Manifest | None, keep: set[str]) -> list[str]:
    """The previous import's code files the new one does not write again (regular files inside the app only)."""
    if previous is None:
        return []
    found = []
    for relative in previous.files:
        path = root / relative
        if relative in keep or path.is_symlink() or not path.is_file():
            continue
        if any((root / parent).is_symlink() for parent in Path(relative).parents if str(parent) != "."):
            continue
        found.append(relative)
    return found


def remove_files(root: Path, relatives: list[str]) -> None:
    """Delete the files, then the folders they leave empty (never the app root)."""
    for relative in relatives:
        (root / relative).unlink(missing_ok=True)
        parent = (root / relative).parent
        while parent != root and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent


def _inside(relative: str) -> bool:
    parts = Path(relative).parts
    return bool(parts) and not Path(relative).is_absolute() and ".." not in parts
