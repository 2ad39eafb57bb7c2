"""Copying a folder given from elsewhere (an AML code folder, a model folder) into the app without following it out.

A symlink to a file inside the folder is copied as that file (Hugging Face caches link snapshots to their blobs that
way); a symlink that leads out of the folder, to a folder or to nothing is refused, as is anything that is not a
regular file or a folder (a named pipe would stop the copy, waiting for a writer), as is a folder that cannot be
listed (its files would be missing from the copy, which would still look complete). Files are opened without following
a link and without waiting, and checked to be regular files again once open, so a file swapped for a link or a pipe
after the walk is refused too, never copied.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

#: (posix path relative to the folder, whether it is a folder) -> whether to leave it out.
Skip = Callable[[str, bool], bool]


class TreeError(OSError):
    """A file that changed into something else between the walk and the copy."""


@dataclass
class Tree:
    root: Path
    #: (the file to read: the entry, or for a link inside the folder the file it leads to; posix path relative to
    #: the folder), in walk order.
    files: list[tuple[Path, str]] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)
    #: Symlinks leading out, to folders or to nothing (folders end with `/`).
    links: list[str] = field(default_factory=list)
    #: Named pipes, sockets, devices.
    special: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    #: Folders that could not be listed (`./` for the folder itself), with why; what they hold was not walked.
    unreadable: list[str] = field(default_factory=list)

    def problem(self, shown: Callable[[list[str]], str]) -> str | None:
        """What makes the folder uncopyable, as the end of a sentence, or None."""
        if self.unreadable:
            return (
                f"has folders that cannot be read: {shown(self.unreadable)}; a copy would leave out what they hold, so "
                "nothing is copied. Make them readable (or remove them) and try again"
            )
        if self.links:
            return (
                f"has symlinks to folders, to nowhere or out of it: {shown(self.links)}; replace them with the files "
                "they stand for"
            )
        if self.special:
            kinds = "named pipes, sockets, devices"
            return f"has entries that are neither files nor folders ({kinds}): {shown(self.special)}"
        return None


def walk(root: Path, skip: Skip | None = None) -> Tree:
    """Everything under `root` (a folder), without following symlinks; `skip` leaves entries out. A folder that cannot
    be listed is recorded in `unreadable` (os.walk would otherwise skip it without a word)."""
    real_root = root.resolve()
    tree = Tree(root)

    def unreadable(error: OSError) -> None:
        where = Path(error.filename) if isinstance(error.filename, str) else root
        relative = where.relative_to(root).as_posix() if where.is_relative_to(root) else str(where)
        tree.unreadable.append(f"{relative}/ ({error.strerror or type(error).__name__})")

    for parent, dirs, files in os.walk(root, onerror=unreadable):
        base = Path(parent).relative_to(root)
        kept = []
        for name in sorted(dirs):
            relative = (base / name).as_posix()
            if skip is not None and skip(relative, True):
                tree.skipped.append(relative + "/")
            elif Path(parent, name).is_symlink():
                tree.links.append(relative + "/")
            else:
                kept.append(name)
                tree.folders.append(relative)
        dirs[:] = kept
        for name in sorted(files):
            relative = (base / name).as_posix()
            path = Path(parent, name)
            if skip is not None and skip(relative, False):
                tree.skipped.append(relative)
                continue
            try:
                mode = path.lstat().st_mode
            except OSError:
                tree.special.append(relative)
                continue
            if stat.S_ISLNK(mode):
                real = _inside(real_root, path)
                if real is None:
                    tree.links.append(relative)
                else:
                    tree.files.append((real, relative))
            elif stat.S_ISREG(mode):
                tree.files.append((path, relative))
            else:
                tree.special.append(relative)
    return tree


def _inside(real_root: Path, link: Path) -> Path | None:
    """The regular file a symlink leads to, when it is inside `real_root`."""
    try:
        real = link.resolve(strict=True)
        regular = stat.S_ISREG(real.lstat().st_mode)
    except (OSError, RuntimeError):  # nowhere, or a loop
        return None
    return real if regular and real.is_relative_to(real_root) else None


class NotRegular(OSError):
    """A path that turned out, once opened, not to be a regular file."""


def open_regular(path: Path, follow_links: bool = True) -> BinaryIO:
    """`path` opened for reading once it is a regular file: opened without waiting (a named pipe would wait for a
    writer), without a controlling terminal, without following a last symlink unless `follow_links`, and checked on
    the open descriptor, so a file swapped after any earlier check is refused too."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow_links:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    file = open(os.open(path, flags), "rb", closefd=True)
    if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
        file.close()
        raise NotRegular(f"{path} is not a regular file; it is not read.")
    return file


def copy_file(source: Path, destination: Path, overwrite: bool = False) -> None:
    """Copy the regular file `source` (never through a link, never a pipe) to `destination`, with its mode; never
    writing through a link at `destination`, and over an existing file only when `overwrite`."""
    try:
        reading = open_regular(source, follow_links=False)
    except NotRegular:
        raise
    except OSError as ex:
        raise TreeError(f"{source} cannot be copied ({ex.strerror}; was it replaced by a link?)") from None
    with reading:
        mode = stat.S_IMODE(os.fstat(reading.fileno()).st_mode) | stat.S_IRUSR | stat.S_IWUSR
        flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
        flags |= getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        with open(os.open(destination, flags, mode), "wb", closefd=True) as writing:
            shutil.copyfileobj(reading, writing)


def copy(tree: Tree, destination: Path) -> None:
    """Copy a walked tree (with no links out and nothing special) into `destination`, which must not exist."""
    destination.mkdir()
    for folder in tree.folders:
        (destination / folder).mkdir()
    for source, relative in tree.files:
        copy_file(source, destination / relative)
