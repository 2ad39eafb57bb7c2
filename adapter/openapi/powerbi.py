"""Is the script shaped for Power BI? The contract AML documents for automated consumers, checked in plain words.

Power BI reads the service's Swagger 2.0 document and sends `{"Inputs": {...}, "GlobalParameters": {...}}`, then
reads `Results` from the answer. So `run()` takes `Inputs` first (an object of named tables or values), optionally
`GlobalParameters` (of any type), nothing else, and returns an object with `Results`; the names are
case-sensitive. A user's `swagger.json`/`swagger2.json`, when present, is the document Power BI reads instead.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from adapter.openapi import swagger
from adapter.settings import Settings

if TYPE_CHECKING:
    from adapter.script.entry_script import EntryScript

INPUTS, GLOBALS, RESULTS = "Inputs", "GlobalParameters", "Results"
WANTED = (
    'Power BI needs run(Inputs, GlobalParameters=None) decorated with @input_schema("Inputs", '
    'StandardPythonParameterType({...})), optionally @input_schema("GlobalParameters", ...), and '
    '@output_schema(StandardPythonParameterType({"Results": ...})).'
)


def problems(settings: Settings, script: EntryScript) -> list[str]:
    """Everything that keeps Power BI from calling this script, one plain sentence each; empty when it is ready.

    `script` is the imported script (`entry_script.load`, no `init()`); the Swagger 2.0 document is built as
    `/swagger.json` would serve it.
    """
    from inference_schema.schema_util import is_schema_decorated

    found: list[str] = []
    try:
        from_user = swagger.user_document(settings, "2") is not None
    except swagger.UserSwaggerError as ex:
        return [f"There is no valid Swagger 2.0 document, which Power BI reads: {ex}"]
    if not from_user:
        if script.raw:
            return ["run() is decorated with @rawhttp, so there is no schema for Power BI to read. " + WANTED]
        if not is_schema_decorated(script.run):
            return [
                "run() is not decorated with inference-schema, so the Swagger document does not say what it takes "
                "or returns. " + WANTED
            ]
        found += _signature_problems(script)
    try:
        document = swagger.build(settings, script, "2")
    except (swagger.SwaggerNotFound, swagger.UserSwaggerError) as ex:
        return [*found, f"There is no valid Swagger 2.0 document, which Power BI reads: {ex}"]
    found += document_problems(document)
    if from_user:
        found += _validation_problems(document)
    return found


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


def _signature_problems(script: EntryScript) -> list[str]:
    params = [p.name for p in inspect.signature(script.run).parameters.values() if p.name != "request_headers"]
    found = []
    if INPUTS in params and params[0] != INPUTS:
        found.append(f"'{INPUTS}' must be run()'s first parameter; the first is '{params[0]}'.")
    if GLOBALS in params and params.index(GLOBALS) != 1:
        found.append(f"'{GLOBALS}' must be run()'s second parameter, right after '{INPUTS}'.")
    return found


def document_problems(document: Mapping[str, Any]) -> list[str]:
    """What in a Swagger document (generated, a user's, or fetched from a deployed service) Power BI cannot use."""
    if document.get("swagger") != "2.0":
        return ["The Swagger document is not version 2.0, the version Power BI reads."]
    found = []
    operation = _score_operation(document)
    body = next((p for p in operation.get("parameters", []) if isinstance(p, dict) and p.get("in") == "body"), None)
    if body is None:
        found.append(
            "The Swagger document has no POST /score operation with a JSON body, so Power BI cannot tell what to send."
        )
    else:
        found += _input_problems(_resolve(document, body.get("schema")))
    ok = operation.get("responses", {}).get("200", {})
    found += _output_problems(_resolve(document, ok.get("schema") if isinstance(ok, dict) else None))
    return found


def _input_problems(schema: Mapping[str, Any]) -> list[str]:
    properties = _properties(schema)
    inputs = _named(properties, INPUTS)
    if inputs is None:
        takes = f" (it takes {_names(properties)})" if properties else ""
        return [
            f"run() has no '{INPUTS}' parameter{takes}; Power BI sends its data as '{INPUTS}'. "
            f'Decorate run(Inputs, ...) with @input_schema("{INPUTS}", StandardPythonParameterType({{...}})).'
        ]
    found = []
    if isinstance(inputs, str):
        found.append(inputs)
    elif _type(inputs) != "object":
        found.append(
            f"'{INPUTS}' is described as {_a(_type(inputs))}; Power BI needs an object of named tables or values, "
            'for example StandardPythonParameterType({"data": PandasParameterType(sample_frame)}).'
        )
    # GlobalParameters may be of any type: AML's documented Power BI example declares a number.
    global_parameters = _named(properties, GLOBALS)
    if isinstance(global_parameters, str):
        found.append(global_parameters)
    extra = {k: v for k, v in properties.items() if k.lower() not in (INPUTS.lower(), GLOBALS.lower())}
    if extra:
        found.append(f"Power BI sends only '{INPUTS}' and '{GLOBALS}', but run() also takes {_names(extra)}.")
    return found


def _output_problems(schema: Mapping[str, Any]) -> list[str]:
    decorate = f'decorate run() with @output_schema(StandardPythonParameterType({{"{RESULTS}": [...]}})).'
    if _type(schema) != "object":
        return [
            f"run()'s output is described as {_a(_type(schema))}; Power BI reads an object with '{RESULTS}': {decorate}"
        ]
    properties = _properties(schema)
    if not properties:
        return [
            f"run()'s output is not described (no @output_schema); Power BI reads an object with '{RESULTS}': "
            + decorate
        ]
    results = _named(properties, RESULTS, where="output")
    if results is None:
        return [f"run()'s output has no '{RESULTS}' (it has {_names(properties)}); Power BI reads the scores from it."]
    return [results] if isinstance(results, str) else []


def _named(properties: Mapping[str, Any], name: str, where: str = "input") -> Any:
    """The schema of `name`; a sentence when the name differs only in case; None when absent."""
    if name in properties:
        return properties[name]
    near = [key for key in properties if key.lower() == name.lower()]
    if near:
        return f"The {where} '{near[0]}' must be named exactly '{name}': Power BI's names are case-sensitive."
    return None


def _names(properties: Mapping[str, Any]) -> str:
    return ", ".join(f"'{name}'" for name in properties)


def _score_operation(document: Mapping[str, Any]) -> Mapping[str, Any]:
    for path, item in (document.get("paths") or {}).items():
        if str(path).rstrip("/").endswith("/score") and isinstance(item, dict) and isinstance(item.get("post"), dict):
            return dict(item["post"])
    return {}


def _resolve(document: Mapping[str, Any], schema: Any) -> Mapping[str, Any]:
    """A schema with its local `#/definitions/...` reference followed."""
    if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
        name = schema["$ref"].removeprefix("#/definitions/")
        schema = (document.get("definitions") or {}).get(name)
    return schema if isinstance(schema, dict) else {}


def _properties(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    properties = schema.get("properties") if _type(schema) == "object" else None
    return properties if isinstance(properties, dict) else {}


def _type(schema: Any) -> str:
    return str(schema.get("type", "untyped value")) if isinstance(schema, dict) else "untyped value"


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"
