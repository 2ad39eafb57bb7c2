"""Can Power BI score a table with this script? Yes when `python -m adapter powerquery` can write its function.

Power BI calls the app through that generated Power Query function (its built-in "Azure Machine Learning" button
lists only AML workspace endpoints, never a Function App), so the question is whether the schema describes a table
to send: any tabular shape does (`powerquery.plan`). A user's `swagger.json`/`swagger2.json`, when present, is
what the function is built from, and is also checked as OpenAPI 2.0 (clients generated from it read it too).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from adapter.openapi import powerquery, swagger
from adapter.settings import Settings

if TYPE_CHECKING:
    from adapter.script.entry_script import EntryScript


def problems(settings: Settings, script: EntryScript) -> list[str]:
    """Everything that keeps Power BI from scoring a table with this script, one plain sentence each; empty when
    it can. `script` is the imported script (`entry_script.load`, no `init()`)."""
    try:
        powerquery.plan(settings, script)
    except powerquery.PowerQueryError as ex:
        return [f"python -m adapter powerquery cannot write its Power Query function: {ex}"]
    try:
        document = swagger.user_document(settings, "2")
    except swagger.UserSwaggerError as ex:  # plan() reads it too; kept for a document it skipped
        return [f"There is no valid Swagger 2.0 document: {ex}"]
    return _validation_problems(document) if isinstance(document, dict) else []


def _validation_problems(document: Mapping[str, Any]) -> list[str]:
    """A user's document checked with openapi-spec-validator when it is installed (a development dependency; the
    generated documents are valid by construction and tested)."""
    try:
        from openapi_spec_validator import validate
    except ImportError:
        return []
    try:
        validate(dict(document))
    except Exception as ex:
        first_line = str(ex).splitlines()[0] if str(ex) else type(ex).__name__
        return [f"The user's Swagger 2.0 document is not valid OpenAPI 2.0: {first_line}"]
    return []
