"""`python -m adapter powerquery`: write the Power Query (M) function for the configured script."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from adapter import host_config
from adapter.openapi.powerquery import PowerQueryError, check_url, parse_columns, plan, render
from adapter.paths import FUNCTION_APP_ROOT
from adapter.script import entry_script
from adapter.settings import ConfigError, Settings

logger = logging.getLogger("adapter")


def write(out: Path | None, url: str | None, table: str | None, columns: str | None = None) -> int:
    """`python -m adapter powerquery`: the function for the configured script (local.settings.json and the
    environment configure it as for `serve`; the script is imported, `init()` not run). Says what it wrote in one
    line ("score.pq: function ScoreTable, table data, 4 columns, batches of 1,000"): on standard output with
    `--out`, else on standard error (standard output is the M text). Exit 2 with a one-line message when no
    function can be built."""
    target = out.resolve() if out is not None else None  # before the script's import moves the working directory
    host_config.load_local_settings(FUNCTION_APP_ROOT)
    try:
        settings = Settings.from_env()
        if url is not None:
            check_url(url)
        if columns is not None:
            parse_columns(columns)  # refused before the script's import
    except (ConfigError, PowerQueryError) as ex:
        return _fail(str(ex))
    try:
        script = entry_script.load(settings)
    except entry_script.ScriptError as ex:
        return _fail(str(ex))
    except Exception as ex:  # whatever the script raises on import
        logger.exception("Importing the entry script failed")
        return _fail(f"the entry script failed to import: {ex!r}")
    try:
        made = plan(settings, script, url, table, columns)
    except PowerQueryError as ex:
        return _fail(str(ex))
    text = render(made)
    if target is None:
        sys.stdout.write(text)
        print(f"{made.summary()}", file=sys.stderr)
    else:
        target.write_text(text, encoding="utf-8")
        print(f"{target.name}: {made.summary()}")
    return 0


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2
