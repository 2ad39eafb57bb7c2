"""Requirement lines pip reads as a local archive, not as a package name.

`evil.tgz` looks like a requirement name (letters, dots), but pip takes a line that ends like an archive as a path:
it looks for the file in its working folder and builds it, running the package's `setup.py`, even with `--dry-run`.
So every archive extension pip recognises (`pip._internal.utils.filetypes.ARCHIVE_EXTENSIONS`) marks a line as a
local path, for import (never written from a deployment's environment) and for check (never handed to an installer).
"""

from __future__ import annotations

import re

#: pip's ARCHIVE_EXTENSIONS: zip and wheel, bzip2, tar and gzip, xz and lzma.
EXTENSIONS = (
    ".zip",
    ".whl",
    ".tar.bz2",
    ".tbz",
    ".tar.gz",
    ".tgz",
    ".tar",
    ".tar.xz",
    ".txz",
    ".tlz",
    ".tar.lz",
    ".tar.lzma",
)
#: Extras at the end of a path requirement (`./pkg.tgz[extra]`), which pip strips before it looks at the file name.
_EXTRAS = re.compile(r"\[[^\]]*\]\s*$")


def is_archive(line: str) -> bool:
    """Whether pip would read the requirement `line` as an archive file (markers and extras aside), as pip does:
    whatever its case (`EVIL.TGZ`)."""
    requirement = line.split(";", 1)[0].strip()
    return _EXTRAS.sub("", requirement).rstrip().lower().endswith(EXTENSIONS)
