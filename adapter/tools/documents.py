"""The one reader for the files the tools are given: deployment YAML and JSON, conda files, pip requirements files,
ignore files, local.settings.json. Every read is bounded, because these files come from elsewhere:

- only a regular file is opened: a named pipe, a socket or a device is refused from its `stat`, before any `open`
  (opening a pipe waits for a writer forever), and checked again on the open descriptor;
- at most `MAX_BYTES` are read;
- YAML is composed first and its aliases bounded before anything is built: a document whose aliases expand to more
  than `MAX_NODES` nodes (the "billion laughs" alias bomb) or more than `MAX_EXPANDED_TEXT` of text (one long
  string used many times), nests deeper than `MAX_DEPTH` or refers to itself is refused in milliseconds, where a
  plain `yaml.safe_load` hands back a structure that takes minutes and gigabytes to print or walk;
- an error is one sentence that says where (line, column) and never quotes the file: a `conda_file` that points at a
  private key must not put its lines on the terminal.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

from adapter import paths, trees

MAX_BYTES = 1024 * 1024
#: Nodes a YAML document may expand to, aliases counted as often as they are used: real deployment and conda files
#: have a few hundred.
MAX_NODES = 100_000
#: Characters a YAML document may expand to (the lengths of its scalars, aliases counted as often as they are used): one
#: long string used many times is a bomb of few nodes. Without aliases a document holds at most MAX_BYTES.
MAX_EXPANDED_TEXT = 4 * 1024 * 1024
MAX_DEPTH = 100
#: What a parser's message may quote from the file: a character or a short token ('\t', '<stream end>'), never a
#: line.
QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
SHORT = 16


class DocumentError(Exception):
    """A file that cannot be read as the document it should be, in one sentence that does not quote it."""


def read_bytes(path: Path, what: str = "", limit: int = MAX_BYTES) -> bytes:
    """The content of the regular file `path`, at most `limit` bytes; `what` names it in errors (`the conda file`)."""
    subject = f"{what} {path}" if what else str(path)
    try:
        found = os.stat(path)
    except FileNotFoundError:
        raise DocumentError(f"{subject} does not exist.") from None
    except OSError as ex:
        raise DocumentError(f"{subject} cannot be read ({ex.strerror}).") from None
    if not stat.S_ISREG(found.st_mode):
        raise DocumentError(f"{subject} is {paths.file_kind(found.st_mode)}, not a regular file; it is not opened.")
    if found.st_size > limit:
        raise DocumentError(f"{subject} is larger than {limit // 1024} KB; it is not read.")
    try:
        file = trees.open_regular(path)
    except trees.NotRegular:  # swapped for a pipe between the stat and the open: still not read
        raise DocumentError(f"{subject} is not a regular file; it is not read.") from None
    except OSError as ex:
        raise DocumentError(f"{subject} cannot be read ({ex.strerror}).") from None
    with file:
        content = file.read(limit + 1)
    if len(content) > limit:
        raise DocumentError(f"{subject} is larger than {limit // 1024} KB; it is not read.")
    return content


def read_text(path: Path, what: str = "", limit: int = MAX_BYTES) -> str:
    """The UTF-8 text of the regular file `path` (a byte-order mark dropped)."""
    content = read_bytes(path, what, limit)
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as ex:
        subject = f"{what} {path}" if what else str(path)
        raise DocumentError(f"{subject} is not UTF-8 text (byte {ex.start} is not); it is not read.") from None


def read_document(path: Path, what: str = "") -> object:
    """A JSON (`.json`) or YAML (anything else) file, parsed."""
    text = read_text(path, what)
    subject = f"{what} {path}" if what else str(path)
    if path.suffix.lower() == ".json":
        return parse_json(text, subject)
    return parse_yaml(text, subject, path.name)


def parse_json(text: str, subject: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as ex:
        raise DocumentError(f"{subject} is not valid JSON ({ex.msg}: line {ex.lineno} column {ex.colno}).") from None
    except RecursionError:
        raise DocumentError(f"{subject} is not valid JSON (nested more than the parser allows).") from None
    except ValueError as ex:  # an integer too long to convert
        raise DocumentError(f"{subject} is not valid JSON ({_unquoted(str(ex))}).") from None


def parse_yaml(text: str, subject: str, name: str) -> object:
    """YAML with the safe loader, aliases bounded. PyYAML only when a YAML file is read: the Function App itself
    never needs it."""
    try:
        import yaml
    except ImportError:
        raise DocumentError(f"Reading {name} needs PyYAML: python -m pip install pyyaml") from None
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _bounded(node, subject, {}, set())
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as ex:
        raise DocumentError(f"{subject} is not valid YAML ({_yaml_problem(ex)}).") from None
    except yaml.YAMLError as ex:
        raise DocumentError(f"{subject} is not valid YAML ({_unquoted(' '.join(str(ex).split()))}).") from None
    except RecursionError:
        raise DocumentError(f"{subject} is not valid YAML here: it nests deeper than {MAX_DEPTH} levels.") from None
    finally:
        loader.dispose()


def _bounded(
    node: Any, subject: str, sizes: dict[int, tuple[int, int, int]], open_nodes: set[int]
) -> tuple[int, int, int]:
    """(expanded nodes, depth, expanded scalar characters) of a composed node, each distinct node measured once;
    refused past the bounds."""
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in open_nodes:
        raise DocumentError(f"{subject} is refused: an alias in it refers to the node that holds it.")
    children: list[Any] = []
    if isinstance(node.value, list):
        for item in node.value:
            children.extend(item if isinstance(item, tuple) else (item,))
    open_nodes.add(key)
    count, depth = 1, 1
    text = len(node.value) if isinstance(node.value, str) else 0
    for child in children:
        inner_count, inner_depth, inner_text = _bounded(child, subject, sizes, open_nodes)
        count += inner_count
        depth = max(depth, inner_depth + 1)
        text += inner_text
        if count > MAX_NODES:
            raise DocumentError(
                f"{subject} is refused: its aliases expand to more than {MAX_NODES:,} values (an alias bomb?)."
            )
        if text > MAX_EXPANDED_TEXT:
            raise DocumentError(
                f"{subject} is refused: its aliases expand to more than {MAX_EXPANDED_TEXT // (1024 * 1024)} MB of "
                "text (an alias bomb?)."
            )
        if depth > MAX_DEPTH:
            raise DocumentError(f"{subject} is refused: it nests deeper than {MAX_DEPTH} levels.")
    open_nodes.discard(key)
    sizes[key] = (count, depth, text)
    return count, depth, text


def _yaml_problem(ex: Any) -> str:
    problem = " ".join(str(ex.problem or ex.context or "syntax error").split())
    mark = ex.problem_mark or ex.context_mark
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return _unquoted(problem) + where


def _unquoted(message: str) -> str:
    """A parser's message without the longer pieces of the file it quotes."""
    return QUOTED.sub(lambda quoted: quoted.group() if len(quoted.group()) <= SHORT else "'...'", message)
