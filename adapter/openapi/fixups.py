"""Make inference-schema's schemas valid in the document they go into.

inference-schema writes a few things no OpenAPI validator (or strict JSON parser) accepts, which azmlinfsrv serves
as they are:

- an empty dict sample gives `"required": []`, invalid in OpenAPI 2.0 and 3.0 (JSON Schema draft 4 wants at least
  one name; 3.1's JSON Schema allows none, so it stays there);
- a dict sample with non-string keys lists them in `required` as numbers (or `null`, `true`...), while JSON turns
  the property names into strings: they are written as the property names are;
- a NaN or infinite float sample becomes the example `NaN`/`Infinity`, which is not JSON: it becomes `null`.
"""

from __future__ import annotations

import json
import math
from typing import Any

#: Schema keywords whose value is a schema, or a map of names to schemas.
_SUBSCHEMA = ("items", "additionalProperties", "not")
_SCHEMA_MAPS = ("properties", "patternProperties")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
#: Keywords holding JSON values (not schemas).
_VALUES = ("example", "default", "enum")


def fix_schema(schema: Any, *, empty_required_allowed: bool) -> Any:
    """A fixed copy of `schema`; the original (inference-schema's own record) is left alone."""
    if not isinstance(schema, dict):
        return schema
    fixed: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _SUBSCHEMA:
            fixed[key] = fix_schema(value, empty_required_allowed=empty_required_allowed)
        elif key in _SCHEMA_MAPS and isinstance(value, dict):
            fixed[key] = {
                json_key(name): fix_schema(sub, empty_required_allowed=empty_required_allowed)
                for name, sub in value.items()
            }
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            fixed[key] = [fix_schema(sub, empty_required_allowed=empty_required_allowed) for sub in value]
        elif key == "required" and isinstance(value, list):
            if value or empty_required_allowed:
                fixed[key] = [json_key(name) for name in value]
        elif key in _VALUES:
            fixed[key] = finite(value)
        else:
            fixed[key] = value
    return fixed


def json_key(name: Any) -> str:
    """`name` as `json.dumps` writes it as an object key (1 -> "1", None -> "null", True -> "true")."""
    if isinstance(name, str):
        return name
    return str(next(iter(json.loads(json.dumps({name: 0})))))


def finite(value: Any) -> Any:
    """A copy of a JSON value with NaN and infinities as None, so it serialises as strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {json_key(k): finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value
