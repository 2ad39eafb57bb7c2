"""How `run()` is called: one parser per kind of score script, turning a request into `run()`'s arguments.

The three kinds and their error messages are azmlinfsrv 1.5.1's, so clients see the same 400/415 answers.
"""

from __future__ import annotations

import inspect
import json
from typing import Any, Protocol

import azure.functions as func

from adapter.errors import HttpError
from adapter.http.methods import INPUT_METHODS
from adapter.script import request_conversion


class InputError(HttpError):
    """The request cannot become `run()` arguments (400)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(status, message)


class UnsupportedInput(InputError):
    def __init__(self, message: str) -> None:
        super().__init__(message, 415)


class InputParser(Protocol):
    #: The methods it takes input from; None: any (the whole request goes to `run()`).
    methods: tuple[str, ...] | None

    def __call__(self, req: func.HttpRequest) -> dict[str, Any]: ...


class RawRequestInput:
    """`@rawhttp`: the whole request, for any method, as an `AMLRequest`."""

    methods: tuple[str, ...] | None = None

    def __init__(self, parameter: str) -> None:
        self.parameter = parameter

    def __call__(self, req: func.HttpRequest) -> dict[str, Any]:
        return {self.parameter: request_conversion.aml_request(req)}


class _ByMethod:
    """Input from a POST body or from a GET query (the service passes no other method to these scripts)."""

    methods: tuple[str, ...] | None = INPUT_METHODS

    def __call__(self, req: func.HttpRequest) -> dict[str, Any]:
        if req.method == "POST":
            return self.from_body(req)
        return self.from_query(query_values(req))

    def from_body(self, req: func.HttpRequest) -> dict[str, Any]:
        raise NotImplementedError

    def from_query(self, values: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError


class JsonStringInput(_ByMethod):
    """Undecorated `run(data)`: the body as text; for GET, the query as a JSON document."""

    def __init__(self, parameter: str) -> None:
        self.parameter = parameter

    def from_body(self, req: func.HttpRequest) -> dict[str, Any]:
        try:
            return {self.parameter: str(request_conversion.flask_data(req), "utf-8")}
        except UnicodeDecodeError as ex:
            raise InputError(f"Input cannot be decoded as UTF-8: {ex}") from None

    def from_query(self, values: dict[str, Any]) -> dict[str, Any]:
        return {self.parameter: json.dumps(values)}


class ObjectInput(_ByMethod):
    """`@input_schema`: each parameter from a JSON object body (or the query), else its default."""

    def __init__(self, parameters: list[inspect.Parameter]) -> None:
        self.parameters = parameters

    def from_body(self, req: func.HttpRequest) -> dict[str, Any]:
        if not request_conversion.is_json(req):
            raise UnsupportedInput("Expects Content-Type to be application/json")
        body = req.get_body()
        try:
            document = json.loads(body)
        except json.JSONDecodeError as ex:
            if body:
                raise InputError(f"POST body could not be decoded as JSON: {ex}") from None
            raise InputError("POST body is empty. Expecting a JSON dictionary.") from None
        # azmlinfsrv answers these two with a 500, as if the server had failed; they are the client's to fix.
        except UnicodeDecodeError as ex:
            raise InputError(f"POST body could not be decoded as JSON: it is not UTF-8 ({ex.reason}).") from None
        except RecursionError:
            raise InputError("POST body could not be decoded as JSON: it is nested too deeply.") from None
        if not isinstance(document, dict):
            raise InputError("POST body should be a JSON dictionary.")
        return self._arguments(document)

    def from_query(self, values: dict[str, Any]) -> dict[str, Any]:
        return self._arguments(values)

    def _arguments(self, values: dict[str, Any]) -> dict[str, Any]:
        arguments = {}
        for parameter in self.parameters:
            value = values.get(parameter.name, parameter.default)
            if value is inspect.Parameter.empty:
                raise InputError(f"A value is not provided for the {parameter.name!r} parameter.")
            arguments[parameter.name] = value
        return arguments


def query_values(req: func.HttpRequest) -> dict[str, Any]:
    """Query parameters as JSON values (`?a=1&b=x` -> `{"a": 1, "b": "x"}`); a repeated key becomes a list."""
    args = request_conversion.query_args(req)
    values: dict[str, Any] = {}
    for key in args:
        parsed = [_json_or_text(v) for v in args.getlist(key)]
        values[key] = parsed[0] if len(parsed) == 1 else parsed
    return values


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text
