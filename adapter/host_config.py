"""What the Functions host reads besides the code: `host.json` (the route prefix) and `local.settings.json`."""

from __future__ import annotations

import json
import os
from pathlib import Path

DEFAULT_ROUTE_PREFIX = "api"


def route_prefix(app_root: Path) -> str:
    """`extensions.http.routePrefix` from host.json; the host's default is `api`."""
    path = app_root / "host.json"
    if not path.is_file():
        return DEFAULT_ROUTE_PREFIX
    config = json.loads(path.read_text(encoding="utf-8"))
    prefix = config.get("extensions", {}).get("http", {}).get("routePrefix", DEFAULT_ROUTE_PREFIX)
    return str(prefix).strip("/")


def load_local_settings(app_root: Path) -> list[str]:
    """Put `local.settings.json` `Values` into the environment, as `func start` does; variables already set win.

    Returns the names it set.
    """
    path = app_root / "local.settings.json"
    if not path.is_file():
        return []
    values = json.loads(path.read_text(encoding="utf-8")).get("Values", {})
    applied = []
    for name, value in values.items():
        if name not in os.environ:
            os.environ[name] = str(value)
            applied.append(name)
    return applied
