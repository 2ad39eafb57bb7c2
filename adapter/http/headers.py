"""What a header line may hold, in one place: the functions check the answers a script returns with it, and `serve`
checks the requests it reads and the answers it writes."""

from __future__ import annotations

import re

#: RFC 9110 §5.6.2: a header name (and a method) is a token.
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: Control characters other than HTAB: never in a field value (a CR or LF there would end the line early).
CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def field_problem(name: str, value: str) -> str | None:
    """Why `name: value` cannot be written as one header line, unchanged and alone; None when it can."""
    if not TOKEN.fullmatch(name):
        return f"header name {name!r} is not a token (RFC 9110 §5.6.2)"
    if CONTROL.search(value):
        return f"header {name!r} has a control character (CR, LF, NUL...) in its value"
    if any(c > "\xff" for c in value):
        return f"header {name!r} has a value outside latin-1"
    return None
