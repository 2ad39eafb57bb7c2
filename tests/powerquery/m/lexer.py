"""Tokens of the M language (Power Query formula language specification, "Lexical structure")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .values import MError

KEYWORDS = frozenset(
    "and as each else error false if in is let meta not null or otherwise section shared then true try type "
    "catch".split()
)
#: `#date`, `#table`... are keywords in the specification; here they name library functions.
HASH_KEYWORDS = frozenset(
    "#binary #date #datetime #datetimezone #duration #infinity #nan #sections #shared #table #time".split()
)
PUNCTUATORS = sorted("= <> <= >= < > + - * / & ( ) [ ] { } , ; => .. ... ?? ? @ !".split(), key=len, reverse=True)


@dataclass(frozen=True)
class Token:
    kind: str  # "ident" (also quoted), "keyword", "number", "text", "punct", "eof"
    value: str
    start: int
    end: int


_IDENT_PART = r"[A-Za-z_\u00c0-\uffff][A-Za-z0-9_\u00c0-\uffff]*"
_IDENT = re.compile(rf"{_IDENT_PART}(?:\.{_IDENT_PART})*")
_NUMBER = re.compile(r"0[xX][0-9A-Fa-f]+|(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_SPACE = re.compile(r"(?:\s+|//[^\n\r\u2028\u2029]*|/\*.*?\*/)+", re.S)
_ESCAPE = re.compile(r"#\(([^)]*)\)")
_ESCAPE_NAMES = {"cr": "\r", "lf": "\n", "tab": "\t", "#": "#"}


def syntax_error(text: str, at: int, message: str) -> MError:
    line = text.count("\n", 0, at) + 1
    column = at - (text.rfind("\n", 0, at) + 1) + 1
    return MError("Expression.SyntaxError", f"{line}:{column}: {message}")


def unescape(body: str, text: str, at: int) -> str:
    """A text literal's content: `""` -> `"`, `#(cr)`, `#(lf)`, `#(tab)`, `#(#)`, `#(0041)`, `#(cr,lf)`..."""

    def one(match: re.Match[str]) -> str:
        out = []
        for name in match.group(1).split(","):
            name = name.strip()
            if name in _ESCAPE_NAMES:
                out.append(_ESCAPE_NAMES[name])
            elif re.fullmatch(r"[0-9A-Fa-f]{4}|[0-9A-Fa-f]{8}", name):
                out.append(chr(int(name, 16)))
            else:
                raise syntax_error(text, at, f"invalid escape #({match.group(1)})")
        return "".join(out)

    return _ESCAPE.sub(one, body.replace('""', '"'))


def tokens(text: str) -> list[Token]:
    out: list[Token] = []
    i, n = 0, len(text)
    while True:
        m = _SPACE.match(text, i)
        if m:
            i = m.end()
        if i >= n:
            out.append(Token("eof", "", n, n))
            return out
        c = text[i]
        if c == '"' or (c == "#" and text.startswith('#"', i)):
            quoted = c == "#"
            j = i + (2 if quoted else 1)
            while True:
                k = text.find('"', j)
                if k < 0:
                    raise syntax_error(text, i, "unterminated text literal")
                if text.startswith('""', k):
                    j = k + 2
                    continue
                break
            body = unescape(text[i + (2 if quoted else 1) : k], text, i)
            out.append(Token("ident" if quoted else "text", body, i, k + 1))
            i = k + 1
            continue
        if c == "#":
            m = re.compile(r"#[a-z]+").match(text, i)
            if m and m.group(0) in HASH_KEYWORDS:
                out.append(Token("ident", m.group(0), i, m.end()))
                i = m.end()
                continue
            raise syntax_error(text, i, "unexpected '#'")
        if c.isdigit() or (c == "." and i + 1 < n and text[i + 1].isdigit()):
            m = _NUMBER.match(text, i)
            assert m
            out.append(Token("number", m.group(0), i, m.end()))
            i = m.end()
            continue
        m = _IDENT.match(text, i)
        if m:
            word = m.group(0)
            out.append(Token("keyword" if word in KEYWORDS else "ident", word, i, m.end()))
            i = m.end()
            continue
        for p in PUNCTUATORS:
            if text.startswith(p, i):
                out.append(Token("punct", p, i, i + len(p)))
                i += len(p)
                break
        else:
            raise syntax_error(text, i, f"unexpected character {c!r}")
