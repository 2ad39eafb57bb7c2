"""Shared fixtures: the targets of `targets.py`, started once per score script and stopped after."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from targets import InProcess, Reference, Serve  # noqa: E402


class Trio:
    """azmlinfsrv, our functions in-process and `adapter serve`, all serving one script with one environment."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        name = Path(env["AZUREML_ENTRY_SCRIPT"]).stem
        self.reference = Reference(env, logs / f"{name}.reference.log")
        self.serve = Serve(env, logs / f"{name}.serve.log")
        self.in_process = InProcess(env)

    def stop(self) -> None:
        self.in_process.stop()
        self.serve.stop()
        self.reference.stop()


class TrioPool:
    """Keeps one Trio alive at a time: tests are ordered by script, so each script starts its servers once."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.key: tuple[tuple[str, str], ...] | None = None
        self.trio: Trio | None = None

    def get(self, env: dict[str, str]) -> Trio:
        key = tuple(sorted(env.items()))
        if key != self.key:
            self.close()
            self.trio = Trio(env, self.logs)
            self.key = key
        assert self.trio is not None
        return self.trio

    def close(self) -> None:
        if self.trio is not None:
            self.trio.stop()
        self.trio, self.key = None, None


@pytest.fixture(scope="session")
def trios(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrioPool]:
    pool = TrioPool(tmp_path_factory.mktemp("logs"))
    yield pool
    pool.close()
