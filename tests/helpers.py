"""Small helpers every test file uses, in one place: waiting for something another thread or process does, and
running a snippet in a fresh Python (what a cold worker process imports, with only what that process would have)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def wait_until(condition: Callable[[], bool], seconds: float = 20, interval: float = 0.01) -> bool:
    """Whether `condition` came true within `seconds` (checked every `interval`)."""
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            return False
        time.sleep(interval)
    return True


def fresh_python(
    code: str,
    *,
    env: Mapping[str, str] | None = None,
    path: Sequence[Path] = (),
    cwd: Path = ROOT,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """`code` in a new Python process started in `cwd`, with `env` alone as its environment (no PATH, nothing of this
    process's) and the repository, then `path`, importable."""
    python_path = ":".join(str(p) for p in (ROOT, *path))
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env={"PATH": "", "PYTHONPATH": python_path, **(env or {})},
        capture_output=True,
        text=True,
        check=check,
        timeout=120,
    )


def fresh_python_json(code: str, **kwargs: Any) -> Any:
    """What `code`, run by `fresh_python`, printed as JSON."""
    return json.loads(fresh_python(code, **kwargs).stdout)
