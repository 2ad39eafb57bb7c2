"""Where the data that score scripts collect goes: the sink behind `azureml.monitoring.ModelDataCollector` (SDK v1,
`adapter.azureml.monitoring_v1`) and `azureml.ai.monitoring.Collector` (SDK v2, `adapter.azureml.monitoring_v2`).

In AML, collected rows go to the workspace's blob storage through AML-only machinery: v1 through a native library
that only loads in AML's AKS images (on PyPI it is broken for Python 3.11: "Invalid or corrupted package"), v2
through the model data collector sidecar that managed online endpoints run next to the container (127.0.0.1:50011).
Neither exists in a Function App, so the adapter always serves both APIs itself, installed or not, and sends each
`collect` call:

- by default, to one INFO record of the `adapter.datacollection` logger, `Data collection: {json}`, which the
  Functions host sends to Application Insights as a trace of the invocation (`AML_DATA_COLLECTION_LOG=false` turns
  it off). Its data is capped at `AML_DATA_COLLECTION_MAX_CHARS` (16384) characters: whole rows are kept while they
  fit, and the record then says `"truncated":true` and how many rows it kept;
- with `AML_DATA_COLLECTION_DIR`, also to JSON Lines files, `DIR/COLLECTION/YYYY-MM-DD.jsonl` (UTC days), capped at
  `AML_DATA_COLLECTION_FILE_MAX_CHARS` (1 MiB) per record.

`AML_DATA_COLLECTION_SAMPLE_RATE` (0 to 1, like AML's `data_collector.sampling_rate`) collects that fraction of the
requests, drawn by the adapter once per request so that a request's inputs and outputs are kept or dropped together
(never derived from the request id, which the client chooses).

A record: `collection`, `designation` (v1), `correlation_id`, `request_id` (the `x-request-id` the client got back),
`columns` (or null), `rows` (arrays, or objects for dict rows), `row_count`, `truncated`; files add `time`.

Collecting never fails or slows the request: a value that cannot be written as JSON, an unwritable folder or any
other error is logged as a warning and the call returns as usual; the work per call is bounded by the caps, however
large the data (rows are measured before they are serialised, and only as many as fit are).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import math
import os
import random
import re
import stat
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapter import paths, request_context
from adapter.request_context import current_request_id

logger = logging.getLogger("adapter.datacollection")

#: What each collected record's message starts with, so it can be found among the traces (see docs/data-collection.md).
MESSAGE_PREFIX = "Data collection: "
DEFAULT_MAX_CHARS = 16384
DEFAULT_FILE_MAX_CHARS = 1 << 20
#: Below this, a cap could not hold even a few columns; a smaller setting is raised to it.
MIN_MAX_CHARS = 256
#: Tables up to this many cells are converted in one go; larger ones in chunks, as far as the cap reaches.
_SMALL_CELLS = 4096
_FALSE = {"0", "false", "no", "off"}
#: What a folder name keeps as it is; anything else is written `%XX` (see `safe_name`).
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")
#: Longer escaped names end in a digest instead (file systems allow 255 bytes a name).
_MAX_NAME = 150


@dataclass(frozen=True)
class Config:
    log: bool = True
    directory: Path | None = None
    max_chars: int = DEFAULT_MAX_CHARS
    file_max_chars: int = DEFAULT_FILE_MAX_CHARS
    sample_rate: float = 1.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        """The settings; a bad value is logged and its default used (collection must never stop a script)."""
        env = os.environ if env is None else env
        directory = env.get("AML_DATA_COLLECTION_DIR", "").strip()
        return cls(
            log=env.get("AML_DATA_COLLECTION_LOG", "true").strip().lower() not in _FALSE,
            directory=(paths.app_root(env) / Path(directory).expanduser()) if directory else None,
            max_chars=_chars(env, "AML_DATA_COLLECTION_MAX_CHARS", DEFAULT_MAX_CHARS),
            file_max_chars=_chars(env, "AML_DATA_COLLECTION_FILE_MAX_CHARS", DEFAULT_FILE_MAX_CHARS),
            sample_rate=_rate(env, "AML_DATA_COLLECTION_SAMPLE_RATE"),
        )


def requested(env: Mapping[str, str] | None = None) -> bool:
    """Whether the app asks for data collection in so many words: `AML_DATA_COLLECTION_LOG` set to a true value, or
    `AML_DATA_COLLECTION_DIR` set. A score.py that collects is served with collection on by default (its author
    wrote the `collect` calls); the no-code MLflow script, which has them in every deployment, collects only when
    asked, as AML's collects only for a deployment whose `data_collector` enables it."""
    env = os.environ if env is None else env
    log = env.get("AML_DATA_COLLECTION_LOG", "").strip().lower()
    return (bool(log) and log not in _FALSE) or bool(env.get("AML_DATA_COLLECTION_DIR", "").strip())


def _rate(env: Mapping[str, str], name: str) -> float:
    text = env.get(name, "").strip()
    if not text:
        return 1.0
    try:
        rate = float(text)
    except ValueError:
        rate = math.nan
    if not 0.0 <= rate <= 1.0:
        logger.warning("%s=%r is not a fraction from 0 to 1; collecting every request", name, text)
        return 1.0
    return rate


#: This request's draw: (the request id and invocation objects it was drawn for, kept or not). See `sampled`.
_draw: ContextVar[tuple[object, object, bool] | None] = ContextVar("adapter_data_collection_draw", default=None)


def sampled(rate: float, request_id: str | None) -> bool:
    """Whether this request's data is collected: the adapter's own random draw, made at the request's first
    `collect` and reused by its later ones, so its inputs and outputs are collected together or not at all.

    Never derived from the request id's text, which the client chooses (it could pick ids that are never collected,
    or always are). The draw lives in the request's context and belongs to the objects the pipeline set there for
    this request: its invocation (`func.Context`, one per request) and its request id (parsed anew for each request,
    even when a client sends the same id again); a draw left in a worker thread's context by an earlier request is
    never reused. Outside a request every call draws anew.
    """
    if rate >= 1.0:
        return True
    if request_id is None:
        return _random.random() < rate
    invocation = request_context.invocation.get()
    drawn = _draw.get()
    if drawn is not None and drawn[0] is request_id and drawn[1] is invocation:
        return drawn[2]
    keep = _random.random() < rate
    _draw.set((request_id, invocation, keep))
    return keep


#: Seeded from the OS, not from anything a client sends; `random` is enough (nothing here is a secret).
_random = random.Random()


def _chars(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        return max(int(text), MIN_MAX_CHARS)
    except ValueError:
        logger.warning("%s=%r is not a whole number of characters; using %d", name, text, default)
        return default


class Sink:
    """Writes collected data where the configuration says. One per collector; safe to use from several threads."""

    def __init__(self, config: Config | None = None) -> None:
        if config is None:
            try:
                config = Config.from_env()
            except Exception as ex:  # noqa: BLE001 - e.g. a folder under an unknown user's ~: never fail init()
                logger.warning("Data collection settings cannot be read (%s); collecting to the log only", describe(ex))
                config = Config()
        self.config = config
        self._made_dirs: set[Path] = set()
        self._failing: set[Path] = set()
        self._lock = threading.Lock()

    def collect(
        self,
        collection: str,
        data: object,
        correlation_id: str | None,
        fields: Mapping[str, object] | None = None,
        columns: list[str] | None = None,
    ) -> Exception | None:
        """Send one `collect` call's data, with `fields` after the collection name and `columns` naming the
        values of rows that do not name them; never raises. Returns the error that made it skip the data, if any."""
        collection = str(collection)
        to_log = self.config.log and logger.isEnabledFor(logging.INFO)
        if not to_log and self.config.directory is None:
            return None  # nothing would see it: not even the cost of reading the data
        request_id = current_request_id()
        if not sampled(self.config.sample_rate, request_id):
            return None
        try:
            head: dict[str, object] = {"collection": collection, **(fields or {})}
            head["correlation_id"] = correlation_id
            head["request_id"] = request_id
            table = Table.of(data, columns)
            text = None
            if to_log:
                text = record_text(head, table, self.config.max_chars, "MAX_CHARS")
                logger.info("%s%s", MESSAGE_PREFIX, text)
            if self.config.directory is not None:
                now = _utc_now()
                if text is not None and text.endswith(',"truncated":false}'):
                    line = '{"time":"' + now + '",' + text[1:]  # the log's record has all of it: not serialised again
                else:
                    line = record_text({"time": now, **head}, table, self.config.file_max_chars, "FILE_MAX_CHARS")
                self._write(collection, line)
        except Exception as ex:  # noqa: BLE001 - whatever the data does, the request goes on
            logger.warning("Data collection for %r skipped its data: %s", collection, describe(ex))
            return ex
        return None

    def _write(self, collection: str, text: str) -> None:
        assert self.config.directory is not None
        folder = self.config.directory / safe_name(collection)
        path = folder / (time.strftime("%Y-%m-%d", time.gmtime()) + ".jsonl")
        try:
            if folder not in self._made_dirs:
                folder.mkdir(parents=True, exist_ok=True)
                self._made_dirs.add(folder)
            # One write of one line, appended: lines from concurrent calls (and processes) do not interleave.
            # O_NONBLOCK: a FIFO put where the file goes must not hang the request (opening one to write waits for
            # a reader); anything but a regular file is then refused.
            try:
                kind = stat.S_IFMT(os.lstat(path).st_mode)
            except FileNotFoundError:
                kind = stat.S_IFREG  # created just below
            if kind != stat.S_IFREG:
                raise OSError(f"it is not a regular file but {paths.file_kind(kind)}")
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW | _NONBLOCK
            fd = os.open(path, flags, 0o644)
            try:
                kind = stat.S_IFMT(os.fstat(fd).st_mode)
                if kind != stat.S_IFREG:
                    raise OSError(f"it is not a regular file but {paths.file_kind(kind)}")
                payload = (text + "\n").encode("utf-8")  # `text` is escaped: no lone surrogate to fail on
                while payload:
                    payload = payload[os.write(fd, payload) :]
            finally:
                os.close(fd)
        except OSError as ex:
            with self._lock:
                first = path not in self._failing
                self._failing.add(path)
            if first:  # once per file until it works again: a read-only share must not flood the log
                also = " (the log still gets each record)" if self.config.log else ""
                logger.warning("Data collection cannot write to %s: %s%s", path, describe(ex), also)
            return
        if self._failing:
            with self._lock:
                self._failing.discard(path)


#: Not on Windows; there a FIFO cannot appear in a folder anyway.
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


def safe_name(collection: str) -> str:
    """The folder name of a collection: one folder per name (no two names share one), always inside the data
    folder, never hidden. Letters, digits, `_`, `-` and `.` stay; every other character is `%XX` of its UTF-8 bytes,
    as in URLs (`a/b` is `a%2Fb`, `a b` is `a%20b`, `%` itself is `%25`); a leading `.` is `%2E`; the empty name is
    `%`. A name whose escaped form is longer than 150 characters keeps its first 100 and ends in `%%` and a digest
    of the whole name. Letters keep their case: on a case-insensitive share (Azure Files), names that differ only in
    case share a folder, and each record still names its collection."""
    escaped = _UNSAFE_NAME.sub(_percent, collection)
    if escaped.startswith("."):
        escaped = "%2E" + escaped[1:]
    if len(escaped) > _MAX_NAME:
        # `%%` never occurs in an escaped name (`%` is always followed by two hex digits): no clash with short ones.
        digest = hashlib.sha256(collection.encode("utf-8", "surrogatepass")).hexdigest()
        escaped = f"{escaped[:100]}%%{digest}"
    return escaped or "%"


def _percent(match: re.Match[str]) -> str:
    # surrogatepass: a lone surrogate gets bytes of its own too, so the escaping stays one-to-one.
    return "".join(f"%{byte:02X}" for byte in match.group().encode("utf-8", "surrogatepass"))


# --- the data as a table -------------------------------------------------------------------------------------------


@dataclass
class Table:
    columns: list[str] | None
    row_count: int
    #: The rows, a list of them at a time, produced lazily (a large table is converted only as far as the cap reaches).
    chunks: Iterable[list[Any]]
    #: All rows at once when the table is small: one serialisation instead of one per row.
    small: list[object] | None = None
    #: Set when every row is a flat list of this many numbers, booleans or nulls (a numeric array or frame): their
    #: size is known without looking, and their JSON can be cut into rows without serialising each on its own.
    numeric_width: int | None = None

    @classmethod
    def of(cls, data: object, columns: list[str] | None = None) -> Table:
        """Rows as AML's collectors see them: a DataFrame's rows, a 2-D array's or a list of lists' rows; a flat
        list, a 1-D array, a dict or a single value are one row."""
        pandas = sys.modules.get("pandas")
        numpy = sys.modules.get("numpy")
        if pandas is not None and isinstance(data, pandas.Series):
            data = data.to_frame()
        if pandas is not None and isinstance(data, pandas.DataFrame):
            names = list(map(str, data.columns.tolist()))
            count = len(data)
            if count * max(len(names), 1) <= _SMALL_CELLS:
                # The usual small frame, in one conversion by pandas and one `tolist` by NumPy: no Python per row
                # or cell. dtype=object keeps each column's own values (ints stay ints beside floats) and gives
                # dates as Timestamps (written as ISO text), not as numbers of nanoseconds.
                rows = data.to_numpy(dtype=object).tolist()
                return cls(names, count, [rows], rows)
            frame = data
            # A large frame: slices converted one after another, only as far as the cap reaches.
            numeric = all(dtype.kind in _NUMERIC_KINDS for dtype in frame.dtypes)
            return _chunked(
                count,
                len(names),
                lambda a, b: frame.iloc[a:b].to_numpy(dtype=object).tolist(),
                names,
                len(names) if numeric else None,
            )
        if numpy is not None and isinstance(data, numpy.ndarray):
            array = data if data.ndim >= 2 else data.reshape(1, -1)
            width = int(array.size // array.shape[0]) if array.shape[0] else 0
            numeric = array.ndim == 2 and array.dtype.kind in _NUMERIC_KINDS
            return _chunked(
                array.shape[0], width, lambda a, b: array[a:b].tolist(), columns, width if numeric else None
            )
        if isinstance(data, (list, tuple)):
            if (
                data
                and isinstance(data[0], (list, tuple, dict))
                or (numpy is not None and data and isinstance(data[0], numpy.ndarray))
            ):
                rows = list(data)
                return cls(columns, len(data), [rows], rows if len(data) * 8 <= _SMALL_CELLS else None)
            return cls(columns, 1, [[data]], [data])
        return cls(columns, 1, [[data]], [data])


#: NumPy's kinds of booleans, integers and floats: each value's JSON is a few characters, with no string in it.
_NUMERIC_KINDS = frozenset("biuf")


def _chunked(
    count: int,
    width: int,
    rows_between: Callable[[int, int], list[Any]],
    columns: list[str] | None,
    numeric_width: int | None = None,
) -> Table:
    if count * max(width, 1) <= _SMALL_CELLS:
        everything = rows_between(0, count)
        return Table(columns, count, [everything], everything, numeric_width)
    step = max(1, _SMALL_CELLS // max(width, 1))

    def chunks() -> Iterator[list[Any]]:
        for start in range(0, count, step):
            yield rows_between(start, min(start + step, count))

    return Table(columns, count, chunks(), None, numeric_width)


def record_text(head: Mapping[str, object], table: Table, cap: int, setting: str) -> str:
    """The record as one line of JSON: `head`, then as many whole rows as fit in `cap` characters."""
    names = table.columns
    if names is not None and len(names) > _SMALL_CELLS // 8 and len(dumps(names)) > cap // 2:
        names = None  # a table so wide its names alone would crowd out the rows
    document = {**head, "columns": names}
    start = dumps(document)[:-1]  # one serialisation for the head and the names: this runs on every request
    kept, rows = _fitting_rows(table, cap - len(start))
    text = f'{start},"rows":[{rows}],"row_count":{table.row_count}'
    if kept == table.row_count:
        return _escape_raw(text + ',"truncated":false}')
    why = (
        f"kept {kept} of {table.row_count} rows: the data is capped at {cap} characters (AML_DATA_COLLECTION_{setting})"
    )
    return _escape_raw(text + ',"truncated":true,"truncation":' + dumps(why) + "}")


def _fitting_rows(table: Table, budget: int) -> tuple[int, str]:
    if table.small is not None and _fits(table.small, budget):
        text = dumps(table.small)[1:-1]
        if len(text) <= budget:
            return len(table.small), text
    parts: list[str] = []
    used = kept = 0
    for chunk in table.chunks:
        if table.numeric_width is not None:
            text, taken, used = _numeric_rows(chunk, table.numeric_width, budget, used)
        else:
            text, taken, used = _rows_one_by_one(chunk, budget, used)
        if taken:
            parts.append(text)
            kept += taken
        if taken < len(chunk):
            break
    return kept, ",".join(parts)


def _rows_one_by_one(rows: list[Any], budget: int, used: int) -> tuple[str, int, int]:
    """The rows of `rows` that fit in what is left of `budget` (each counted with its comma): their JSON, how many,
    and the budget used then."""
    parts: list[str] = []
    for row in rows:
        if not _fits(row, budget - used):  # measured first: a huge row is never serialised
            break
        text = dumps(row)
        if used + len(text) + 1 > budget:
            break
        parts.append(text)
        used += len(text) + 1
    return ",".join(parts), len(parts), used


def _numeric_rows(rows: list[Any], width: int, budget: int, used: int) -> tuple[str, int, int]:
    """`_rows_one_by_one` for rows of `width` numbers, booleans or nulls, serialised a batch of rows at a time:
    their JSON holds no string, so it splits into rows at `],[`. Byte for byte the same answer, including where the
    row by row measurement (`_fits`: 6 characters a value, and the list's own) stops before the JSON would. Each
    batch is sized from the rows seen so far to what is left of the budget, so little is serialised in vain."""
    measured = 7 * width + 1  # what `_fits` counts for such a row
    parts: list[str] = []
    taken = 0
    batch = 16  # a first look at how long the rows are
    while taken < len(rows):
        text = dumps(rows[taken : taken + batch])
        end = 1  # where the JSON of the rows taken from this batch ends, after the leading `[`
        count = 0
        for inner in map(len, text[2:-2].split("],[")):
            size = inner + 2  # with its own brackets
            if measured > budget - used or used + size + 1 > budget:
                parts.append(text[1 : end - 1])
                return ",".join(p for p in parts if p), taken + count, used
            used += size + 1
            end += size + 1
            count += 1
        parts.append(text[1:-1])
        taken += count
        average = len(text) / max(count, 1)
        batch = max(16, int((budget - used) / average * 1.1) + 1)
    return ",".join(p for p in parts if p), taken, used


#: Values that take a few characters of JSON; whatever their number, each costs at least one.
_SHORT = frozenset({int, float, bool, type(None)})


def _fits(value: object, limit: int) -> bool:
    """Whether `value` will roughly fit in `limit` characters of JSON; its cost is bounded by `limit`, not by the
    size of `value` (each item visited counts for at least one character)."""
    numpy = sys.modules.get("numpy")
    size = 0
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind in _SHORT:
            size += 6
        elif kind is list or kind is tuple:
            size += len(item) + 1  # type: ignore[arg-type]
            for cell in item[: limit + 1]:  # type: ignore[index]  # rows of numbers and text, without the stack
                cell_kind = type(cell)
                if cell_kind in _SHORT:
                    size += 6
                elif cell_kind is str:
                    size += len(cell) + 2
                else:
                    stack.append(cell)
        elif isinstance(item, str):
            size += len(item) + 2
        elif isinstance(item, (list, tuple)):
            size += len(item) + 1
            stack.extend(item[: limit + 1])
        elif isinstance(item, dict):
            for key, nested in item.items():
                size += len(str(key)) + 4
                stack.append(nested)
                if size > limit:
                    return False
            size += 1
        elif numpy is not None and isinstance(item, numpy.ndarray):
            if item.dtype == object:
                stack.extend(item.ravel()[: limit + 1].tolist())
            size += item.size * max(2, min(item.itemsize, 24)) + 1
        else:
            size += 6
        if size > limit:
            return False
    return True


def dumps(value: object) -> str:
    """Compact JSON, valid everywhere: NaN and infinities become null, numpy and date values their plain forms."""
    try:
        return _ENCODER.encode(value)
    except ValueError as ex:
        if "Out of range float" not in str(ex):
            raise
        return _ENCODER.encode(_finite(value))


def _plain(value: object) -> object:
    """What `json` cannot write by itself, when it has an obvious JSON form; anything else is not serialisable."""
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(value, numpy.generic):
        return _finite(value.item())
    if numpy is not None and isinstance(value, numpy.ndarray):
        return _finite(value.tolist())
    if type(value).__name__ in ("NAType", "NaTType"):  # pandas' missing values
        return None
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


#: Made once: `json.dumps` with options builds an encoder per call, a cost paid on every request here.
_ENCODER = json.JSONEncoder(allow_nan=False, default=_plain, separators=(",", ":"), ensure_ascii=False)


def _finite(value: object) -> object:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value


def _utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")


def describe(ex: BaseException) -> str:
    """The error in a few words for a log line: never a traceback, never much of the data an error message may
    quote, and no control characters (a message may quote a script's text)."""
    text = f"{type(ex).__name__}: {ex}"
    text = text if len(text) <= 300 else text[:300] + "..."
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


#: C0 and C1 control characters, DEL, the Unicode line and paragraph separators, and lone surrogates (which a log
#: handler writing UTF-8 cannot encode).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
#: The same, as JSON text may hold them (JSON escapes C0 itself): inside strings, where `\uXXXX` means the same. Also
#: lone surrogates, which a Python string may hold (`json.loads('"\\ud800"')`) but UTF-8 cannot encode: escaped,
#: the record can be written and reads back as the same string.
_RAW_IN_JSON = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def _escape_raw(text: str) -> str:
    """JSON text with no character a terminal or log viewer could take for a control, and none UTF-8 cannot
    encode."""
    if text.isascii() and "\x7f" not in text:
        return text
    return _RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
