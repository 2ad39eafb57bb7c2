"""`python -m adapter swagger`: write the document `/swagger.json` would serve, without serving it."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

from adapter import host_config
from adapter.openapi.swagger import SwaggerNotFound, UserSwaggerError, build
from adapter.paths import FUNCTION_APP_ROOT
from adapter.script import entry_script
from adapter.settings import ConfigError, Settings

logger = logging.getLogger("adapter")


def write(version: str, out: Path | None) -> int:
    """`python -m adapter swagger`: the document `/swagger.json?version=<version>` would serve, without serving
    (local.settings.json and the environment configure it as for `serve`; the script is imported, `init()` not run).
    Returns the exit status: 1 when there is no document, 2 when the configuration is invalid."""

    target = out.resolve() if out is not None else None  # before the script's import moves the working directory
    host_config.load_local_settings(FUNCTION_APP_ROOT)
    try:
        settings = Settings.from_env()
    except ConfigError as ex:
        print(f"error: {ex}", file=sys.stderr)
        return 2
    try:
        document = build(settings, entry_script.load(settings), version)
    except (SwaggerNotFound, UserSwaggerError, entry_script.ScriptError) as ex:
        print(f"error: {ex}", file=sys.stderr)
        return 1
    except Exception as ex:  # whatever the script raises on import
        logger.exception("Importing %s failed", settings.entry_script)
        print(f"error: the entry script {settings.entry_script.name} failed to import: {ex!r}", file=sys.stderr)
        return 1
    text = json.dumps(document, indent=2) + "\n"
    if target is None:
        sys.stdout.write(text)
    else:
        target.write_text(text, encoding="utf-8")
        logger.info("Wrote the Swagger %s document to %s", version, target)
    return 0
