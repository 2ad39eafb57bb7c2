"""Value.*, Type.*, Error.Record, Function.InvokeAfter and the error reasons of the M evaluator."""

from __future__ import annotations

import time

import pytest
from powerquery.m.values import MFunction, MType
from powerquery.testing import m, m_error, m_raw, table


def test_error_record_as_documented() -> None:
    assert m('Error.Record("InvalidCondition", "An error has occurred", null)') == {
        "Reason": "InvalidCondition",
        "Message": "An error has occurred",
        "Detail": None,
    }
    assert m('Error.Record("DataSource.Error")')["Message"] is None


def test_error_record_with_parameters_formats_the_message() -> None:
    record = m('Error.Record("Custom", "row #{0}", null, {7})')
    assert record["Message"] == "row 7"
    assert record["Message.Format"] == "row #{0}"
    assert record["Message.Parameters"] == [7]
    ex = m_error('error Error.Record("Custom", "row #{0} of #{1}", [Row = 7], {7, 9})')
    assert (ex.reason, ex.message, ex.message_format) == ("Custom", "row 7 of 9", "row #{0} of #{1}")
    assert ex.detail is not None and ex.detail.get("Row") == 7


def test_data_source_and_expression_error_reasons() -> None:
    assert m_error('error Error.Record("DataSource.Error", "down")').reason == "DataSource.Error"
    assert m_error("Table.RowCount(1)").reason == "Expression.Error"
    assert (
        m_error("undefinedName").message
        == "The name 'undefinedName' wasn't recognized.  Make sure it's spelled correctly."
    )


def test_value_metadata_and_replace_metadata() -> None:
    assert m('Value.Metadata("text")') == {}
    assert m("Value.Metadata(Value.ReplaceMetadata({1} meta [a = 1], [b = 2]))") == {"b": 2}
    assert m("Value.Metadata(Value.RemoveMetadata({1} meta [a = 1]))") == {}


def test_value_type() -> None:
    assert m_raw("Value.Type(1)").kind == "number"
    assert m_raw('Value.Type("a")').kind == "text"
    assert m_raw("Value.Type(null)").kind == "null"
    assert m_raw("Value.Type(#date(2020, 1, 1))").kind == "date"
    assert m_raw("Value.Type((x as number) => x)").params[0][1].kind == "number"
    row = m_raw("Type.TableRow(Value.Type(#table(type table [a = number], {{1}})))")
    assert row.kind == "record" and list(row.fields or {}) == ["a"]


def test_value_replace_type_on_a_table_renames_and_types_its_columns() -> None:
    columns, rows = table('Value.ReplaceType(#table({"x", "y"}, {{1, "a"}}), type table [n = number, t = text])')
    assert (columns, rows) == (["n", "t"], [[1, "a"]])
    assert m_raw('Value.ReplaceType(#table({"x"}, {{1}}), type table [n = number])').types[0].kind == "number"
    assert m_error('Value.ReplaceType(#table({"x"}, {{1}}), type table [a = number, b = text])').reason == (
        "Expression.Error"
    )
    assert m_error("Value.ReplaceType(1, type text)").reason == "Expression.Error"


def test_value_replace_type_documents_a_function() -> None:
    f = m_raw(
        "Value.ReplaceType((a, optional b) => a, type function (a as (type number meta "
        '[Documentation.FieldCaption = "A"]), optional b as text) as number meta [Documentation.Name = "F"])'
    )
    assert isinstance(f, MFunction) and f(1) == 1
    assert f.ftype is not None and f.ftype.params is not None
    assert f.ftype.params[0][1].meta.get("Documentation.FieldCaption") == "A"
    assert (
        m_raw(
            "Value.Metadata(Value.Type(Value.ReplaceType((a) => a, type function (a as any) as any meta "
            '[Documentation.LongDescription = "long"])))'
        ).get("Documentation.LongDescription")
        == "long"
    )


def test_value_is_as_and_equals() -> None:
    assert m("Value.Is(1, type number)") is True
    assert m("Value.Is(null, type nullable number)") is True
    assert m("Value.As(1, type number)") == 1
    assert m_error('Value.As("1", type number)').reason == "Expression.Error"
    assert m("Value.Equals([a = {1}], [a = {1}])") is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Type.Is(type number, type any)", True),
        ("Type.Is(type number, type text)", False),
        ("Type.Is(type nullable number, type number)", False),
        ("Type.IsNullable(type any)", True),
        ("Type.IsNullable(Type.NonNullable(type nullable text))", False),
        ("Record.FieldNames(Type.RecordFields(type [a = number, optional b = text]))", ["a", "b"]),
        ("Type.RecordFields(type [a = number, optional b = text])[b][Optional]", True),
        ("Record.FieldNames(Type.FunctionParameters(type function (x as number, y as text) as any))", ["x", "y"]),
        ("Type.FunctionRequiredParameters(type function (x as number, optional y as text) as any)", 1),
        ("Type.Is(Type.FunctionReturn(type function () as text), type text)", True),
        ("Type.Is(Type.ListItem(type {text}), type text)", True),
        (
            "Record.FieldNames(Type.RecordFields(Type.ForRecord([a = [Type = type number, Optional = false]], false)))",
            ["a"],
        ),
    ],
)
def test_type_functions(text: str, expected: object) -> None:
    assert m(text) == expected


def test_int64_type_is_a_number_type_with_its_facet() -> None:
    t = m_raw("Int64.Type")
    assert isinstance(t, MType) and t.kind == "number" and t.facet == "Int64"
    assert m("Value.Is(1, Int64.Type)") is True


def test_function_invoke_after_really_waits_the_duration() -> None:
    started = time.monotonic()
    assert m("Function.InvokeAfter(() => 42, #duration(0, 0, 0, 0.3))") == 42
    assert time.monotonic() - started >= 0.3


def test_function_invoke() -> None:
    assert m("Function.Invoke((a, b) => a - b, {5, 2})") == 3
    assert m_error('Function.InvokeAfter(() => 1, "soon")').reason == "Expression.Error"
