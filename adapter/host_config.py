"""What the Functions host reads besides the code: `host.json` (the route prefix) and `local.settings.json`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from adapter import paths
from adapter.settings import ConfigError

DEFAULT_ROUTE_PREFIX = "api"
#: Without `functionTimeout` the host stops an invocation after 5 min (Consumption) or 30 min (other plans).
DEFAULT_FUNCTION_TIMEOUT_MS = 30 * 60 * 1000


def _read(path: Path) -> str | None:
    """The text of one of the host's files; None when there is none. A FIFO or folder in its place is an error,
    never opened (a FIFO would hang the reading thread)."""
    try:
        return paths.read_regular_file(path).decode("utf-8")
    except FileNotFoundError:
        return None
    except paths.NotARegularFile as ex:
        raise ConfigError(f"{ex}; it cannot be read.") from None


def _host_json(app_root: Path) -> dict[str, Any]:
    text = _read(app_root / "host.json")
    return {} if text is None else dict(json.loads(text))


def route_prefix(app_root: Path) -> str:
    """`extensions.http.routePrefix` from host.json; the host's default is `api`."""
    prefix = _host_json(app_root).get("extensions", {}).get("http", {}).get("routePrefix", DEFAULT_ROUTE_PREFIX)
    return str(prefix).strip("/")


def function_timeout_ms(app_root: Path) -> int | None:
    """The longest the host lets an invocation run: host.json's `functionTimeout` ("hh:mm:ss"), its default when
    unset, or None when unbounded ("-1")."""
    raw = str(_host_json(app_root).get("functionTimeout", "")).strip()
    if not raw:
        return DEFAULT_FUNCTION_TIMEOUT_MS
    if raw == "-1":
        return None
    try:
        hours, minutes, seconds = raw.split(":")
        return round((int(hours) * 3600 + int(minutes) * 60 + float(seconds)) * 1000)
    except ValueError:
        raise ConfigError(f'host.json functionTimeout must look like "00:10:00" or be "-1", got {raw!r}.') from None


def load_local_settings(app_root: Path) -> list[str]:
    """Put `local.settings.json` `Values` into the environment, as `func start` does; variables already set win.

    Returns the names it set.
    """
    text = _read(app_root / "local.settings.json")
    if text is None:
        return []
    try:
        values = json.loads(text).get("Values", {})
    except ValueError as ex:
        raise ConfigError(f"local.settings.json is not valid JSON: {ex}") from None
    applied = []
    for name, value in values.items():
        if name not in os.environ:
            os.environ[name] = str(value)
            applied.append(name)
    return applied
