"""Json.FromValue, Json.Document, Binary.*, Text.FromBinary/ToBinary and TextEncoding.* of the M evaluator."""

from __future__ import annotations

import pytest
from powerquery.testing import m, m_error, m_raw


def json_text(value: str) -> str:
    return m(f"Text.FromBinary(Json.FromValue({value}))")


def test_json_from_value_matches_the_documented_example() -> None:
    assert json_text('[A = {1, true, "3"}, B = #date(2012, 3, 25)]') == '{"A":[1,true,"3"],"B":"2012-03-25"}'


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("null", "null"),
        ('"a""b"', '"a\\"b"'),
        ('"é #(lf)"', '"é \\n"'),
        ("1.5", "1.5"),
        ("4 / 2", "2"),
        ("#infinity", "null"),
        ("#nan", "null"),
        ("{}", "[]"),
        ("[]", "{}"),
        ('#table({"a", "b"}, {{1, "x"}, {2, null}})', '[{"a":1,"b":"x"},{"a":2,"b":null}]'),
        ("#datetime(2020, 1, 2, 3, 4, 5)", '"2020-01-02T03:04:05"'),
        ("#datetimezone(2020, 1, 2, 3, 4, 5, 1, 0)", '"2020-01-02T03:04:05+01:00"'),
        ("#time(1, 2, 3)", '"01:02:03"'),
        ("#binary({1, 2})", '"AQI="'),
        ('[#"x y" = {[z = false]}]', '{"x y":[{"z":false}]}'),
    ],
)
def test_json_from_value(value: str, expected: str) -> None:
    assert json_text(value) == expected


def test_json_from_value_refuses_functions_and_types_and_surfaces_errors() -> None:
    assert m_error("Json.FromValue(() => 1)").reason == "Expression.Error"
    assert m_error("Json.FromValue(type text)").reason == "Expression.Error"
    assert m_error('Json.FromValue([a = error "inside"])').message == "inside"


def test_json_from_value_encoding() -> None:
    assert m_raw('Json.FromValue("é", TextEncoding.Utf16)').data == '"é"'.encode("utf-16-le")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('"{""a"": [1, 2.5, null, true, ""x""]}"', {"a": [1, 2.5, None, True, "x"]}),
        ('Text.ToBinary("[1, {""b"": {}}]")', [1, {"b": {}}]),
        ('"  3 "', 3),
        ("#binary({239, 187, 191, 49})", 1),
    ],
)
def test_json_document(source: str, expected: object) -> None:
    assert m(f"Json.Document({source})") == expected


@pytest.mark.parametrize("text", ['""', '"{"', '"[1] x"', '"NaN"', '"{a: 1}"'])
def test_json_document_errors_are_data_format_errors(text: str) -> None:
    assert m_error(f"Json.Document({text})").reason == "DataFormat.Error"


def test_binary_buffer_and_length() -> None:
    assert m('Binary.Length(Binary.Buffer(Text.ToBinary("abc")))') == 3
    assert m("Binary.Buffer(null)") is None
    buffered = m_raw('Binary.Buffer(Text.ToBinary("x") meta [Response.Status = 200])')
    assert buffered.data == b"x" and buffered.meta is None


def test_text_from_and_to_binary() -> None:
    assert m('Text.FromBinary(Text.ToBinary("héllo"))') == "héllo"
    assert m('Text.FromBinary(Text.ToBinary("héllo", TextEncoding.Utf16), TextEncoding.Utf16)') == "héllo"
    assert m_raw('Text.ToBinary("a", TextEncoding.Utf8, true)').data == b"\xef\xbb\xbfa"
    assert m("Text.FromBinary(#binary({239, 187, 191, 97}))") == "a"
    assert m("Text.FromBinary(null)") is None
    assert m("TextEncoding.Utf8") == 65001
    assert m_raw('Text.ToBinary("a", TextEncoding.Ascii)').data == b"a"


def test_binary_text_and_list() -> None:
    assert m('Binary.ToText(Text.ToBinary("AB"))') == "QUI="
    assert m('Binary.ToList(Binary.FromText("QUI="))') == [65, 66]
    assert m_error('Binary.FromText("***")').reason == "DataFormat.Error"
