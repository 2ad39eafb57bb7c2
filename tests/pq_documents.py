"""User swagger documents for the Power Query and Power BI tests (tests/test_powerquery.py, tests/test_powerbi.py)."""

from __future__ import annotations

from typing import Any

#: A script without a schema: its documents are the user's.
UNDECORATED = "def init():\n    pass\n\n\ndef run(data):\n    return data\n"


def swagger_document(
    body: dict[str, Any], answer: dict[str, Any] | None = None, version: str = "2", described: bool = True
) -> dict[str, Any]:
    """A user's document whose POST /score takes `body` and answers `answer` (OpenAPI 2.0, or 3.0 with version "3");
    `described=False` leaves out the 200's description, which OpenAPI requires."""
    ok = {"description": "ok"} if described else {}
    if version == "2":
        return {
            "swagger": "2.0",
            "info": {"title": "t", "version": "1"},
            "paths": {
                "/score": {
                    "post": {
                        "parameters": [{"name": "body", "in": "body", "schema": {"$ref": "#/definitions/In"}}],
                        "responses": {"200": {**ok, "schema": answer or {}}},
                    }
                }
            },
            "definitions": {"In": body},
        }
    return {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/score": {
                "post": {
                    "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/In"}}}},
                    "responses": {"200": {**ok, "content": {"application/json": {"schema": answer or {}}}}},
                }
            }
        },
        "components": {"schemas": {"In": body}},
    }


def positional_answer(names: list[str], length: int | None = None) -> dict[str, Any]:
    """An answer schema: a list per row of `length` numbers (that of `names` by default) whose positions `names`
    names (`x-column-names`, as the MLflow script declares a library flavor's 2-D answer)."""
    size = len(names) if length is None else length
    row = {"type": "array", "items": {"type": "number"}, "minItems": size, "maxItems": size, "x-column-names": names}
    return {"type": "array", "items": row}
