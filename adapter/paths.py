"""Where the app is: the one owner of the function app root and of `AML_APP_ROOT`.

The function app root holds `function_app.py`, `host.json` and this package; `AML_APP_ROOT` (azmlinfsrv's name)
may put the entry script and `models/` elsewhere. A relative `AML_APP_ROOT` is resolved against the working
directory of the moment, which the adapter moves to the app root before importing the script (as AML does), so it
is resolved once, here, and pinned as an absolute path (`pin_app_root`).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping, MutableMapping
from pathlib import Path

from adapter import trees

#: The function app root: the folder holding `function_app.py` and this package.
FUNCTION_APP_ROOT = Path(__file__).resolve().parent.parent


def app_root(env: Mapping[str, str] | None = None) -> Path:
    """The folder holding the entry script and `models/`: AML_APP_ROOT (absolute), else the function app root."""
    root = (os.environ if env is None else env).get("AML_APP_ROOT")
    return Path(root).expanduser().resolve() if root else FUNCTION_APP_ROOT


def pin_app_root(root: Path, env: MutableMapping[str, str] | None = None) -> None:
    """Write the resolved root as AML_APP_ROOT, so later look-ups (`Model.get_model_path`, and the script itself) see
    the deployment's root as an absolute path, whatever the working directory has become."""
    env = os.environ if env is None else env
    env["AML_APP_ROOT"] = str(root)


class NotARegularFile(OSError):
    """A path that names a FIFO, a folder, a device or a socket where a file is expected."""

    def __init__(self, path: Path, mode: int) -> None:
        self.kind = file_kind(mode)
        super().__init__(f"{path.name} is not a regular file: it is {self.kind}")


def file_kind(mode: int) -> str:
    """What a `stat` mode names, in a few words for a message."""
    kinds = {
        stat.S_IFIFO: "a named pipe (FIFO)",
        stat.S_IFDIR: "a folder",
        stat.S_IFSOCK: "a socket",
        stat.S_IFCHR: "a character device",
        stat.S_IFBLK: "a block device",
        stat.S_IFLNK: "a symbolic link",
    }
    return kinds.get(stat.S_IFMT(mode), "not a file")


def read_regular_file(path: Path, limit: int | None = None) -> bytes:
    """The bytes of `path` (its first `limit` bytes when given), refusing anything but a regular file with
    `NotARegularFile`, which says what it is: a FIFO would block the reading thread forever, a device could be
    endless. Checked before opening (a FIFO is never opened) and again on what was opened, without waiting, in case
    the path was replaced in between. Other errors are the usual `OSError`s (FileNotFoundError...)."""
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        raise NotARegularFile(path, mode)
    try:
        file = trees.open_regular(path)
    except trees.NotRegular:
        raise NotARegularFile(path, os.stat(path).st_mode) from None
    with file:
        return file.read() if limit is None else file.read(limit)
