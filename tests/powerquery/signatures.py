"""The documented standard library signatures (signatures.txt, from learn.microsoft.com/powerquery-m), as
name -> `Signature`: how many arguments a function takes, or None for a value (Int64.Type...)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

FILE = Path(__file__).with_name("signatures.txt")
_LINE = re.compile(r"(?P<name>#?[A-Za-z][\w.]*)(?:\((?P<params>.*)\))? as .+")


@dataclass(frozen=True)
class Signature:
    name: str
    #: (required, at most) arguments; None for a value that is not a function.
    arity: tuple[int, int] | None

    def accepts(self, count: int) -> bool:
        return self.arity is not None and self.arity[0] <= count <= self.arity[1]


@lru_cache(maxsize=1)
def documented() -> dict[str, Signature]:
    out: dict[str, Signature] = {}
    for line in FILE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("# "):
            continue
        m = _LINE.fullmatch(line.strip())
        if not m:
            raise ValueError(f"{FILE.name}: not a signature: {line!r}")
        params = m.group("params")
        if params is None:
            out[m.group("name")] = Signature(m.group("name"), None)
            continue
        parts = [p.strip() for p in params.split(",") if p.strip()]
        required = sum(1 for p in parts if not p.startswith("optional "))
        if any(not p.startswith("optional ") for p in parts[required:]):
            raise ValueError(f"{FILE.name}: a required parameter after an optional one: {line!r}")
        out[m.group("name")] = Signature(m.group("name"), (required, len(parts)))
    return out
