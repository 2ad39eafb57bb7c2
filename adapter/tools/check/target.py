"""The Function App's Python version: the one `import` chose (recorded in the app's import manifest), which check
tests, README's `az functionapp create` and the printed commands use; else this Python's."""

from __future__ import annotations

import json
import re
from pathlib import Path

from adapter.tools.check import wheels

#: What `python -m adapter import` wrote into the app, and the Python version it chose (tools/importer/manifest.py).
MANIFEST = ".import-manifest.json"


def recorded_python(root: Path) -> str | None:
    """The version the last import chose, if the app holds its manifest."""
    try:
        data = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    version = data.get("python") if isinstance(data, dict) else None
    return version if isinstance(version, str) and re.fullmatch(r"3\.\d{1,2}", version) else None


def function_app_python(root: Path, asked: str | None = None) -> tuple[str, str]:
    """The version to check for, and where it comes from."""
    if asked:
        return asked, "--python"
    recorded = recorded_python(root)
    if recorded:
        return recorded, f"chosen by import, {MANIFEST}"
    return wheels.default_python(), "this Python's"
