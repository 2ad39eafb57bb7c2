"""The input parsers on their own, fed `func.HttpRequest` objects: the arguments `run()` gets, and the 400/415
errors with azmlinfsrv 1.5.1's exact messages (the same requests go through both servers in test_differential.py)."""

from __future__ import annotations

import inspect
import json
import math
from urllib.parse import urlencode

import azure.functions as func
import pytest
from targets import function_request

from adapter.azureml.aml_request import AMLRequest
from adapter.script.input_parsers import (
    InputError,
    JsonStringInput,
    ObjectInput,
    RawRequestInput,
    UnsupportedInput,
    query_values,
)

JSON = "application/json"


def request(
    method: str = "POST", body: bytes = b"", content_type: str | None = None, query: str = ""
) -> func.HttpRequest:
    headers = {"Content-Type": content_type} if content_type else {}
    return function_request(method, "/score" + (f"?{query}" if query else ""), headers, body)


def run_parameters(a: object, b: object = 5) -> None:
    """A decorated `run(a, b=5)`: one required parameter and one with a default."""


PARAMETERS = list(inspect.signature(run_parameters).parameters.values())


def error(parser: object, req: func.HttpRequest) -> InputError:
    with pytest.raises(InputError) as caught:
        parser(req)  # type: ignore[operator]
    return caught.value


# --- undecorated run(data): JsonStringInput -------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", [None, "text/plain", JSON, "application/octet-stream", "image/png"])
def test_undecorated_post_gets_the_body_as_text_whatever_the_content_type(content_type: str | None) -> None:
    body = '{"x": "héllo ✓"}'.encode()
    assert JsonStringInput("data")(request(body=body, content_type=content_type)) == {"data": '{"x": "héllo ✓"}'}


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "multipart/form-data; boundary=b"])
def test_undecorated_post_of_a_form_gets_empty_text_as_flask_data_is_empty(content_type: str) -> None:
    assert JsonStringInput("data")(request(body=b"a=1&b=2", content_type=content_type)) == {"data": ""}


def test_undecorated_post_that_is_not_utf8_is_a_400_naming_the_byte() -> None:
    failure = error(JsonStringInput("data"), request(body=b'{"x": "\xff"}', content_type=JSON))
    assert failure.status == 400
    assert str(failure) == (
        "Input cannot be decoded as UTF-8: 'utf-8' codec can't decode byte 0xff in position 7: invalid start byte"
    )


def test_undecorated_get_gets_the_query_as_a_json_document_in_query_order() -> None:
    query = urlencode([("a", "1"), ("b", "[1,2]"), ("c", "a"), ("d", "null"), ("foo", "bar1"), ("foo", "bar2")])
    parsed = JsonStringInput("data")(request("GET", query=query))
    assert parsed == {"data": '{"a": 1, "b": [1, 2], "c": "a", "d": null, "foo": ["bar1", "bar2"]}'}


def test_undecorated_get_without_a_query_gets_an_empty_object() -> None:
    assert JsonStringInput("data")(request("GET")) == {"data": "{}"}


# --- the query as JSON values (GET for both non-raw kinds) ------------------------------------------------------------


def test_query_values_decode_percent_escapes_and_plus_keep_blanks_and_case() -> None:
    req = request("GET", query="q=a+b&r=%7B%22k%22%3A+1%7D&empty=&A=1&a=2&t=true&f=1.5&s=%22quoted%22")
    assert query_values(req) == {
        "q": "a b",
        "r": {"k": 1},
        "empty": "",
        "A": 1,
        "a": 2,
        "t": True,
        "f": 1.5,
        "s": "quoted",
    }


def test_query_values_keep_every_repeated_value_in_order_even_when_params_collapses_them() -> None:
    req = request("GET", query="k=3&k=x&k=3")
    assert query_values(req) == {"k": [3, "x", 3]}


# --- @input_schema run(a, b=5): ObjectInput -------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", [JSON, "application/json; charset=utf-8", "application/vnd.api+json"])
def test_decorated_post_gets_each_parameter_from_the_object_and_defaults_for_the_rest(content_type: str) -> None:
    body = b'{"a": [1, 2], "unused": true}'
    assert ObjectInput(PARAMETERS)(request(body=body, content_type=content_type)) == {"a": [1, 2], "b": 5}


def test_decorated_post_value_overrides_the_default_and_nan_is_accepted() -> None:
    parsed = ObjectInput(PARAMETERS)(request(body=b'{"a": NaN, "b": null}', content_type=JSON))
    assert math.isnan(parsed["a"]) and parsed["b"] is None


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded", "text/json"])
def test_decorated_post_that_is_not_json_is_a_415(content_type: str | None) -> None:
    failure = error(ObjectInput(PARAMETERS), request(body=b'{"a": 1}', content_type=content_type))
    assert isinstance(failure, UnsupportedInput)
    assert (failure.status, str(failure)) == (415, "Expects Content-Type to be application/json")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            b"{not json",
            "POST body could not be decoded as JSON: "
            "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        ),
        (b"", "POST body is empty. Expecting a JSON dictionary."),
        (b"[1, 2]", "POST body should be a JSON dictionary."),
        (b'"a"', "POST body should be a JSON dictionary."),
        (b"null", "POST body should be a JSON dictionary."),
        (b'{"b": 1}', "A value is not provided for the 'a' parameter."),
    ],
    ids=["malformed", "empty", "list", "string", "null", "missing-parameter"],
)
def test_decorated_post_bad_bodies_are_400_with_azmlinfsrv_messages(body: bytes, message: str) -> None:
    failure = error(ObjectInput(PARAMETERS), request(body=body, content_type=JSON))
    assert not isinstance(failure, UnsupportedInput)
    assert (failure.status, str(failure)) == (400, message)


@pytest.mark.parametrize("body", [b'{"a": 1,}', b"{'a': 1}", b'{"a": 1} x', b"   "])
def test_decorated_post_malformed_json_message_carries_the_json_module_error_text(body: bytes) -> None:
    with pytest.raises(json.JSONDecodeError) as decoding:
        json.loads(body)
    failure = error(ObjectInput(PARAMETERS), request(body=body, content_type=JSON))
    assert (failure.status, str(failure)) == (400, f"POST body could not be decoded as JSON: {decoding.value}")


def test_decorated_get_takes_parameters_from_the_query_as_json_values() -> None:
    parsed = ObjectInput(PARAMETERS)(request("GET", query="a=%5B1%2C2%5D&b=x&other=1"))
    assert parsed == {"a": [1, 2], "b": "x"}


def test_decorated_get_without_a_required_parameter_is_a_400() -> None:
    failure = error(ObjectInput(PARAMETERS), request("GET", query="b=1"))
    assert (failure.status, str(failure)) == (400, "A value is not provided for the 'a' parameter.")


def test_decorated_get_ignores_the_body_and_its_content_type() -> None:
    req = request("GET", body=b"not json", content_type="text/plain", query="a=1")
    assert ObjectInput(PARAMETERS)(req) == {"a": 1, "b": 5}


# --- @rawhttp run(request): RawRequestInput -------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"])
def test_raw_gets_the_whole_request_for_any_method(method: str) -> None:
    req = function_request(
        method, "/score?x=1&x=2", {"Content-Type": "application/octet-stream", "X-Custom": "v"}, b"\x00\xffbytes"
    )
    parsed = RawRequestInput("req")(req)
    assert list(parsed) == ["req"]
    aml = parsed["req"]
    assert isinstance(aml, AMLRequest)
    assert aml.method == method
    assert aml.path == "/score"
    assert aml.args.getlist("x") == ["1", "2"]
    assert aml.headers["X-Custom"] == "v"
    assert aml.get_data() == b"\x00\xffbytes"


def test_raw_never_fails_on_a_body_the_other_parsers_refuse() -> None:
    aml = RawRequestInput("req")(request(body=b"\xff{not json", content_type=JSON))["req"]
    assert aml.get_data() == b"\xff{not json"
    assert aml.content_type == JSON
