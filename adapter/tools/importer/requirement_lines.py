"""Whether a line import would write into requirements.txt is one plain requirement: a name, extras, version
specifiers and environment markers (PEP 508), and nothing else.

pip reads much more from a requirements file: options (`--extra-index-url`, `--no-binary :all:`, `--trusted-host`),
includes (`-r FILE`), editables, URLs and local archives (`-e git+https://...`, `name @ https://...`, `pkg.tgz`,
which build and run the package's code at install), and options after a requirement (`numpy --install-option=...`).
A deployment's environment is not trusted with any of them, and a line break inside one entry would write several
lines. Such lines are listed as not carried over; the user can still pass any line on the command line
(`import --pip LINE`), and then it is shown.
"""

from __future__ import annotations

import re

from adapter.tools import archives

NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
VERSION = r"[A-Za-z0-9.*+!_-]+"
CLAUSE = rf"(?:===|==|!=|<=|>=|~=|<|>)\s*{VERSION}"
SPECIFIER = rf"{CLAUSE}(?:\s*,\s*{CLAUSE})*"
REQUIREMENT = re.compile(
    rf"(?P<name>{NAME})\s*(?:\[\s*(?:{NAME}(?:\s*,\s*{NAME})*)?\s*\])?\s*"
    rf"(?:{SPECIFIER}|\(\s*{SPECIFIER}\s*\))?\s*(?:;(?P<marker>.*))?"
)
MARKER_VARIABLES = frozenset(
    """
    python_version python_full_version os_name sys_platform platform_release platform_system platform_version
    platform_machine platform_python_implementation implementation_name implementation_version extra
    """.split()
)
#: Marker tokens: parentheses, `and`/`or`, comparisons, quoted values without line breaks, variable names.
MARKER_TOKEN = re.compile(
    r"\s*(\(|\)|===|==|!=|<=|>=|~=|<|>|not\s+in\b|in\b|and\b|or\b|'[^'\r\n]*'|\"[^\"\r\n]*\"|[a-z_]+)"
)


def problem(line: str) -> str | None:
    """Why `line` is not one plain requirement, or None when it is."""
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in line):
        return "it holds a line break or a control character, so it would write more than one line"
    stripped = line.strip()
    if stripped.startswith("-"):
        return "a pip option or include, which only a line you pass yourself (--pip) may be"
    if "://" in stripped or re.match(rf"{NAME}\s*(\[[^\]]*\])?\s*@", stripped):
        return "a URL requirement (its code is built and run at install), which only a line you pass (--pip) may be"
    if archives.is_archive(stripped):
        return (
            "a local archive (pip builds it from the folder it runs in, running its setup.py), which only a line you "
            "pass (--pip) may be"
        )
    if any(token.startswith("-") for token in stripped.split()):
        return "it carries pip options, which only a line you pass yourself (--pip) may"
    match = REQUIREMENT.fullmatch(stripped)
    if match is None:
        return "not a requirement pip reads as name, version and markers"
    marker = match.group("marker")
    if marker is not None and not _marker_ok(marker):
        return "its environment marker is not one pip reads"
    return None


def _marker_ok(marker: str) -> bool:
    position, depth, words = 0, 0, []
    while position < len(marker.rstrip()):
        token = MARKER_TOKEN.match(marker, position)
        if token is None:
            return False
        text = token.group(1)
        depth += {"(": 1, ")": -1}.get(text, 0)
        if depth < 0:
            return False
        if re.fullmatch(r"[a-z_]+", text) and text not in ("and", "or", "in", "not"):
            words.append(text)
        position = token.end()
    return depth == 0 and bool(marker.strip()) and all(word in MARKER_VARIABLES for word in words)
