"""The M evaluator's language: syntax, lazy evaluation, scoping, functions, errors, metadata, operators, types
(the Power Query M language specification)."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from powerquery.m.parser import parse
from powerquery.m.values import MError, MFunction, MTable, MType
from powerquery.testing import m, m_error, m_raw, table


def test_let_binds_names_in_any_order() -> None:
    assert m("let b = a * 2, a = 3 in b + a") == 9


def test_let_bindings_are_lazy_so_an_unused_error_never_surfaces() -> None:
    assert m('let bad = error "never read", good = 1 in good') == 1


def test_record_fields_are_lazy_and_see_each_other() -> None:
    assert m('[a = 1, b = error "unused", c = a + 1][c]') == 2
    assert m_error('[a = 1, b = error "read"][b]').message == "read"


def test_an_error_in_a_binding_surfaces_each_time_it_is_read() -> None:
    assert m('let x = error "boom" in try x otherwise try x otherwise 7') == 7


def test_a_binding_does_not_see_itself_but_at_sign_does() -> None:
    assert m("let x = 1, f = let x = x + 1 in x in f") == 2
    assert m("let fact = (n) => if n <= 1 then 1 else n * @fact(n - 1) in fact(5)") == 120
    assert m_error("let f = (n) => if n = 0 then 0 else f(n - 1) in f(3)").message.startswith("The name 'f'")


def test_a_cyclic_reference_is_an_error() -> None:
    assert m_error("let a = b, b = a in a").message == "A cyclic reference was encountered during evaluation."


def test_each_binds_underscore_and_bare_field_access_reads_it() -> None:
    assert m("List.Transform({1, 2}, each _ * 10)") == [10, 20]
    assert m("List.Transform({[x = 1], [x = 2]}, each [x] + 1)") == [2, 3]
    assert m("(each [[a], [c]])([a = 1, b = 2, c = 3])") == {"a": 1, "c": 3}


def test_functions_with_optional_and_typed_parameters() -> None:
    f = "(a as number, optional b as nullable number) as number => a + (if b = null then 10 else b)"
    assert m(f"({f})(1)") == 11
    assert m(f"({f})(1, 2)") == 3
    assert m_error(f'({f})("x")').message == 'We cannot convert the value "x" to type Number.'
    assert "arguments were passed" in m_error(f"({f})()").message
    assert "arguments were passed" in m_error(f"({f})(1, 2, 3)").message
    assert m_error("((x) as text => x)(1)").message == "We cannot convert the value 1 to type Text."


def test_a_function_literal_and_a_parenthesized_expression_are_told_apart() -> None:
    assert m("(1 + 2) * 3") == 9
    assert m("(() => 5)()") == 5
    assert m("let f = (x, y) => x - y in f(5, 3)") == 2


def test_field_and_item_access_with_and_without_question_mark() -> None:
    assert m("[a = 1][b]?") is None
    assert m_error("[a = 1][b]").message == "The field 'b' of the record wasn't found."
    assert m("{1, 2, 3}{1}") == 2
    assert m("{1}{5}?") is None
    expected = "There weren't enough elements in the enumeration to complete the operation."
    assert m_error("{1}{5}").message == expected
    assert m('#table({"k", "v"}, {{1, "a"}, {2, "b"}}){1}') == {"k": 2, "v": "b"}
    assert m('#table({"k", "v"}, {{1, "a"}, {2, "b"}}){[k = 2]}[v]') == "b"
    assert m('#table({"k"}, {{1}})[k]') == [1]


def test_quoted_identifiers_and_generalized_field_names() -> None:
    assert m('let #"my value" = 2 in #"my value" * 2') == 4
    assert m('[#"x-functions-key" = "k"][#"x-functions-key"]') == "k"
    assert m("[Response.Status = 200][Response.Status]") == 200
    assert m('[#"a ""quoted"" name" = 1]') == {'a "quoted" name': 1}


def test_text_literals_escapes_and_comments() -> None:
    assert m('"a""b"') == 'a"b'
    assert m('"#(cr)#(lf)#(tab)#(#)(#(0041)"') == "\r\n\t#(A"
    assert m("1 // a comment\n + /* another */ 2") == 3


def test_number_literals() -> None:
    assert m("0xff") == 255
    assert m("1.5e3") == 1500
    assert m(".5") == 0.5
    assert math.isinf(m("#infinity")) and math.isnan(m("#nan"))


def test_try_gives_the_error_record_and_otherwise_a_fallback() -> None:
    assert m("try 1") == {"HasError": False, "Value": 1}
    caught = m('try error Error.Record("DataSource.Error", "down", [Url = "u"])')
    assert caught["HasError"] is True
    assert caught["Error"]["Reason"] == "DataSource.Error"
    assert caught["Error"]["Message"] == "down"
    assert caught["Error"]["Detail"] == {"Url": "u"}
    assert m('try error "x" otherwise 0') == 0
    assert m('try error "x" catch (e) => e[Message] & "!"') == "x!"
    assert m('try error "x" catch () => 1') == 1


def test_error_with_a_text_is_an_expression_error() -> None:
    ex = m_error('error "plain"')
    assert (ex.reason, ex.message) == ("Expression.Error", "plain")


def test_error_with_a_record_and_a_message_format() -> None:
    ex = m_error('error [Reason = "Custom", Message.Format = "row #{0} of #{1}", Message.Parameters = {3, 10}]')
    assert (ex.reason, ex.message, ex.message_format) == ("Custom", "row 3 of 10", "row #{0} of #{1}")
    assert m_error('error [Message = "no reason"]').reason == "Expression.Error"


def test_metadata() -> None:
    assert m("Value.Metadata({1} meta [a = 1] meta [b = 2])") == {"a": 1, "b": 2}
    assert m("Value.Metadata({1})") == {}
    assert m('Value.Metadata(type text meta [Documentation.FieldCaption = "x"])') == {"Documentation.FieldCaption": "x"}
    assert m("({1, 2} meta [a = 1]){1}") == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("7 / 2", 3.5),
        ("6 / 3", 2),
        ("1 / 0", math.inf),
        ("-(2 - 5)", 3),
        ("null + 1", None),
        ("1 * null", None),
        ('"a" & "b"', "ab"),
        ('"a" & null', None),
        ("{1} & {2, 3}", [1, 2, 3]),
        ("[a = 1, b = 2] & [b = 3, c = 4]", {"a": 1, "b": 3, "c": 4}),
        ("1 = 1.0", True),
        ('1 = "1"', False),
        ("true = 1", False),
        ("null = null", True),
        ("null <> 1", True),
        ("[a = 1, b = {2}] = [b = {2}, a = 1]", True),
        ("{1, 2} = {2, 1}", False),
        ("1 < 2", True),
        ('"a" < "b"', True),
        ("null < 1", None),
        ("true and false", False),
        ("false and error 1", False),
        ("true or error 1", True),
        ("null and false", False),
        ("null and true", None),
        ("null or true", True),
        ("not true", False),
        ("not null", None),
        ("null ?? 5", 5),
        ("3 ?? error 1", 3),
        ("1 is number", True),
        ("true is number", False),
        ("null is nullable text", True),
        ("null is text", False),
        ("null is null", True),
        ("[a = 1] is record", True),
        ('#table({"a"}, {}) is table', True),
        ("1 as number", 1),
        ("#date(2024, 1, 31) + #duration(1, 0, 0, 0)", dt.date(2024, 2, 1)),
        ("#datetime(2024, 1, 1, 0, 0, 0) - #datetime(2023, 12, 31, 12, 0, 0)", dt.timedelta(hours=12)),
        ("#duration(0, 1, 0, 0) * 2", dt.timedelta(hours=2)),
        ("#date(2024, 1, 2) & #time(3, 4, 5)", dt.datetime(2024, 1, 2, 3, 4, 5)),
    ],
)
def test_operators(text: str, expected: object) -> None:
    assert m(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('1 + "a"', "We cannot apply operator + to types Number and Text."),
        ('"a" & 1', "We cannot apply operator & to types Text and Number."),
        ('1 < "a"', "We cannot apply operator < to types Number and Text."),
        ("1 and true", "We cannot apply operator and to types Number and Logical."),
        ("not 1", "We cannot apply operator not to type Number."),
        ('"x" as number', 'We cannot convert the value "x" to type Number.'),
        ("if 1 then 2 else 3", "We cannot convert the value 1 to type Logical."),
        ("if null then 2 else 3", "We cannot convert the value null to type Logical."),
    ],
)
def test_operator_errors(text: str, message: str) -> None:
    ex = m_error(text)
    assert (ex.reason, ex.message) == ("Expression.Error", message)


def test_date_and_time_literals() -> None:
    assert m("#date(2024, 2, 29)") == dt.date(2024, 2, 29)
    assert m("#datetime(2024, 1, 2, 3, 4, 5.5)") == dt.datetime(2024, 1, 2, 3, 4, 5, 500000)
    zoned = m("#datetimezone(2024, 1, 2, 3, 4, 5, -5, -30)")
    assert zoned.utcoffset() == -dt.timedelta(hours=5, minutes=30)
    assert m("#time(23, 59, 59)") == dt.time(23, 59, 59)
    assert m("#duration(1, 2, 3, 4)") == dt.timedelta(days=1, hours=2, minutes=3, seconds=4)
    assert m_error("#date(2023, 2, 29)").reason == "Expression.Error"


def test_binary_and_table_literals() -> None:
    assert m_raw("#binary({65, 66})").data == b"AB"
    assert m_raw('#binary("QUI=")').data == b"AB"
    assert table('#table({"a", "b"}, {{1, "x"}, {2, "y"}})') == (["a", "b"], [[1, "x"], [2, "y"]])
    columns, rows = table('#table(type table [n = number, t = text], {{1, "x"}})')
    assert (columns, rows) == (["n", "t"], [[1, "x"]])
    assert m_error('#table({"a"}, {{1, 2}})').reason == "Expression.Error"


def test_types_tables_records_nullable_and_facets() -> None:
    t = m_raw("type table [a = number, b = nullable text]")
    assert isinstance(t, MType) and t.kind == "table"
    assert [(n, ft.kind, ft.nullable) for n, (ft, _) in (t.fields or {}).items()] == [
        ("a", "number", False),
        ("b", "text", True),
    ]
    assert m_raw("Int64.Type").facet == "Int64"
    assert m("Type.Is(type nullable text, type text)") is False
    assert m("Type.IsNullable(type nullable number)") is True
    assert m_raw("type {number}").item.kind == "number"
    assert m("Type.FunctionRequiredParameters(type function (a as number, optional b as text) as any)") == 1
    opened = m_raw("type [a = number, ...]")
    assert opened.open and list(opened.fields or {}) == ["a"]


def test_value_type_of_a_table_keeps_its_column_types() -> None:
    t = m_raw('Value.Type(Table.AddColumn(#table({"a"}, {{1}}), "b", each 1, Int64.Type))')
    assert [(n, ft.kind) for n, (ft, _) in (t.fields or {}).items()] == [("a", "any"), ("b", "number")]


def test_value_replace_type_on_a_function_documents_it_and_keeps_it_callable() -> None:
    f = m_raw(
        "Value.ReplaceType((x, optional y) => x, type function (x as number, optional y as text) as number "
        'meta [Documentation.Name = "F"])'
    )
    assert isinstance(f, MFunction)
    assert f(4) == 4
    assert f.meta is not None and f.meta.get("Documentation.Name") == "F"
    assert m_error("Value.ReplaceType((x) => x, type function (x as any, y as any) as any)").reason == (
        "Expression.Error"
    )


def test_an_erroring_cell_is_an_error_value_in_the_table_not_a_failed_table() -> None:
    columns, rows = table(
        'Table.AddColumn(#table({"a"}, {{1}, {0}, {2}}), "inv", each if [a] = 0 then error '
        'Error.Record("DataSource.Error", "zero") else 1 / [a])'
    )
    assert columns == ["a", "inv"]
    assert rows[0] == [1, 1] and rows[2] == [2, 0.5]
    assert isinstance(rows[1][1], MError) and rows[1][1].reason == "DataSource.Error"
    assert m('Table.AddColumn(#table({"a"}, {{0}}), "e", each error "x"){0}[a]') == 0
    assert m_error('Table.AddColumn(#table({"a"}, {{0}}), "e", each error "x"){0}[e]').message == "x"


def test_a_syntax_error_names_its_position() -> None:
    ex = m_error("let a = 1 in")
    assert ex.reason == "Expression.SyntaxError" and ex.message.startswith("1:13:")
    assert m_error("[a = 1, a = 2]").message == "The field 'a' already exists in the record."


def test_the_parser_reads_a_whole_document() -> None:
    assert parse("let\n    // comment\n    a = 1\nin\n    a") is not None
    assert isinstance(m_raw("Table.FromRecords({[a = 1]})"), MTable)


def test_shared_lists_the_library() -> None:
    assert "Table.AddColumn" in m_raw("#shared").fields
