"""Helpers for the evaluator's tests: evaluate M text, or get the M error it raises."""

from __future__ import annotations

from typing import Any

from .m.engine import evaluate
from .m.values import MError
from .run import from_m


def m(text: str) -> Any:
    """The value of an M expression, records and lists as Python dicts and lists (error values as `MError`)."""
    return from_m(evaluate(text))


def m_raw(text: str) -> Any:
    return evaluate(text)


def m_error(text: str) -> MError:
    """The error an M expression raises (fails the test when it evaluates)."""
    try:
        value = evaluate(text)
    except MError as ex:
        return ex
    raise AssertionError(f"no error: {text} = {value!r}")


def table(text: str) -> tuple[list[str], list[list[Any]]]:
    """An M table as (columns, rows), cells as Python values (an error cell as its `MError`)."""
    value = evaluate(text)
    return list(value.columns), [[from_m(c) for c in row] for row in value.rows]


def generated_function(*args: str, env: dict[str, str] | None = None) -> str:
    """The M text `python -m adapter powerquery ARGS` writes, run from the repository root (with `env` over the
    current environment: AML_APP_ROOT and AZUREML_ENTRY_SCRIPT pick the script)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    done = subprocess.run(
        [sys.executable, "-m", "adapter", "powerquery", *args],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
