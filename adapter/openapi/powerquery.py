"""A Power Query (M) function that scores a Power BI table through `/score`, generated from the script's schema.

`python -m adapter powerquery` writes it; `generate()` gives the same text to the HTTP layer (`GET /powerquery.pq`).
The function takes a table, checks it has the columns the schema requires, sends only the schema's columns in
batches (`{"Inputs": {<table input>: [records]}, "GlobalParameters": {...}}`), retries a 503 from a cold instance
(and a 429) honouring `Retry-After`, turns an error answer's `{"message": ...}` into a readable Power Query error,
and returns the input table with the results appended (record results expanded into columns).

What the function needs to know (which input is the table, its columns, the default batch size...) is a `Plan`, so
a test can follow exactly the contract the M text follows. Only the script's import is needed: no `init()`.
"""

from __future__ import annotations

import json
import logging
import math
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from adapter.openapi import swagger
from adapter.settings import Settings

if TYPE_CHECKING:
    from adapter.script.entry_script import EntryScript

logger = logging.getLogger("adapter")

INPUTS, GLOBALS, RESULTS = "Inputs", "GlobalParameters", "Results"
#: Rows per request at most. A tabular model scores 1,000 rows in milliseconds; even one taking 100 ms a row
#: answers in 100 s, well inside the 230 s an HTTP-triggered function has to answer.
MAX_BATCH_ROWS = 1_000
#: Request body per batch at most (estimated from the schema): 25 times below the host's 100 MB body limit, so
#: long text columns still fit.
BATCH_BODY_BYTES = 4 * 2**20
#: Estimated JSON bytes of one value, by schema type; text is assumed long (free text, ids, dates as strings).
VALUE_BYTES = {"number": 24, "integer": 20, "boolean": 6, "string": 256}
OTHER_VALUE_BYTES = 1_024
#: Retries of a 503 (cold instance still running init()) or 429, each after `Retry-After` seconds when Power
#: Query shows that header, else 1, 2, 4... seconds: about four minutes in all, enough for a slow init().
MAX_RETRIES = 8
RETRIED_STATUSES = (429, 503)
#: Statuses the function reads itself (`ManualStatusHandling`) instead of Power Query's generic error. Not 401/403:
#: outside a custom connector Power Query keeps those for its credential prompt.
HANDLED_STATUSES = (400, 404, 405, 408, 413, 415, 422, 429, 431, 500, 502, 503, 504)
#: Answers that mean "too much at once": the error then suggests a smaller batch.
TOO_BIG_STATUSES = (408, 413, 502, 504)
#: Power Query's own request timeout is 100 s; the host answers (or gives up) within 230 s, so wait past that.
REQUEST_TIMEOUT_S = 240
#: JSON Schema types -> the Power Query type of a result column.
M_TYPES = {"number": "type number", "integer": "Int64.Type", "string": "type text", "boolean": "type logical"}

Auth = Literal["functions", "bearer"]


class PowerQueryError(Exception):
    """No Power Query function can be built for this script; the message (one line) says why."""


@dataclass(frozen=True)
class Column:
    name: str
    #: The JSON Schema type of its values ("number", "string"...; "" when the schema does not say).
    type: str
    required: bool


@dataclass(frozen=True)
class Plan:
    """Everything the generated function does, as data: the contract the M text (and a test client) follows."""

    title: str
    #: The name, inside `Inputs`, of the table the function sends.
    table_input: str
    #: The table's columns as the schema lists them; only these are sent. Empty: send every column.
    columns: tuple[Column, ...]
    #: `GlobalParameters` sent by default (the schema's example); None when run() takes none.
    global_parameters: Mapping[str, Any] | None
    #: The M type of a result when results are single values ("type any" when the schema does not say).
    result_type: str
    #: Fields of a record result, known from the schema (more are taken from the answers).
    result_fields: tuple[str, ...]
    batch_size: int
    #: How the key travels: `x-functions-key` (or `?code=` as a Web API credential), or `Authorization: Bearer`.
    auth: Auth
    #: The scoring URL written into the function (best for refresh in the Power BI service); None: a parameter.
    url: str | None
    #: An example scoring URL for the documentation (the app's real path, made-up host).
    example_url: str

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


def plan(settings: Settings, script: EntryScript, url: str | None = None, table: str | None = None) -> Plan:
    """What the function for this script does. `table` picks the table input when `Inputs` has several (the first
    one otherwise). Raises `PowerQueryError` with a one-line reason."""
    from inference_schema.schema_util import is_schema_decorated

    if url is not None:
        check_url(url)
    if script.raw:
        raise PowerQueryError(
            "run() is decorated with @rawhttp, so there is no schema to build a Power Query function from."
        )
    try:
        from_user = swagger.user_document(settings, "2") is not None
        document = swagger.build(settings, script, "2")
    except (swagger.SwaggerNotFound, swagger.UserSwaggerError) as ex:
        raise PowerQueryError(f"There is no Swagger 2.0 document to build the function from: {ex}") from None
    if not from_user and not is_schema_decorated(script.run):
        raise PowerQueryError(
            "run() is not decorated with inference-schema, so nothing says which table columns it takes; decorate "
            f'run(Inputs, GlobalParameters=None) with @input_schema("{INPUTS}", StandardPythonParameterType('
            '{"data": PandasParameterType(sample_frame)})).'
        )
    service_input = _resolve(document, _body_schema(document))
    properties = _properties(service_input)
    inputs = properties.get(INPUTS)
    if not isinstance(inputs, dict):
        takes = f" (it takes {', '.join(map(repr, properties))})" if properties else ""
        raise PowerQueryError(
            f"run() has no '{INPUTS}' parameter{takes}; Power BI sends its table inside '{INPUTS}', for example "
            f'@input_schema("{INPUTS}", StandardPythonParameterType({{"data": PandasParameterType(sample_frame)}})).'
        )
    tables = {name: schema for name, schema in _properties(inputs).items() if _is_table(schema)}
    if not tables:
        raise PowerQueryError(
            f"'{INPUTS}' holds no table (a list of records, such as PandasParameterType(sample_frame) in the default "
            f"'records' orient), so there is nothing to send a Power BI table as."
        )
    if table is None:
        table = next(iter(tables))
    elif table not in tables:
        raise PowerQueryError(
            f"'{INPUTS}' has no table named {table!r}; its tables are {', '.join(map(repr, tables))}."
        )
    describe = swagger.describe(settings)
    return Plan(
        title=settings.service_name,
        table_input=table,
        columns=_columns(tables[table]),
        global_parameters=_global_defaults(properties.get(GLOBALS), service_input),
        result_type=_result_type(document),
        result_fields=_result_fields(document),
        batch_size=default_batch_size(_columns(tables[table])),
        auth="bearer" if settings.scoring_keys else "functions",
        url=url,
        example_url=f"https://<app>.azurewebsites.net{describe.path_prefix}/score",
    )


def generate(settings: Settings, script: EntryScript, url: str | None = None, table: str | None = None) -> str:
    """The M text of the function for this script (imported, no `init()` needed): what `GET /powerquery.pq` serves.
    `url`, when given, is written in as the scoring URL; otherwise it is the function's `Url` parameter."""
    return render(plan(settings, script, url, table))


def default_batch_size(columns: tuple[Column, ...]) -> int:
    """Rows per request: at most `MAX_BATCH_ROWS`, and few enough that a batch stays near `BATCH_BODY_BYTES`."""
    row_bytes = 2 + sum(len(json.dumps(c.name)) + 2 + VALUE_BYTES.get(c.type, OTHER_VALUE_BYTES) for c in columns)
    if not columns:  # a free-form table: assume a wide one
        row_bytes = 64 * OTHER_VALUE_BYTES
    return max(1, min(MAX_BATCH_ROWS, BATCH_BODY_BYTES // row_bytes))


def check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(ord(c) < 32 or ord(c) == 127 for c in url):
        raise PowerQueryError(
            f"--url must be the scoring URL, like https://<app>.azurewebsites.net/score; got {url!r}."
        )


def _body_schema(document: Mapping[str, Any]) -> Any:
    for path, item in (document.get("paths") or {}).items():
        if str(path).rstrip("/").endswith("/score") and isinstance(item, dict) and isinstance(item.get("post"), dict):
            for parameter in item["post"].get("parameters") or []:
                if isinstance(parameter, dict) and parameter.get("in") == "body":
                    return parameter.get("schema")
    return None


def _ok_schema(document: Mapping[str, Any]) -> Mapping[str, Any]:
    for path, item in (document.get("paths") or {}).items():
        if str(path).rstrip("/").endswith("/score") and isinstance(item, dict) and isinstance(item.get("post"), dict):
            ok = (item["post"].get("responses") or {}).get("200")
            if isinstance(ok, dict):
                return _resolve(document, ok.get("schema"))
    return {}


def _resolve(document: Mapping[str, Any], schema: Any) -> Mapping[str, Any]:
    if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
        schema = (document.get("definitions") or {}).get(schema["$ref"].removeprefix("#/definitions/"))
    return schema if isinstance(schema, dict) else {}


def _properties(schema: Any) -> Mapping[str, Any]:
    properties = schema.get("properties") if isinstance(schema, dict) else None
    return properties if isinstance(properties, dict) else {}


def _is_table(schema: Any) -> bool:
    """A list of records: what `Table.ToRecords` gives and PandasParameterType's 'records' orient takes."""
    if not isinstance(schema, dict) or schema.get("type") != "array":
        return False
    items = schema.get("items")
    return isinstance(items, dict) and items.get("type") == "object"


def _columns(table: Mapping[str, Any]) -> tuple[Column, ...]:
    items = table.get("items") or {}
    required = set(items.get("required") or [])
    return tuple(
        Column(str(name), str(schema.get("type", "")) if isinstance(schema, dict) else "", name in required)
        for name, schema in _properties(items).items()
    )


def _global_defaults(schema: Any, service_input: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The schema's example `GlobalParameters` (what AML's own samples send), `{}` without one; None without the
    parameter."""
    if schema is None:
        return None
    example = service_input.get("example")
    value = example.get(GLOBALS) if isinstance(example, dict) else None
    if not isinstance(value, dict):
        value = schema.get("example") if isinstance(schema, dict) else None
    return dict(value) if isinstance(value, dict) else {}


def _results_items(document: Mapping[str, Any]) -> Mapping[str, Any]:
    results = _properties(_ok_schema(document)).get(RESULTS)
    items = results.get("items") if isinstance(results, dict) and results.get("type") == "array" else None
    return items if isinstance(items, dict) else {}


def _result_type(document: Mapping[str, Any]) -> str:
    return M_TYPES.get(str(_results_items(document).get("type", "")), "type any")


def _result_fields(document: Mapping[str, Any]) -> tuple[str, ...]:
    items = _results_items(document)
    return tuple(str(name) for name in _properties(items)) if items.get("type") == "object" else ()


# --- M text -------------------------------------------------------------------------------------------------------

_CONTROL_ESCAPES = {"\r": "#(cr)", "\n": "#(lf)", "\t": "#(tab)"}


def m_text(value: str) -> str:
    """A Power Query text literal: `"` doubled, `#(` escaped, control and line-breaking characters as escapes, so
    no name from a schema can end the literal or the line."""
    out = []
    for i, char in enumerate(value):
        if char == "#" and value.startswith("(", i + 1):
            out.append("#(#)")  # `#(` starts an escape: write the `#` itself as one
        elif char == '"':
            out.append('""')
        elif char in _CONTROL_ESCAPES:
            out.append(_CONTROL_ESCAPES[char])
        elif ord(char) < 32 or 127 <= ord(char) < 160 or char in "\u2028\u2029":
            out.append(f"#({ord(char):04X})")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def m_value(value: Any) -> str:
    """A JSON value as an M literal: records with quoted field names, lists, text, numbers, logicals, null."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else "null"
    if isinstance(value, str):
        return m_text(value)
    if isinstance(value, dict):
        return "[" + ", ".join(f"#{m_text(str(k))} = {m_value(v)}" for k, v in value.items()) + "]"
    if isinstance(value, (list, tuple)):
        return "{" + ", ".join(m_value(v) for v in value) + "}"
    return m_text(str(value))


def _m_list(values: tuple[str, ...] | list[str]) -> str:
    return "{" + ", ".join(m_text(v) for v in values) + "}"


def _comment(text: str) -> str:
    """Text safe inside a `//` comment: nothing that ends the line."""
    return re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", " ", text)


def render(p: Plan) -> str:
    if p.auth == "bearer":
        key_header = "Authorization: Bearer <key>"
        auth_options = (
            'if Key = null then error Error.Record("Expression.Error", "This service wants its key as "\n'
            "                    & \"'Authorization: Bearer <key>': pass it as the Key argument (with Anonymous \"\n"
            '                    & "credentials for the URL).")\n'
            '                else [Headers = JsonHeaders & [Authorization = "Bearer " & Key]]'
        )
        key_help = "The service's key (AML_SCORING_KEYS), sent as 'Authorization: Bearer <key>'."
    else:
        key_header = "x-functions-key, or as ?code= from a Web API credential when Key is left out"
        auth_options = (
            'if Key = null then [Headers = JsonHeaders, ApiKeyName = "code"]\n'
            '                else [Headers = JsonHeaders & [#"x-functions-key" = Key]]'
        )
        key_help = (
            "A function key, sent as x-functions-key. Leave it out to give the key as a Web API credential instead "
            "(sent as ?code=)."
        )
    if p.url is None:
        url_parameter = "Url as text, "
        url_type = (
            'Url as (type text meta [Documentation.FieldCaption = "Scoring URL",\n'
            f"            Documentation.SampleValues = {{{m_text(p.example_url)}}}]),\n        "
        )
        url_expression = "Url"
        call = f'ScoreTable(MyTable, "{p.example_url}", Key)'
    else:
        url_parameter = url_type = ""
        url_expression = m_text(p.url)  # a literal where Web.Contents is called, so the Power BI service can refresh
        call = "ScoreTable(MyTable, Key)"
    return _TEMPLATE.substitute(
        title_comment=_comment(p.title),
        call=_comment(call),
        key_header=_comment(key_header),
        title=m_text(p.title),
        table_input=m_text(p.table_input),
        columns=_m_list([c.name for c in p.columns]),
        required=_m_list(list(p.required_columns)),
        global_defaults=m_value(p.global_parameters) if p.global_parameters is not None else "null",
        batch_size=p.batch_size,
        result_type=p.result_type,
        result_fields=_m_list(list(p.result_fields)),
        max_retries=MAX_RETRIES,
        retried=m_value(list(RETRIED_STATUSES)),
        handled=m_value(list(HANDLED_STATUSES)),
        too_big=m_value(list(TOO_BIG_STATUSES)),
        timeout_s=REQUEST_TIMEOUT_S,
        url_parameter=url_parameter,
        url_type=url_type,
        url=url_expression,
        auth_options=auth_options,
        key_help=m_text(key_help),
    )


# `$name` placeholders (M itself never uses `$`). Column names a user could already have are made unique at run time.
_TEMPLATE = string.Template(
    """// ScoreTable: scores a table with the scoring service "$title_comment".
// Generated by `python -m adapter powerquery` from the scoring script's schema: regenerate it when the schema
// changes. Paste it into a blank query (Advanced Editor) and name the query ScoreTable; then call it as
//     $call
// The key travels as $key_header.
// See docs/powerbi.md.
let
    // --- From the schema --------------------------------------------------------------------------------------
    TableInput = $table_input,
    // The columns sent, in the schema's order; other columns stay in the table but are not sent.
    Columns = $columns,
    RequiredColumns = $required,
    // Sent as GlobalParameters (the schema's example); a GlobalParameters argument overrides fields of it.
    DefaultGlobalParameters = $global_defaults,
    ResultType = $result_type,
    ResultFields = $result_fields,
    // --- How rows are sent --------------------------------------------------------------------------------------
    // Rows per request: far below the host's 100 MB body limit and its 230 s answer limit.
    DefaultBatchSize = $batch_size,
    MaxRetries = $max_retries,
    RetriedStatuses = $retried,
    HandledStatuses = $handled,
    TooBigStatuses = $too_big,
    RequestTimeout = #duration(0, 0, 0, $timeout_s),
    JsonHeaders = [#"Content-Type" = "application/json", Accept = "application/json"],

    UniqueName = (name as text, taken as list) as text =>
        if List.Contains(taken, name) then @UniqueName(name & "_", taken) else name,

    RetryAfter = (headers as record) as nullable number =>
        let
            Names = List.Select(Record.FieldNames(headers), each Text.Lower(_) = "retry-after"),
            Seconds = if List.IsEmpty(Names) then null
                else try Number.FromText(Text.Trim(Text.From(Record.Field(headers, Names{0}))), "en-US") otherwise null
        in
            Seconds,

    // The answer's message ({"message": ...}) or the start of its text, as a Power Query error.
    Failed = (status as number, body as binary, first as number, last as number) =>
        let
            BodyText = try Text.FromBinary(body, TextEncoding.Utf8) otherwise "",
            Parsed = try Json.Document(body) otherwise null,
            Message = if Parsed is record and Record.HasFields(Parsed, "message") and Parsed[message] is text
                then Parsed[message]
                else if BodyText = "" then "(no message)" else Text.Start(BodyText, 2000),
            Hint = if List.Contains(TooBigStatuses, status) then " Try a smaller BatchSize." else ""
        in
            error Error.Record(
                "DataSource.Error",
                "The scoring service answered HTTP " & Text.From(status) & " for rows " & Text.From(first) & " to "
                    & Text.From(last) & ": " & Message & Hint,
                [Status = status, FirstRow = first, LastRow = last, Body = BodyText]
            ),

    // One result per row: Results is a list, or an object holding a single list.
    ResultsOf = (answer as any, rows as number, first as number, last as number) as list =>
        let
            Results = if answer is record and Record.HasFields(answer, "Results") then answer[Results] else null,
            Listed = if Results is list then Results
                else if Results is record and Record.FieldCount(Results) = 1 and Record.FieldValues(Results){0} is list
                then Record.FieldValues(Results){0}
                else error Error.Record("DataSource.Error", "The answer for rows " & Text.From(first) & " to "
                    & Text.From(last) & " has no Results list.", [Answer = answer])
        in
            if List.Count(Listed) = rows then Listed
            else error Error.Record("DataSource.Error", "The service returned " & Text.From(List.Count(Listed))
                & " results for the " & Text.From(rows) & " rows " & Text.From(first) & " to " & Text.From(last)
                & "; the function needs one result per row.", [Answer = answer]),

    ScoreTable = (Source as table, ${url_parameter}optional Key as nullable text,
            optional GlobalParameters as nullable record, optional BatchSize as nullable number) as table =>
        let
            Missing = List.Difference(RequiredColumns, Table.ColumnNames(Source)),
            Size = if BatchSize = null then DefaultBatchSize else BatchSize,
            Globals = if DefaultGlobalParameters = null then GlobalParameters
                else if GlobalParameters = null then DefaultGlobalParameters
                else Record.Combine({DefaultGlobalParameters, GlobalParameters}),
            Options = $auth_options,
            // POST one body; a 503 (cold instance) or 429 is retried after Retry-After seconds (else 1, 2, 4... s).
            Post = (body as binary, attempt as number) as record =>
                let
                    Response = Web.Contents($url, Options & [
                        Content = body,
                        ManualStatusHandling = HandledStatuses,
                        Timeout = RequestTimeout,
                        IsRetry = attempt > 0
                    ]),
                    Meta = Value.Metadata(Response),
                    Status = Meta[Response.Status],
                    Given = RetryAfter(Record.FieldOrDefault(Meta, "Headers", [])),
                    Pause = if Given = null then List.Min({Number.Power(2, attempt), 60})
                        else List.Min({List.Max({Given, 0.5}), 120})
                in
                    if List.Contains(RetriedStatuses, Status) and attempt < MaxRetries
                    then Function.InvokeAfter(() => @Post(body, attempt + 1), #duration(0, 0, 0, Pause))
                    else [Status = Status, Body = Response],
            Sent = if List.IsEmpty(Columns) then Source
                else Table.SelectColumns(Source, List.Intersect({Columns, Table.ColumnNames(Source)})),
            Batches = if Table.IsEmpty(Sent) then {} else Table.Split(Sent, Size),
            Score = (index as number) as list =>
                let
                    Batch = Batches{index},
                    First = index * Size + 1,
                    Rows = Table.RowCount(Batch),
                    Last = First + Rows - 1,
                    Inputs = Record.AddField([], TableInput, Table.ToRecords(Batch)),
                    Payload = if Globals = null then [Inputs = Inputs]
                        else [Inputs = Inputs, GlobalParameters = Globals],
                    Answer = Post(Json.FromValue(Payload), 0)
                in
                    if Answer[Status] >= 200 and Answer[Status] < 300
                    then ResultsOf(try Json.Document(Answer[Body]) otherwise null, Rows, First, Last)
                    else Failed(Answer[Status], Answer[Body], First, Last),
            AllResults = List.Buffer(List.Combine(List.Transform(List.Positions(Batches), Score))),
            Taken = Table.ColumnNames(Source),
            RowColumn = UniqueName("__row", Taken),
            ResultColumn = UniqueName("Results", Taken),
            IsRecords = List.AnyTrue(List.Transform(AllResults, each _ is record))
                and List.AllTrue(List.Transform(AllResults, each _ is record or _ = null)),
            Fields = List.Distinct(ResultFields & List.Combine(List.Transform(
                List.Select(AllResults, each _ is record), Record.FieldNames))),
            Indexed = Table.AddIndexColumn(Source, RowColumn, 0, 1, Int64.Type),
            WithResults = Table.AddColumn(Indexed, ResultColumn, each AllResults{Record.Field(_, RowColumn)},
                if IsRecords then type record else ResultType),
            Appended = Table.RemoveColumns(WithResults, {RowColumn}),
            Expanded = if IsRecords then Table.ExpandRecordColumn(Appended, ResultColumn, Fields,
                List.Transform(Fields, each if List.Contains(Taken, _) then UniqueName("Results." & _, Taken) else _))
                else Appended
        in
            if not List.IsEmpty(Missing) then error Error.Record("Expression.Error",
                "The table is missing the column(s) " & Text.Combine(Missing, ", ") & " that the model needs (it needs "
                    & Text.Combine(RequiredColumns, ", ") & "; names are case-sensitive).", [Missing = Missing])
            else if not (Size is number) or Size < 1 or Size <> Number.Round(Size) then error Error.Record(
                "Expression.Error", "BatchSize must be a whole number of rows, 1 or more.", [BatchSize = Size])
            else Expanded,

    Documented = type function (
        Source as (type table meta [Documentation.FieldCaption = "Table to score"]),
        ${url_type}optional Key as (type nullable text meta [Documentation.FieldCaption = "Key",
            Documentation.FieldDescription = $key_help]),
        optional GlobalParameters as (type nullable record meta [Documentation.FieldCaption = "GlobalParameters",
            Documentation.FieldDescription = "Fields sent as GlobalParameters, over the schema's example."]),
        optional BatchSize as (type nullable number meta [Documentation.FieldCaption = "Rows per request",
            Documentation.FieldDescription = "Default: " & Text.From(DefaultBatchSize) & "."])
    ) as table meta [
        Documentation.Name = $title,
        Documentation.LongDescription = "Scores each row of the table with the model and returns the table with "
            & "the results appended as columns. Rows are sent in batches of BatchSize."
    ]
in
    Value.ReplaceType(ScoreTable, Documented)
"""
)
