"""Does an answer have the shape `@output_schema` declares? Plain sentences for each place where it does not.

Clients (Power BI above all) read the Swagger document and then the answer; an answer of another shape breaks them
even with a 200: a script that catches its own exception and returns the message as a string, or returns a bare list
where `{"Results": [...]}` is declared. Only the kind of each value is compared (object, array, string, number,
boolean) and the declared property names, because that is what a client builds on: integers and floats pass for
each other, `null` passes anywhere (a missing score), and extra properties are allowed (JSON Schema's default).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

#: What inference-schema reports for a `run()` without `@output_schema`: it says nothing about the answer.
UNDECLARED: Mapping[str, Any] = {"type": "object"}
#: Array items compared, and sentences returned, at most: enough to show the pattern, cheap on a large answer.
ITEMS = 20
LIMIT = 5
EXCERPT = 60


def declared(schema: Mapping[str, Any] | None) -> bool:
    """Whether `schema` (inference-schema's `get_output_schema`) says anything about the answer."""
    return bool(schema) and dict(schema or {}) != dict(UNDECLARED)


def contradictions(schema: Mapping[str, Any] | None, answer: Any) -> list[str]:
    """Where the parsed JSON `answer` contradicts the output `schema`, one sentence each; empty when it fits."""
    if schema is None or not declared(schema):
        return []
    found: list[str] = []
    _compare(schema, answer, "the answer", found, 0)
    return found[:LIMIT]


def _compare(schema: Mapping[str, Any], value: Any, where: str, found: list[str], depth: int) -> None:
    if len(found) >= LIMIT or depth > 32 or value is None:
        return
    wanted = _types(schema)
    kind = kind_of(value)
    if wanted and kind not in wanted:
        shown = f" ({_excerpt(value)})" if kind in ("string", "number", "boolean") else ""
        found.append(f"{where} is {_a(kind)}{shown} where @output_schema declares {_declared(schema, wanted)}")
        return
    if kind == "object":
        properties = schema.get("properties")
        if isinstance(properties, Mapping):
            names = {str(name): sub for name, sub in properties.items()}
            required = schema.get("required")
            expected = [str(n) for n in required] if isinstance(required, list) else list(names)
            missing = [name for name in expected if name not in value]
            if missing:
                has = ", ".join(f"'{k}'" for k in list(value)[:LIMIT]) or "nothing"
                found.append(
                    f"{where} has no {', '.join(repr(m) for m in missing)} (it has {has}), "
                    "which @output_schema declares"
                )
            for name, sub in names.items():
                if name in value and isinstance(sub, Mapping):
                    _compare(sub, value[name], _member(where, name), found, depth + 1)
    elif kind == "array":
        items = schema.get("items")
        if isinstance(items, Mapping):
            for index, item in enumerate(value[:ITEMS]):
                _compare(items, item, f"{where}[{index}]", found, depth + 1)
                if len(found) >= LIMIT:
                    return


def kind_of(value: Any) -> str:
    """The JSON kind of a parsed JSON value."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _types(schema: Mapping[str, Any]) -> set[str]:
    declared_type = schema.get("type")
    types = declared_type if isinstance(declared_type, list) else [declared_type] if declared_type else []
    # Integers and floats are one kind to a JSON client; `integer` is what a sample like [1] gives.
    return {"number" if t == "integer" else str(t) for t in types}


def _declared(schema: Mapping[str, Any], wanted: set[str]) -> str:
    kinds = " or ".join(_a(kind) for kind in sorted(wanted))
    properties = schema.get("properties")
    if "object" in wanted and isinstance(properties, Mapping) and properties:
        return f"{kinds} with {', '.join(repr(str(n)) for n in list(properties)[:LIMIT])}"
    return kinds


def _member(where: str, name: str) -> str:
    return name if where == "the answer" else f"{where}.{name}"


def _excerpt(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= EXCERPT else text[: EXCERPT - 3] + "..."


def _a(kind: str) -> str:
    return f"an {kind}" if kind[:1] in "aeiou" else f"a {kind}"
