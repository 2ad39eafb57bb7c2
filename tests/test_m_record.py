"""Record.* functions of the M evaluator, each to its learn.microsoft.com/powerquery-m page."""

from __future__ import annotations

import pytest
from powerquery.testing import m, m_error, table

R = '[CustomerID = 1, Name = "Bob", Phone = "123-4567"]'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f'Record.AddField({R}, "Address", "123 Main St.")',
            {"CustomerID": 1, "Name": "Bob", "Phone": "123-4567", "Address": "123 Main St."},
        ),
        ('Record.AddField([], "x", () => 1 + 1, true)[x]', 2),
        ("Record.Combine({[a = 1, b = 2], [b = 3], [c = 4]})", {"a": 1, "b": 3, "c": 4}),
        (f'Record.Field({R}, "Name")', "Bob"),
        (f"Record.FieldCount({R})", 3),
        (f"Record.FieldNames({R})", ["CustomerID", "Name", "Phone"]),
        (f'Record.FieldOrDefault({R}, "Phone")', "123-4567"),
        (f'Record.FieldOrDefault({R}, "Address", "none")', "none"),
        ('Record.FieldOrDefault(null, "a", 1)', 1),
        (f"Record.FieldValues({R})", [1, "Bob", "123-4567"]),
        (f'Record.HasFields({R}, "Name")', True),
        (f'Record.HasFields({R}, {{"Name", "Address"}})', False),
        ('Record.FromList({1, "Bob"}, {"CustomerID", "Name"})', {"CustomerID": 1, "Name": "Bob"}),
        ("Record.FromList({1}, type [CustomerID = number])", {"CustomerID": 1}),
        (f'Record.RemoveFields({R}, "Phone")', {"CustomerID": 1, "Name": "Bob"}),
        (f'Record.RemoveFields({R}, {{"Phone", "Zip"}}, MissingField.Ignore)', {"CustomerID": 1, "Name": "Bob"}),
        (f'Record.SelectFields({R}, {{"Name", "CustomerID"}})', {"Name": "Bob", "CustomerID": 1}),
        (f'Record.SelectFields({R}, {{"Zip"}}, MissingField.UseNull)', {"Zip": None}),
        (
            f'Record.TransformFields({R}, {{"CustomerID", Text.From}})',
            {"CustomerID": "1", "Name": "Bob", "Phone": "123-4567"},
        ),
        (
            f'Record.TransformFields({R}, {{{{"CustomerID", Text.From}}, {{"Name", Text.Upper}}}})',
            {"CustomerID": "1", "Name": "BOB", "Phone": "123-4567"},
        ),
        ('Record.RenameFields([a = 1], {"a", "b"})', {"b": 1}),
        ('Record.FromTable(#table({"Name", "Value"}, {{"a", 1}}))', {"a": 1}),
    ],
)
def test_record_functions(text: str, expected: object) -> None:
    assert m(text) == expected


def test_record_to_table() -> None:
    assert table(f"Record.ToTable({R})") == (
        ["Name", "Value"],
        [["CustomerID", 1], ["Name", "Bob"], ["Phone", "123-4567"]],
    )


def test_record_functions_keep_fields_lazy() -> None:
    assert m('Record.FieldCount([a = error "unread"])') == 1
    assert m('Record.RemoveFields([a = error "unread", b = 2], "a")') == {"b": 2}
    assert m('Record.Field(Record.Combine({[a = error "x"], [a = 1]}), "a")') == 1


@pytest.mark.parametrize(
    "text",
    [
        f'Record.AddField({R}, "Name", 1)',
        f'Record.Field({R}, "Zip")',
        f'Record.RemoveFields({R}, "Zip")',
        f'Record.SelectFields({R}, "Zip")',
        f'Record.TransformFields({R}, {{"Zip", Text.From}})',
        'Record.FromList({1, 2}, {"a"})',
        "Record.FieldNames({1})",
    ],
)
def test_record_errors(text: str) -> None:
    assert m_error(text).reason == "Expression.Error"
