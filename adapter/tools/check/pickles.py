"""The modules a pickled model needs to load, read from its pickle opcodes without loading it (nothing in it runs).

A script that does `joblib.load("model.pkl")` imports joblib and nothing else, yet the load imports the library that
pickled the model (`sklearn.linear_model._ridge`). Reading the pickle's GLOBAL/STACK_GLOBAL opcodes finds those
modules before any of them is missing at run time, so the check names every missing package in one round.
scikit-learn also records the version that pickled the estimator (`_sklearn_version`), which is the pin to suggest.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import pickletools
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, cast

#: Model files larger than this are not read (their opcodes would take long to walk).
MAX_BYTES = 256 * 1024 * 1024
MAX_FILES = 200
PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".sav", ".pkl.gz", ".pkl.z", ".z", ".gz", ".bz2", ".xz", ".lzma")


_SKLEARN_VERSION = re.compile(
    rb"_sklearn_version\x94?[\x8c\x58][\x00-\xff](?:\x00\x00\x00)?([0-9][0-9A-Za-z.+-]{0,30})"
)


@dataclass
class Needed:
    #: Top-level module -> the model files that need it.
    modules: dict[str, list[str]] = field(default_factory=dict)
    #: Distribution -> the version the model was saved with, when the pickle says (scikit-learn does).
    versions: dict[str, str] = field(default_factory=dict)


def scan(folder: Path) -> Needed:
    """The modules the pickles under `folder` import when loaded."""
    needed = Needed()
    for count, path in enumerate(_files(folder)):
        if count >= MAX_FILES:
            break
        try:
            modules, versions = read(path)
        except (OSError, EOFError, MemoryError, zlib.error, lzma.LZMAError):  # truncated or corrupt: not read
            continue
        relative = path.relative_to(folder).as_posix()
        for module in modules:
            needed.modules.setdefault(module.split(".")[0], []).append(relative)
        needed.versions.update(versions)
    return needed


def _files(folder: Path) -> Iterator[Path]:
    for parent, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            path = Path(parent, name)
            if name.lower().endswith(PICKLE_SUFFIXES) and not path.is_symlink() and path.stat().st_size <= MAX_BYTES:
                yield path


def read(path: Path) -> tuple[set[str], dict[str, str]]:
    """The modules and versions a model file names, from at most MAX_BYTES of its (decompressed) pickle. A truncated
    or corrupt compressed file raises (OSError, EOFError, zlib.error, lzma.LZMAError): `scan` leaves it unread."""
    with path.open("rb") as raw:
        head = raw.read(6)
        raw.seek(0)
        stream = _decompressed(head, raw)
        if stream is None:
            return set(), {}
        head_bytes = stream.read(MAX_BYTES)
        modules, versions = _globals(io.BytesIO(head_bytes))
        if "scikit-learn" not in versions:  # joblib's raw array bytes stop the opcode walk before the version
            found = _SKLEARN_VERSION.search(head_bytes)
            if found:
                versions["scikit-learn"] = found.group(1).decode("ascii")
        return modules, versions


def _decompressed(head: bytes, raw: IO[bytes]) -> IO[bytes] | None:
    """The pickle stream inside joblib's compressions (zlib, gzip, bz2, xz, lzma), or the file itself."""
    if head[:1] == b"\x80":
        return raw
    if head[:2] == b"\x1f\x8b":
        return cast(IO[bytes], gzip.GzipFile(fileobj=raw))
    if head[:3] == b"BZh":
        return cast(IO[bytes], bz2.BZ2File(raw))
    if head[:6] == b"\xfd7zXZ\x00" or head[:3] == b"\x5d\x00\x00":
        return cast(IO[bytes], lzma.LZMAFile(raw))
    if head[:1] == b"\x78":  # joblib's zlib files
        try:  # at most MAX_BYTES out, as the streams above are read: a few KB of zeros can expand to gigabytes
            return io.BytesIO(zlib.decompressobj().decompress(raw.read(MAX_BYTES), MAX_BYTES))
        except zlib.error:
            return None
    if head[:6] == b"ZF0x00" or head.startswith(b"ZF"):  # joblib's old zlib container
        return None
    return None


def _globals(stream: IO[bytes]) -> tuple[set[str], dict[str, str]]:
    modules: set[str] = set()
    versions: dict[str, str] = {}
    strings: list[str] = []
    memo: dict[int, str | None] = {}
    previous: str | None = None
    pushed_string = False
    try:
        for opcode, argument, _ in pickletools.genops(stream):
            name = opcode.name
            was_string, pushed_string = pushed_string, False
            if name == "GLOBAL" and isinstance(argument, str):
                modules.add(argument.split(" ")[0])
            elif name in ("SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE") and isinstance(argument, str):
                strings.append(argument)
                if previous == "_sklearn_version":
                    versions["scikit-learn"] = argument
                previous, pushed_string = argument, True
            elif name == "MEMOIZE":
                memo[len(memo)] = strings[-1] if was_string else None
                pushed_string = was_string
            elif name in ("PUT", "BINPUT", "LONG_BINPUT") and isinstance(argument, int):
                memo[argument] = strings[-1] if was_string else None
                pushed_string = was_string
            elif name in ("BINGET", "LONG_BINGET", "GET") and isinstance(argument, int):
                value = memo.get(argument)
                if value is not None:
                    strings.append(value)
                    pushed_string = True
            elif name == "STACK_GLOBAL" and len(strings) >= 2:
                modules.add(strings[-2])
            elif name == "STOP":
                break
    except (ValueError, EOFError, OSError, lzma.LZMAError, zlib.error):  # raw array data after a joblib pickle
        pass
    return {m for m in modules if m and m.split(".")[0].isidentifier()}, versions
