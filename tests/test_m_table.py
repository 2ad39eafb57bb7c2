"""Table.* functions of the M evaluator, each to its learn.microsoft.com/powerquery-m page."""

from __future__ import annotations

from powerquery.m.values import MError
from powerquery.testing import m, m_error, m_raw, table

T = '#table({"a", "b"}, {{1, "x"}, {2, "y"}, {3, "z"}})'
ERRS = f'Table.AddColumn({T}, "e", each if [a] = 2 then error "bad row" else [a] * 10)'


def test_table_buffer_copies_the_rows_and_keeps_error_cells() -> None:
    assert table(f"Table.Buffer({T})") == table(T)
    buffered = m_raw(f"Table.Buffer({ERRS})")
    assert isinstance(buffered.rows[1][2], MError)
    assert m_raw(f"Table.Buffer({T})").rows is not m_raw(T).rows


def test_table_split_in_pages() -> None:
    pages = m_raw(f"Table.Split({T}, 2)")
    assert [p.rows for p in pages.values()] == [[[1, "x"], [2, "y"]], [[3, "z"]]]
    assert m('List.Count(Table.Split(#table({"a"}, {}), 2))') == 0
    assert m_error(f"Table.Split({T}, 0)").reason == "Expression.Error"


def test_table_add_index_column() -> None:
    assert table(f'Table.AddIndexColumn({T}, "i")')[1] == [[1, "x", 0], [2, "y", 1], [3, "z", 2]]
    assert table(f'Table.AddIndexColumn({T}, "i", 10, 5, Int64.Type)')[1][2] == [3, "z", 20]
    assert m_error(f'Table.AddIndexColumn({T}, "a")').message == "The field 'a' already exists in the record."


def test_table_add_column() -> None:
    columns, rows = table(f'Table.AddColumn({T}, "c", each Text.From([a]) & [b], type text)')
    assert columns == ["a", "b", "c"]
    assert [r[2] for r in rows] == ["1x", "2y", "3z"]
    assert m_raw(f'Table.AddColumn({T}, "c", each 1, type text)').types[2].kind == "text"


def test_table_column_names() -> None:
    assert m(f"Table.ColumnNames({T})") == ["a", "b"]


def test_table_expand_record_column() -> None:
    src = '#table({"k", "r"}, {{1, [x = 1, y = 2]}, {2, null}, {3, [x = 3]}})'
    columns, rows = table(f'Table.ExpandRecordColumn({src}, "r", {{"x", "y"}}, {{"r.x", "r.y"}})')
    assert columns == ["k", "r.x", "r.y"]
    assert rows == [[1, 1, 2], [2, None, None], [3, 3, None]]
    columns, rows = table(f'Table.ExpandRecordColumn({ERRS}, "e", {{"x"}})')
    assert isinstance(rows[1][2], MError) and rows[1][2].message == "bad row"
    assert isinstance(rows[0][2], MError)  # 10 is not a record


def test_table_from_records() -> None:
    assert table('Table.FromRecords({[a = 1, b = "x"], [a = 2, b = "y"]})') == (["a", "b"], [[1, "x"], [2, "y"]])
    assert table('Table.FromRecords({[a = 1]}, {"a", "b"}, MissingField.UseNull)') == (["a", "b"], [[1, None]])
    assert m_error("Table.FromRecords({[a = 1], [b = 2]})").reason == "Expression.Error"
    columns, rows = table('Table.FromRecords({[a = 1, b = error "lazy"]})')
    assert rows[0][0] == 1 and isinstance(rows[0][1], MError)


def test_table_from_columns() -> None:
    assert table('Table.FromColumns({{1, 2}, {"x", "y"}})') == (["Column1", "Column2"], [[1, "x"], [2, "y"]])
    assert table('Table.FromColumns({{1, 2}, {"x"}}, {"n", "t"})') == (["n", "t"], [[1, "x"], [2, None]])


def test_table_from_rows() -> None:
    assert table('Table.FromRows({{1, "x"}, {2, "y"}}, {"n", "t"})') == (["n", "t"], [[1, "x"], [2, "y"]])
    assert table("Table.FromRows({{1}})")[0] == ["Column1"]
    assert table("Table.FromRows({{1}}, type table [n = number])")[0] == ["n"]
    assert m_error('Table.FromRows({{1, 2}}, {"n"})').reason == "Expression.Error"


def test_table_to_records_and_rows() -> None:
    assert m(f"Table.ToRecords({T})") == [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}, {"a": 3, "b": "z"}]
    assert m(f"Table.ToRows({T})") == [[1, "x"], [2, "y"], [3, "z"]]


def test_table_row_count_and_is_empty() -> None:
    assert m(f"Table.RowCount({T})") == 3
    assert m(f"Table.IsEmpty({T})") is False
    assert m('Table.IsEmpty(#table({"a"}, {}))') is True


def test_table_remove_columns() -> None:
    assert table(f'Table.RemoveColumns({T}, "a")') == (["b"], [["x"], ["y"], ["z"]])
    assert m_error(f'Table.RemoveColumns({T}, {{"q"}})').message == "The column 'q' of the table wasn't found."
    assert table(f'Table.RemoveColumns({T}, {{"q"}}, MissingField.Ignore)') == table(T)


def test_table_select_columns() -> None:
    assert table(f'Table.SelectColumns({T}, {{"b", "a"}})')[0] == ["b", "a"]
    assert table(f'Table.SelectColumns({T}, {{"a", "q"}}, MissingField.UseNull)')[1][0] == [1, None]
    assert table(f'Table.SelectColumns({T}, {{"a", "q"}}, MissingField.Ignore)')[0] == ["a"]
    assert m_error(f'Table.SelectColumns({T}, {{"q"}})').reason == "Expression.Error"


def test_table_rename_columns() -> None:
    assert table(f'Table.RenameColumns({T}, {{"a", "A"}})')[0] == ["A", "b"]
    assert table(f'Table.RenameColumns({T}, {{{{"a", "A"}}, {{"b", "B"}}}})')[0] == ["A", "B"]
    assert m_error(f'Table.RenameColumns({T}, {{"q", "Q"}})').reason == "Expression.Error"


def test_table_transform_column_types() -> None:
    src = '#table({"n", "t", "l"}, {{"1.5", 2, "true"}, {"x", 3.7, "false"}})'
    columns, rows = table(
        f'Table.TransformColumnTypes({src}, {{{{"n", type number}}, {{"t", Int64.Type}}, {{"l", type logical}}}})'
    )
    assert rows[0] == [1.5, 2, True]
    assert isinstance(rows[1][0], MError) and rows[1][1:] == [4, False]
    typed = m_raw(f'Table.TransformColumnTypes({src}, {{"t", type text}})')
    assert typed.rows[0][1] == "2" and typed.types[1].kind == "text"


def test_table_combine() -> None:
    combined = table('Table.Combine({#table({"a"}, {{1}}), #table({"a", "b"}, {{2, "x"}})})')
    assert combined == (["a", "b"], [[1, None], [2, "x"]])
    assert table('#table({"a"}, {{1}}) & #table({"a"}, {{2}})')[1] == [[1], [2]]


def test_table_range_first_n_skip() -> None:
    assert table(f"Table.Range({T}, 1, 1)")[1] == [[2, "y"]]
    assert table(f"Table.Range({T}, 1)")[1] == [[2, "y"], [3, "z"]]
    assert table(f"Table.FirstN({T}, 2)")[1] == [[1, "x"], [2, "y"]]
    assert table(f"Table.FirstN({T}, each [a] < 2)")[1] == [[1, "x"]]
    assert table(f"Table.Skip({T})")[1] == [[2, "y"], [3, "z"]]
    assert table(f"Table.Skip({T}, 2)")[1] == [[3, "z"]]
    assert table(f"Table.Skip({T}, each [a] < 3)")[1] == [[3, "z"]]


def test_table_join_and_nested_join() -> None:
    left = '#table({"k", "l"}, {{1, "a"}, {2, "b"}, {3, "c"}})'
    right = '#table({"rk", "r"}, {{1, "x"}, {3, "y"}, {3, "z"}, {4, "w"}})'
    assert table(f'Table.Join({left}, "k", {right}, "rk")')[1] == [
        [1, "a", 1, "x"],
        [3, "c", 3, "y"],
        [3, "c", 3, "z"],
    ]
    assert table(f'Table.Join({left}, "k", {right}, "rk", JoinKind.LeftOuter)')[1][1] == [2, "b", None, None]
    assert len(table(f'Table.Join({left}, "k", {right}, "rk", JoinKind.FullOuter)')[1]) == 5
    assert table(f'Table.Join({left}, "k", {right}, "rk", JoinKind.LeftAnti)')[1] == [[2, "b", None, None]]
    nested = m_raw(f'Table.NestedJoin({left}, {{"k"}}, {right}, {{"rk"}}, "m")')
    assert nested.columns == ["k", "l", "m"]
    assert [len(r[2].rows) for r in nested.rows] == [1, 0, 2]
    assert m_error(f'Table.Join({left}, "k", {left}, "k")').reason == "Expression.Error"


def test_table_select_rows() -> None:
    assert table(f"Table.SelectRows({T}, each [a] <> 2)")[1] == [[1, "x"], [3, "z"]]
    assert m_error(f"Table.SelectRows({T}, each null)").reason == "Expression.Error"


def test_table_transform_columns() -> None:
    assert table(f'Table.TransformColumns({T}, {{"a", each _ * 2}})')[1][2] == [6, "z"]
    columns, rows = table(f'Table.TransformColumns({T}, {{{{"a", each 1 / (_ - 2)}}, {{"b", Text.Upper}}}})')
    assert rows[0] == [-1, "X"] and rows[1][0] == float("inf")
    _, rows = table(f'Table.TransformColumns({T}, {{"a", each if _ = 1 then error "no" else _}})')
    assert isinstance(rows[0][0], MError)
    assert m_error(f'Table.TransformColumns({T}, {{"q", each _}})').reason == "Expression.Error"
    assert table(f'Table.TransformColumns({T}, {{"q", each _}}, null, MissingField.Ignore)') == table(T)


def test_table_replace_error_values() -> None:
    _, rows = table(f'Table.ReplaceErrorValues({ERRS}, {{"e", -1}})')
    assert [r[2] for r in rows] == [10, -1, 30]


def test_table_remove_rows_with_errors() -> None:
    assert table(f"Table.RemoveRowsWithErrors({ERRS})")[1] == [[1, "x", 10], [3, "z", 30]]
    assert len(table(f'Table.RemoveRowsWithErrors({ERRS}, {{"a"}})')[1]) == 3


def test_table_select_rows_with_errors() -> None:
    _, rows = table(f"Table.SelectRowsWithErrors({ERRS})")
    assert len(rows) == 1 and rows[0][:2] == [2, "y"] and isinstance(rows[0][2], MError)
    assert table(f'Table.SelectRowsWithErrors({ERRS}, {{"b"}})')[1] == []


def test_table_column_first_count_schema() -> None:
    assert m(f'Table.Column({T}, "b")') == ["x", "y", "z"]
    assert m(f"Table.First({T})") == {"a": 1, "b": "x"}
    assert m('Table.First(#table({"a"}, {}), "none")') == "none"
    assert m(f"Table.ColumnCount({T})") == 2
    assert table(f"Table.Schema({T})")[1][0][:2] == ["a", 0]


def test_ten_thousand_rows_through_the_generated_functions_steps_is_fast() -> None:
    """Not a timing assert: the shape of the generated function (buffer, split, records, join by position) on
    10,000 rows must finish at all in a unit test's time; bench/ measures it."""
    text = """let
        Source = Table.FromRows(List.Transform({0..9999}, each {_, Text.From(_)}), {"n", "t"}),
        Buffered = Table.Buffer(Source),
        Rows = List.Buffer(Table.ToRecords(Buffered)),
        Batches = List.Transform(List.Numbers(0, 10, 1000), each Json.FromValue(List.Range(Rows, _, 1000))),
        Results = List.Combine(List.Transform(Batches, each List.Transform(Json.Document(_), each [n] * 2))),
        Indexed = Table.AddIndexColumn(Buffered, "i", 0, 1, Int64.Type),
        Joined = Table.AddColumn(Indexed, "r", each Results{[i]})
    in Table.RemoveColumns(Joined, {"i"})"""
    columns, rows = table(text)
    assert columns == ["n", "t", "r"]
    assert rows[9999] == [9999, "9999", 19998]
