"""A Power Query (M) function that scores a Power BI table through `/score`, generated from the script's schema.

`python -m adapter powerquery` writes it; the HTTP layer serves the same text (`GET /powerquery.pq`). The function
reads its table once (`Table.Buffer`), checks it has the columns the schema requires, sends only those columns in
batches, in the body the schema describes (the table inside `Inputs` or on its own, as records, pandas' split orient
or NumPy rows; the script's other inputs and `GlobalParameters` from the function's optional parameters, by default
the schema's example), retries a 503 from a cold instance (and a 429) honouring `Retry-After`, splits a batch the
service refuses (400/500) until the refused rows are found, which get an error in their result cells, and returns
the table with the results appended (record results expanded into typed columns, and so are lists whose positions
the schema names), joined by position.

What the function needs to know is a `Plan`, so tests can check the contract the M text follows. Only the script's
import is needed: no `init()`. The M text comes from the template `score_table.pq` beside this module.
"""

from __future__ import annotations

import ipaddress
import json
import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from adapter.mlflow_model import COLUMN_NAMES
from adapter.openapi import answer_shape, mtext, swagger
from adapter.settings import Settings

if TYPE_CHECKING:
    from adapter.script.entry_script import EntryScript

INPUTS, GLOBALS, RESULTS = "Inputs", "GlobalParameters", "Results"
FUNCTION = "ScoreTable"
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
#: Answers a few bad rows can cause (the script's own 400, or run() raising: 500): the batch is split in halves
#: until the rows are found; each gets an error in its result cells and the others are scored.
ROW_ERROR_STATUSES = (400, 500)
#: Rows of one batch the service may refuse before the function stops: finding each costs about two requests, so a
#: service refusing every row (a bug in run(), a missing model) would otherwise be sent each row alone.
MAX_REFUSED_ROWS = 10
#: Answers that mean "too much at once": the error then suggests a smaller batch.
TOO_BIG_STATUSES = (408, 413, 502, 504)
#: Power Query's own request timeout is 100 s; the host answers (or gives up) within 230 s, so wait past that.
REQUEST_TIMEOUT_S = 240
#: Nesting written into the function (an example used as a parameter's default) at most: Microsoft's M parser
#: and a reader of the text both give up long before Python's JSON does.
MAX_DEPTH = 32
#: Names the function's own parameters have.
OWN_PARAMETERS = frozenset({"Source", "Url", "Key", "BatchSize", "StopOnError"})
#: JSON Schema types -> the Power Query type of a result column, and of a function parameter.
RESULT_TYPES = {"number": "type number", "integer": "Int64.Type", "string": "type text", "boolean": "type logical"}
PARAMETER_TYPES = {
    "number": "number",
    "integer": "number",
    "string": "text",
    "boolean": "logical",
    "object": "record",
    "array": "list",
}
#: `--columns` type names (Power Query's and JSON Schema's) -> the JSON Schema type.
COLUMN_TYPES = {
    "number": "number",
    "double": "number",
    "integer": "integer",
    "int": "integer",
    "int64": "integer",
    "text": "string",
    "string": "string",
    "logical": "boolean",
    "boolean": "boolean",
    "bool": "boolean",
    "datetime": "string",
    "any": "",
}

Auth = Literal["functions", "bearer"]
TableFormat = Literal["records", "split", "values"]


class PowerQueryError(Exception):
    """No Power Query function can be built for this script; the message (one line) says why."""


@dataclass(frozen=True)
class Column:
    name: str
    #: The JSON Schema type of its values ("number", "string"...; "" when the schema does not say).
    type: str
    required: bool
    #: The JSON Schema format ("date-time" for a pandas datetime column).
    format: str = ""


@dataclass(frozen=True)
class Parameter:
    """A member of the request body other than the table (another `Inputs` member, `GlobalParameters`, another
    input of run()): an optional parameter of the function, defaulting to the schema's example."""

    #: The function parameter's name (an M identifier; the member's own name when it is one).
    name: str
    #: Where in the body it goes: ("Inputs", "threshold") or ("GlobalParameters",).
    path: tuple[str, ...]
    type: str
    default: Any

    @property
    def merged(self) -> bool:
        """A record default: an argument's fields override the default's fields (the others are still sent)."""
        return isinstance(self.default, dict)


@dataclass(frozen=True)
class Plan:
    """Everything the generated function does, as data: the contract the M text (and a test client) follows."""

    title: str
    #: Where the table goes in the body: ("Inputs", "data"), ("data",), or () for a body that is the table itself.
    table_path: tuple[str, ...]
    #: records: a list of objects; split: pandas' {"columns", "index", "data"}; values: a list of rows (NumPy 2-D).
    table_format: TableFormat
    #: The table's columns, in the order sent; only these are sent. Empty: send every column (records only).
    columns: tuple[Column, ...]
    parameters: tuple[Parameter, ...]
    #: The M type of a result when results are single values ("type any" when the schema does not say).
    result_type: str
    #: Fields of a record result known from the schema, with the M type of their column (more are taken from the
    #: answers, untyped).
    result_fields: tuple[tuple[str, str], ...]
    #: Each row's result is a list whose positions are `result_fields`, in order (the schema names them): made into
    #: a record of those fields, and a list of another length into an error for its row.
    positional: bool
    batch_size: int
    #: How the key travels: `x-functions-key`, or `Authorization: Bearer` (AML_SCORING_KEYS).
    auth: Auth
    #: The scoring URL written into the function (best for refresh in the Power BI service); None: a parameter.
    url: str | None
    #: An example scoring URL for the documentation (the app's real path, made-up host).
    example_url: str

    @property
    def table_input(self) -> str:
        return self.table_path[-1] if self.table_path else "(the body)"

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def key_required(self) -> bool:
        """A blank key is an error, except against a local host (`adapter serve`, `func start`), which does not
        check Functions keys."""
        return self.auth == "bearer" or self.url is None or not is_loopback(self.url)

    def summary(self) -> str:
        """One line for a person: "function ScoreTable, table data, 4 columns, batches of 1,000"."""
        where = self.table_path[-1] if self.table_path else "(the whole body)"
        columns = (
            f"{len(self.columns)} column{'s' if len(self.columns) != 1 else ''}" if self.columns else "any columns"
        )
        parameters = f", parameters {', '.join(p.name for p in self.parameters)}" if self.parameters else ""
        return f"function {FUNCTION}, table {where}, {columns}, batches of {self.batch_size:,}{parameters}"


def plan(
    settings: Settings,
    script: EntryScript,
    url: str | None = None,
    table: str | None = None,
    columns: str | None = None,
) -> Plan:
    """What the function for this script does. `table` picks the table when the schema has several (the first
    one otherwise; in `Inputs` first); `columns` ("a:number,b:text") names the columns of a script without a schema
    (or renames a NumPy table's). Raises `PowerQueryError` with a one-line reason."""
    if url is not None:
        check_url(url)
    given = parse_columns(columns) if columns is not None else None
    service_input, service_output = _schemas(settings, script, bool(given))
    path: tuple[str, ...]
    table_format: TableFormat
    found: tuple[Column, ...]
    parameters: tuple[Parameter, ...]
    if service_input is None:
        path, table_format, found, parameters = (table or "data",), "records", (), ()
    else:
        path, table_format, found, parameters = _table(service_input, table, read_columns=given is None)
    if given is not None:
        found = given
    result_type, result_fields, positional = _results(service_output)
    made = Plan(
        title=settings.service_name,
        table_path=path,
        table_format=table_format,
        columns=found,
        parameters=parameters,
        result_type=result_type,
        result_fields=result_fields,
        positional=positional,
        batch_size=default_batch_size(found),
        auth="bearer" if settings.scoring_keys else "functions",
        url=url,
        example_url=f"https://<app>.azurewebsites.net{swagger.describe(settings).path_prefix}/score",
    )
    _check_writable(made)
    return made


def generate(settings: Settings, script: EntryScript, url: str | None = None, **choices: str | None) -> str:
    """The M text of the function for this script (imported, no `init()` needed): what `GET /powerquery.pq` serves.
    `url`, when given, is written in as the scoring URL; otherwise it is the function's `Url` parameter. `choices`
    are `plan()`'s `table` and `columns`."""
    return render(plan(settings, script, url, **choices))


def default_batch_size(columns: tuple[Column, ...]) -> int:
    """Rows per request: at most `MAX_BATCH_ROWS`, and few enough that a batch stays near `BATCH_BODY_BYTES`."""
    row_bytes = 2 + sum(len(json.dumps(c.name)) + 2 + VALUE_BYTES.get(c.type, OTHER_VALUE_BYTES) for c in columns)
    if not columns:  # a free-form table: assume a wide one
        row_bytes = 64 * OTHER_VALUE_BYTES
    return max(1, min(MAX_BATCH_ROWS, BATCH_BODY_BYTES // row_bytes))


def is_loopback(url: str) -> bool:
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:  # a malformed IPv6 address
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str) -> None:
    """An https:// scoring URL (http:// only on this machine): a plain-HTTP Function App answers 301 to HTTPS, and
    following it turns Power Query's POST into a GET, so nothing would be scored."""
    try:
        parts = urlsplit(url)
        parts.hostname  # noqa: B018 - parsed here, so a malformed IPv6 address is refused like any bad URL
    except ValueError:
        parts = urlsplit("")
    if parts.scheme not in ("http", "https") or not parts.netloc or any(ord(c) < 32 or ord(c) == 127 for c in url):
        raise PowerQueryError(
            f"--url must be the scoring URL, like https://<app>.azurewebsites.net/score; got {url!r}."
        )
    if parts.scheme == "http" and not is_loopback(url):
        raise PowerQueryError(
            f"--url must use https:// (http:// only for localhost); got {url!r}. A Function App redirects http:// "
            "to https://, and Power Query would follow that redirect with a GET that scores nothing."
        )


def parse_columns(spec: str) -> tuple[Column, ...]:
    """`--columns a:number,b:text` (types: number, integer, text, logical, any; none given: any)."""
    found: list[Column] = []
    for part in spec.split(","):
        name, _, kind = part.strip().partition(":")
        name, kind = name.strip(), kind.strip().lower() or "any"
        if not name or kind not in COLUMN_TYPES:
            raise PowerQueryError(
                f"--columns takes name:type pairs separated by commas, types {', '.join(COLUMN_TYPES)}; got "
                f"{part.strip()!r}."
            )
        if any(c.name == name for c in found):
            raise PowerQueryError(f"--columns names {name!r} twice.")
        found.append(Column(name, COLUMN_TYPES[kind], True, "date-time" if kind == "datetime" else ""))
    return tuple(found)


# --- Reading the schema -------------------------------------------------------------------------------------------


def _schemas(
    settings: Settings, script: EntryScript, columns_given: bool
) -> tuple[Mapping[str, Any] | None, Mapping[str, Any]]:
    """The body's schema and the answer's: from the user's swagger file when there is one (what clients read),
    else from inference-schema's decorators. (None, {}) for a script described by `--columns` alone."""
    from inference_schema.schema_util import get_input_schema, get_output_schema, is_schema_decorated

    try:
        document = swagger.user_document(settings, "2") or swagger.user_document(settings, "3")
    except swagger.UserSwaggerError as ex:
        raise PowerQueryError(f"The user's swagger file cannot be read: {ex}") from None
    if isinstance(document, dict):
        return _from_document(document)
    if script.raw or not is_schema_decorated(script.run):
        if columns_given:
            return None, {}
        what = "decorated with @rawhttp" if script.raw else "not decorated with inference-schema"
        raise PowerQueryError(
            f"run() is {what}, so nothing says which table columns it takes: give them with "
            "--columns name:type,... (for example --columns a:number,b:text), or add a swagger.json describing "
            '/score, or decorate run() with @input_schema("data", PandasParameterType(sample_frame)).'
        )
    return get_input_schema(script.run), get_output_schema(script.run)


def _from_document(document: Mapping[str, Any]) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    operation: Mapping[str, Any] = {}
    for path, item in (document.get("paths") or {}).items():
        if str(path).rstrip("/").endswith("/score") and isinstance(item, dict) and isinstance(item.get("post"), dict):
            operation = item["post"]
            break
    body: Any = None
    for parameter in operation.get("parameters") or []:
        if isinstance(parameter, dict) and parameter.get("in") == "body":
            body = parameter.get("schema")
    request = operation.get("requestBody")
    if body is None and isinstance(request, dict):
        body = _json_content(request)
    ok = (operation.get("responses") or {}).get("200")
    answer = (ok.get("schema") or _json_content(ok)) if isinstance(ok, dict) else None
    if body is None:
        raise PowerQueryError("The user's swagger file has no POST /score operation with a JSON body.")
    return _Resolver(document).schema(body), _Resolver(document).schema(answer)


def _json_content(holder: Mapping[str, Any]) -> Any:
    content = holder.get("content")
    media = content.get("application/json") if isinstance(content, dict) else None
    return media.get("schema") if isinstance(media, dict) else None


@dataclass(frozen=True)
class _Resolver:
    """Follows a user document's local `$ref`s (`#/definitions/...`, `#/components/schemas/...`)."""

    document: Mapping[str, Any]

    def schema(self, schema: Any) -> Mapping[str, Any]:
        for _ in range(MAX_DEPTH):
            if not (isinstance(schema, dict) and isinstance(schema.get("$ref"), str)):
                break
            ref = schema["$ref"]
            target: Any = self.document
            for part in ref.removeprefix("#/").split("/"):
                target = target.get(part) if isinstance(target, dict) else None
            schema = target
        return _Inline(self, schema if isinstance(schema, dict) else {})


class _Inline(dict):  # type: ignore[type-arg]
    """A schema whose sub-schemas (`properties`, `items`) come back resolved."""

    def __init__(self, resolver: _Resolver, schema: Mapping[str, Any]) -> None:
        super().__init__(schema)
        self.resolver = resolver


def _sub(parent: Mapping[str, Any], schema: Any) -> Mapping[str, Any]:
    if isinstance(parent, _Inline):
        return parent.resolver.schema(schema)
    return schema if isinstance(schema, dict) else {}


def _properties(schema: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return {}
    return {str(name): _sub(schema, sub) for name, sub in properties.items()}


def _items(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    return _sub(schema, schema.get("items")) if schema.get("type") == "array" else {}


def _table_format(schema: Mapping[str, Any]) -> TableFormat | None:
    """records: a list of objects (PandasParameterType's default orient, lists of records); values: a list of
    lists (NumPy 2-D, pandas' values orient); split: pandas' split orient ({"columns", "data"[, "index"]})."""
    items = _items(schema)
    if items.get("type") == "object":
        return "records"
    if items.get("type") == "array":
        return "values"
    properties = _properties(schema)
    if schema.get("type") == "object" and "columns" in properties and _items(properties.get("data", {})):
        return "split"
    return None


def _example(service_input: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """The schema's example at `path`: from the top-level example, else from the sub-schemas' own examples."""
    example = service_input.get("example")
    for part in path:
        example = example.get(part) if isinstance(example, dict) else None
    if example is not None:
        return example
    schema: Mapping[str, Any] = service_input
    for part in path:
        schema = _properties(schema).get(part, {})
    return schema.get("example")


def _table(
    service_input: Mapping[str, Any], wanted: str | None, read_columns: bool = True
) -> tuple[tuple[str, ...], TableFormat, tuple[Column, ...], tuple[Parameter, ...]]:
    top = _properties(service_input)
    container = top.get(INPUTS, {})
    inside = {(INPUTS, name): sub for name, sub in _properties(container).items()}
    every = [*inside.items(), *(((name,), sub) for name, sub in top.items())]
    candidates = {path: kind for path, sub in every if (kind := _table_format(sub)) is not None}
    if _table_format(service_input) is not None:  # the body is the table itself
        candidates[()] = _table_format(service_input)  # type: ignore[assignment]
    if not candidates:
        takes = f" (it takes {', '.join(map(repr, top))})" if top else ""
        raise PowerQueryError(
            f"run() takes no table{takes}: Power BI sends a table as a list of records (PandasParameterType("
            "sample_frame), a list of dicts), pandas' split orient or a NumPy 2-D array."
        )
    if wanted is None:
        path = next(iter(candidates))
    else:
        matches = [p for p in candidates if wanted in (".".join(p), p[-1] if p else "")]
        if not matches:
            names = ", ".join(repr(".".join(p) or "(the body)") for p in candidates)
            raise PowerQueryError(f"There is no table named {wanted!r}; the tables are {names}.")
        path = matches[0]
    table_format = candidates[path]
    schema: Mapping[str, Any] = service_input
    for part in path:
        schema = _properties(schema).get(part, {})
    columns = _columns(schema, table_format, _example(service_input, path)) if read_columns else ()
    parameters = _parameters(service_input, path)
    return path, table_format, columns, parameters


def _columns(schema: Mapping[str, Any], table_format: TableFormat, example: Any) -> tuple[Column, ...]:
    if table_format == "records":
        items = _items(schema)
        listed = items.get("required")
        required = {str(n) for n in listed} if isinstance(listed, list) else set()
        return tuple(
            Column(name, _word(sub, "type"), name in required, _word(sub, "format"))
            for name, sub in _properties(items).items()
        )
    rows: Any = example.get("data") if table_format == "split" and isinstance(example, dict) else example
    first = rows[0] if isinstance(rows, list) and rows and isinstance(rows[0], list) else []
    if table_format == "split":
        return _split_columns(schema, example, first)
    # NumPy 2-D: no names, as many columns as the example's rows are wide, named as Power Query names them.
    width = len(first)
    if width == 0:
        raise PowerQueryError("The 2-D table's example has no row to count its columns from; give them with --columns.")
    item_type = _word(_items(_items(schema)), "type")
    return tuple(Column(f"Column{i + 1}", item_type or _json_type(first[i]), True) for i in range(width))


def _split_columns(schema: Mapping[str, Any], example: Any, first: list[Any]) -> tuple[Column, ...]:
    """Names from the example's `columns`, else from the schema of `columns` (an `enum` or `example` of its items,
    as a hand-written document may give them); types from the example's first row, else from a per-column `items`
    list (JSON Schema's tuple form) of `data`'s rows."""
    names = example.get("columns") if isinstance(example, dict) else None
    described = _properties(schema).get("columns", {})
    for candidate in (described.get("example"), described.get("default"), _items(described).get("enum")):
        if not (isinstance(names, list) and names):
            names = candidate
    if not isinstance(names, list) or not names:
        raise PowerQueryError("The split-orient table's schema gives no column names; give them with --columns.")
    row_items = _properties(schema).get("data", {}).get("items")
    per_column = row_items.get("items") if isinstance(row_items, dict) else None
    kinds = []
    for i in range(len(names)):
        kind = _json_type(first[i]) if i < len(first) else ""
        if not kind and isinstance(per_column, list) and i < len(per_column) and isinstance(per_column[i], dict):
            kind = _word(per_column[i], "type")
        kinds.append(kind)
    return tuple(Column(str(n), kind, True) for n, kind in zip(names, kinds, strict=True))


def _word(schema: Mapping[str, Any], keyword: str) -> str:
    """A schema's `type` or `format` when it is one word; "" otherwise (a list of types, a hand-written mistake)."""
    value = schema.get(keyword)
    return value if isinstance(value, str) else ""


def _json_type(value: Any) -> str:
    """A column's JSON Schema type from an example value: integers apart from other numbers (they become Int64
    columns); "" for what is no column type (null, lists, objects)."""
    kind = answer_shape.kind_of(value)
    if kind == "number":
        return "integer" if isinstance(value, int) else "number"
    return kind if kind in ("boolean", "string") else ""


def _parameters(service_input: Mapping[str, Any], table_path: tuple[str, ...]) -> tuple[Parameter, ...]:
    """Every other member of the body that is not a table: beside the table in its container, and the other
    top-level inputs."""
    top = _properties(service_input)
    paths: list[tuple[tuple[str, ...], Mapping[str, Any]]] = []
    for name, sub in top.items():
        if table_path[:1] == (name,) and len(table_path) > 1:
            paths += [((name, member), s) for member, s in _properties(sub).items() if (name, member) != table_path]
        elif (name,) != table_path:
            paths.append(((name,), sub))
    taken = set(OWN_PARAMETERS) | _template_names()
    found = []
    for path, sub in paths:
        if _table_format(sub) is not None:
            continue  # another table (the sample's `matrix` beside `data`): an alternative input, never sent
        identifier = mtext.identifier(path[-1], taken)
        taken.add(identifier)
        found.append(Parameter(identifier, path, _word(sub, "type"), _example(service_input, path)))
    return tuple(found)


def _results(service_output: Mapping[str, Any]) -> tuple[str, tuple[tuple[str, str], ...], bool]:
    """The result's M type, for record results each field's, and whether the results are lists whose positions the
    schema names (those names are then the fields): from `{"Results": [...]}`, `{"Results": {name: [...]}}`, an
    object holding one list (MLflow's `predictions`) or a bare list."""
    listed: Mapping[str, Any] = service_output
    properties = _properties(service_output)
    if service_output.get("type") == "object":
        listed = properties.get(RESULTS, {})
        if not listed and len(properties) == 1:
            listed = next(iter(properties.values()))
        inner = _properties(listed)
        if listed.get("type") == "object" and len(inner) == 1:
            listed = next(iter(inner.values()))
    items = _items(listed)
    fields = _properties(items) if items.get("type") == "object" else {}
    if fields:
        return (
            "type any",
            tuple((name, RESULT_TYPES.get(_word(sub, "type"), "type any")) for name, sub in fields.items()),
            False,
        )
    if items.get("type") == "array":
        names = _position_names(items)
        kind = RESULT_TYPES.get(_word(_items(items), "type"), "type any")
        return "type list", tuple((name, kind) for name in names), bool(names)
    return RESULT_TYPES.get(_word(items, "type"), "type any"), (), False


def _position_names(row: Mapping[str, Any]) -> tuple[str, ...]:
    """The names of a row list's positions (`COLUMN_NAMES`), when they are distinct non-empty texts and the list's
    length, where the schema gives one, is theirs; () otherwise (a list of unknown length stays a list)."""
    names = row.get(COLUMN_NAMES)
    if not (isinstance(names, list) and names and all(isinstance(n, str) and n for n in names)):
        return ()
    if len(set(names)) != len(names):
        return ()
    if any(row.get(bound, len(names)) != len(names) for bound in ("minItems", "maxItems")):
        return ()
    return tuple(names)


def _check_writable(made: Plan) -> None:
    """Everything written into the text is Unicode text (no lone surrogate, which a user's swagger file can hold
    as `\\ud800`) and nested no deeper than `MAX_DEPTH`, so the text can be written and parsed."""
    named: list[tuple[str, Any]] = [("the service's name", made.title), ("the table's name", list(made.table_path))]
    named += [(f"column {c.name!r}", c.name) for c in made.columns]
    named += [(f"result field {name!r}", name) for name, _ in made.result_fields]
    named += [(f"the example of {'.'.join(p.path)!r}", [list(p.path), p.default]) for p in made.parameters]
    for where, item in named:
        stack = [(item, 0)]
        while stack:
            value, depth = stack.pop()
            if depth > MAX_DEPTH:
                raise PowerQueryError(
                    f"{where} is nested more than {MAX_DEPTH} levels deep, too deep to write into a Power Query "
                    "function; give the schema a flatter example."
                )
            if isinstance(value, dict):
                stack += [(k, depth + 1) for k in value] + [(v, depth + 1) for v in value.values()]
            elif isinstance(value, list):
                stack += [(v, depth + 1) for v in value]
            elif isinstance(value, str):
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError:
                    raise PowerQueryError(
                        f"{where.encode('ascii', 'backslashreplace').decode()} holds "
                        f"{value.encode('ascii', 'backslashreplace').decode()!r}, which is not Unicode text (a lone "
                        "surrogate): Power Query cannot name anything with it. Fix the swagger file or schema."
                    ) from None


# --- M text -------------------------------------------------------------------------------------------------------


@cache
def _template() -> string.Template:
    """`score_table.pq`, the function's text with `$name` placeholders (M itself never uses `$`)."""
    return string.Template(resources.files("adapter.openapi").joinpath("score_table.pq").read_text(encoding="utf-8"))


@cache
def _template_names() -> frozenset[str]:
    """Every name the template defines (`Rows = ...`, `Size = ...`): a parameter named like one would be hidden by
    it where the function reads its arguments, so a parameter never takes one of these names."""
    return frozenset(re.findall(r"^\s*([A-Za-z_][A-Za-z0-9_]*) =", _template().template, re.MULTILINE))


def _payload(p: Plan) -> str:
    """The body for `rows` (records of the sent columns) and `arguments` (the parameters' values), as an M
    expression: the schema's structure with the table and each parameter in its place."""
    if p.table_format == "split":
        table = (
            "[columns = Columns, index = List.Positions(rows),\n            data = List.Transform(rows, "
            "Record.FieldValues)]"
        )
    elif p.table_format == "values":
        table = "List.Transform(rows, Record.FieldValues)"
    else:
        table = "rows"
    parameters = {q.path: f"arguments[{q.name}]" for q in p.parameters}
    return _body(p, table, parameters, lambda name, inner: f"{mtext.name(name)} = {inner}", "[]")


def _parameter_type(q: Parameter) -> str:
    kind = PARAMETER_TYPES.get(q.type)
    return f"nullable {kind}" if kind else "any"


def render(p: Plan) -> str:
    if p.auth == "bearer":
        key_header = "Authorization: Bearer <key>"
        key_record = '[Authorization = "Bearer " & Key]'
        key_help = "The service's key (AML_SCORING_KEYS), sent as 'Authorization: Bearer <key>'."
    else:
        key_header = "x-functions-key"
        key_record = '[#"x-functions-key" = Key]'
        key_help = "A function key of the Function App, sent as x-functions-key."
    key_missing = mtext.text(
        f"Key is blank: pass the {'service key (AML_SCORING_KEYS)' if p.auth == 'bearer' else 'function key'} as "
        "the Key argument, with Anonymous credentials for the URL."
    )
    if p.url is None:
        url_parameter = "Url as text, "
        url_type = (
            'Url as (type text meta [Documentation.FieldCaption = "Scoring URL",\n'
            f"            Documentation.SampleValues = {{{mtext.text(p.example_url)}}}]),\n        "
        )
        url_expression = "Url"
        call = f'{FUNCTION}(<the previous step>, "{p.example_url}", FunctionKey)'
    else:
        url_parameter = url_type = ""
        url_expression = mtext.text(p.url)  # a literal at Web.Contents, so the Power BI service can refresh it
        call = f"{FUNCTION}(<the previous step>, FunctionKey)"
    parameters = "".join(f"optional {q.name} as {_parameter_type(q)},\n            " for q in p.parameters)
    parameter_types = "".join(
        f"optional {q.name} as (type {_parameter_type(q)} meta [Documentation.FieldCaption = "
        f"{mtext.text('.'.join(q.path))},\n            Documentation.FieldDescription = "
        f"{mtext.text('Default (the schema example): ' + _short(q.default))}]),\n        "
        for q in p.parameters
    )
    arguments = "[" + "".join(f"\n                {_argument(q)}," for q in p.parameters).rstrip(",") + "]"
    return _template().substitute(
        title_comment=mtext.comment(p.title),
        call=mtext.comment(call),
        body_comment=mtext.comment(_body_comment(p)),
        key_header=key_header,
        title=mtext.text(p.title),
        columns=mtext.text_list([c.name for c in p.columns]),
        required=mtext.text_list(list(p.required_columns)),
        datetime_columns=mtext.text_list([c.name for c in p.columns if c.format == "date-time"]),
        number_columns=mtext.text_list([c.name for c in p.columns if c.type in ("number", "integer")]),
        logical_columns=mtext.text_list([c.name for c in p.columns if c.type == "boolean"]),
        payload=_payload(p),
        result_type=p.result_type,
        result_field_types="{" + ", ".join(f"{{{mtext.text(n)}, {t}}}" for n, t in p.result_fields) + "}",
        position_names=mtext.text_list([n for n, _ in p.result_fields]) if p.positional else "null",
        batch_size=p.batch_size,
        max_retries=MAX_RETRIES,
        retried=mtext.value(list(RETRIED_STATUSES)),
        handled=mtext.value(list(HANDLED_STATUSES)),
        row_errors=mtext.value(list(ROW_ERROR_STATUSES)),
        max_refused_rows=MAX_REFUSED_ROWS,
        too_big=mtext.value(list(TOO_BIG_STATUSES)),
        timeout_s=REQUEST_TIMEOUT_S,
        key_required="true" if p.key_required else "false",
        url_parameter=url_parameter,
        parameters=parameters,
        arguments=arguments,
        key_given='Key <> null and Text.Trim(Key) <> ""',
        key_header_record=key_record,
        url=url_expression,
        key_missing=key_missing,
        url_type=url_type,
        key_type=(
            'optional Key as (type nullable text meta [Documentation.FieldCaption = "Key",\n'
            f"            Documentation.FieldDescription = {mtext.text(key_help)}]),\n        "
        ),
        parameter_types=parameter_types,
    )


def _argument(q: Parameter) -> str:
    default = mtext.value(q.default)
    given = f"Record.Combine({{{default}, {q.name}}})" if q.merged else q.name
    return f"{q.name} = if {q.name} = null then {default} else {given}"


def _short(value: Any) -> str:
    shown = json.dumps(value, ensure_ascii=False)
    return shown if len(shown) <= 200 else shown[:197] + "..."


def _body_comment(p: Plan) -> str:
    """The body's shape in one line: {"Inputs": {"data": <rows as records>}, "GlobalParameters": <GlobalParameters>}."""
    rows = {"records": "<rows as records>", "split": "<rows in pandas' split orient>", "values": "<rows as lists>"}
    parameters = {q.path: f"<{q.name}>" for q in p.parameters}
    return _body(p, rows[p.table_format], parameters, lambda name, inner: f"{json.dumps(name)}: {inner}", "{}")


def _body(
    p: Plan, table: str, parameters: dict[tuple[str, ...], str], field: Callable[[str, str], str], brackets: str
) -> str:
    """The body with `table` and each parameter's text at their paths, objects written with `field(name, inner)`
    between `brackets`; just `table` when the body is the table itself."""
    if not p.table_path:
        return table
    tree: dict[str, Any] = {}
    for path, leaf in [(p.table_path, table), *parameters.items()]:
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = leaf

    def written(node: dict[str, Any]) -> str:
        inner = ", ".join(field(k, written(v) if isinstance(v, dict) else v) for k, v in node.items())
        return brackets[0] + inner + brackets[1]

    return written(tree)
