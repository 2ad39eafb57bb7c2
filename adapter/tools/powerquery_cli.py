"""`python -m adapter powerquery`: write the Power Query (M) function for the configured script."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from adapter import host_config
from adapter.openapi.powerquery import PowerQueryError, check_url, generate
from adapter.paths import FUNCTION_APP_ROOT
from adapter.script import entry_script
from adapter.settings import ConfigError, Settings

logger = logging.getLogger("adapter")


def write(out: Path | None, url: str | None, table: str | None) -> int:
    """`python -m adapter powerquery`: the function for the configured script (local.settings.json and the
    environment configure it as for `serve`; the script is imported, `init()` not run). Exit 2 with a one-line
    message when no function can be built."""
    target = out.resolve() if out is not None else None  # before the script's import moves the working directory
    host_config.load_local_settings(FUNCTION_APP_ROOT)
    try:
        settings = Settings.from_env()
        if url is not None:
            check_url(url)
        script = entry_script.load(settings)
        text = generate(settings, script, url, table)
    except (ConfigError, PowerQueryError, entry_script.ScriptError) as ex:
        print(f"error: {ex}", file=sys.stderr)
        return 2
    except Exception as ex:  # whatever the script raises on import
        logger.exception("Importing the entry script failed")
        print(f"error: the entry script failed to import: {ex!r}", file=sys.stderr)
        return 2
    if target is None:
        sys.stdout.write(text)
    else:
        target.write_text(text, encoding="utf-8")
        logger.info("Wrote the Power Query function to %s", target)
    return 0
