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


def local_settings(app_root: Path) -> dict[str, str]:
    """`local.settings.json` `Values` as strings ({} when there is none), every one checked to be a name and value a
    process environment can hold: a NUL in a value would fail `os.environ` half-way, with a traceback."""
    text = _read(app_root / "local.settings.json")
    if text is None:
        return {}
    try:
        data = json.loads(text)
    except ValueError as ex:
        raise ConfigError(f"local.settings.json is not valid JSON: {ex}") from None
    values = data.get("Values", {}) if isinstance(data, dict) else None
    if not isinstance(values, dict):
        raise ConfigError("local.settings.json must be an object whose Values is an object of names and values.")
    found = {}
    for name, value in values.items():
        text = str(value)
        why = unsettable(name, text)
        if why is not None:
            raise ConfigError(f"local.settings.json: the setting {name!r} {why}; fix it or remove it.")
        found[name] = text
    return found


def unsettable(name: str, value: str) -> str | None:
    """Why the OS cannot hold `name=value` in a process environment (the end of a sentence), or None."""
    if not name or "=" in name or "\0" in name:
        return "has a name that is empty or holds '=' or a NUL character"
    if "\0" in value:
        return "has a NUL character in its value, which no process environment can hold"
    try:
        os.fsencode(name)
        os.fsencode(value)
    except UnicodeEncodeError:
        return "holds characters (lone surrogates) that this system cannot encode"
    return None


def apply(values: dict[str, str]) -> list[str]:
    """Put `values` into the environment, as `func start` does; variables already set win. Returns the names set."""
    applied = []
    for name, value in values.items():
        if name not in os.environ:
            os.environ[name] = value
            applied.append(name)
    return applied


def load_local_settings(app_root: Path) -> list[str]:
    """Put `local.settings.json` `Values` into the environment, as `func start` does; variables already set win.

    Returns the names it set.
    """
    return apply(local_settings(app_root))
