"""Text from input files shown on a terminal: escaped, so a value or a file name cannot move the cursor, clear the
screen (hiding the WARNING lines above it), set the window title, or start a new line that looks like the tool's own.

Control characters (C0, DEL, C1, which covers ESC and CSI), line and paragraph separators and the bidirectional
overrides (which reorder what is shown) come out as Python escapes (`\\x1b`, `\\n`, `\\u202e`); everything else,
including non-ASCII text, is shown as it is.
"""

from __future__ import annotations

import re

#: What a terminal acts on rather than shows, and the bidi controls that make shown text differ from the bytes.
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def escape(text: str) -> str:
    """`text` with every character a terminal would act on written as an escape; the rest unchanged."""
    return UNSAFE.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    special = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    if char in special:
        return special[char]
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def has_unsafe(text: str) -> bool:
    return UNSAFE.search(text) is not None
