"""Web.Contents of the M evaluator against a local HTTP server: real requests, the options Power Query documents
(Content, Headers, Query, RelativePath, ManualStatusHandling, Timeout, IsRetry), the response metadata
(Response.Status, Headers, Content.Uri) and the status handling of learn.microsoft.com/power-query/
handling-status-codes (errors, credential statuses, automatic retries, redirects)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from powerquery.m.library.web import TRAFFIC
from powerquery.testing import m, m_error, m_raw


class Stub:
    """Answers each request from a plan keyed by path: a list of (status, headers, body) used in turn (the last one
    repeats); records what it got."""

    def __init__(self) -> None:
        self.plans: dict[str, list[tuple[int, dict[str, str], bytes]]] = {}
        self.seen: list[dict[str, Any]] = []
        self.delay = 0.0
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                self.answer()

            def do_POST(self) -> None:  # noqa: N802
                self.answer()

            def answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?")[0]
                stub.seen.append(
                    {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
                )
                plan = stub.plans.get(path, [(200, {"Content-Type": "application/json"}, b'{"ok": true}')])
                status, headers, payload = plan.pop(0) if len(plan) > 1 else plan[0]
                if stub.delay:
                    time.sleep(stub.delay)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def stub() -> Iterator[Stub]:
    server = Stub()
    yield server
    server.stop()


def test_a_get_with_query_relative_path_and_headers(stub: Stub) -> None:
    text = m(
        f'Text.FromBinary(Web.Contents("{stub.url}/api", [RelativePath = "v1/items", '
        '  Query = [q = "a b", ids = {"1", "2"}], Headers = [#"x-functions-key" = "k1", Accept = "application/json"]]))'
    )
    assert json.loads(text) == {"ok": True}
    (seen,) = stub.seen
    assert seen["method"] == "GET"
    assert seen["path"] == "/api/v1/items?q=a%20b&ids=1&ids=2"
    assert seen["headers"]["x-functions-key"] == "k1"


def test_content_makes_a_post_with_that_body(stub: Stub) -> None:
    m(
        f'Web.Contents("{stub.url}/score", [Content = Json.FromValue([a = 1]), '
        'Headers = [#"Content-Type" = "application/json"]])'
    )
    (seen,) = stub.seen
    assert (seen["method"], seen["body"], seen["headers"]["Content-Type"]) == ("POST", b'{"a":1}', "application/json")


def test_the_response_metadata(stub: Stub) -> None:
    stub.plans["/m"] = [(201, {"Content-Type": "text/plain", "Retry-After": "3", "X-Request-Id": "r1"}, b"hi")]
    meta = m_raw(f'Value.Metadata(Web.Contents("{stub.url}/m", [Query = [a = "1"]]))')
    assert meta.get("Response.Status") == 201
    assert meta.get("Content.Type") == "text/plain"
    assert meta.get("Headers").get("X-Request-Id") == "r1"
    assert meta.get("Content.Uri")() == f"{stub.url}/m?a=1"
    assert m(f'Text.FromBinary(Web.Contents("{stub.url}/m"))') == "hi"


def test_an_error_status_is_a_data_source_error_unless_handled_manually(stub: Stub) -> None:
    stub.plans["/fail"] = [(500, {}, b'{"message": "broken"}')]
    ex = m_error(f'Web.Contents("{stub.url}/fail")')
    assert ex.reason == "DataSource.Error"
    assert ex.message == f"Web.Contents failed to get contents from '{stub.url}/fail' (500): Internal Server Error"
    assert ex.detail.get("DataSourceKind") == "Web"
    handled = f'Web.Contents("{stub.url}/fail", [ManualStatusHandling = {{500}}])'
    assert m(f"Value.Metadata({handled})[Response.Status]") == 500
    assert m(f"Json.Document({handled})[message]") == "broken"
    stub.plans["/missing"] = [(404, {}, b"")]
    assert (
        "(404): Not Found" in m_error(f'Web.Contents("{stub.url}/missing", [ManualStatusHandling = {{500}}])').message
    )


@pytest.mark.parametrize("status", [401, 403])
def test_credential_statuses_are_errors_even_when_listed(stub: Stub, status: int) -> None:
    stub.plans["/auth"] = [(status, {}, b"")]
    ex = m_error(f'Web.Contents("{stub.url}/auth", [ManualStatusHandling = {{{status}}}])')
    assert ex.reason == "DataSource.Error"


def test_a_503_is_retried_three_times_after_retry_after_unless_handled(stub: Stub) -> None:
    cold = (503, {"Retry-After": "0"}, b"cold")
    stub.plans["/cold"] = [cold, cold, (200, {}, b"warm")]
    started = time.monotonic()
    assert m(f'Text.FromBinary(Web.Contents("{stub.url}/cold"))') == "warm"
    assert len(stub.seen) == 3 and time.monotonic() - started >= 1.0  # Retry-After 0 waits the 0.5 s minimum
    stub.plans["/cold"] = [cold, (200, {}, b"warm")]
    stub.seen.clear()
    assert (
        m(f'Value.Metadata(Web.Contents("{stub.url}/cold", [ManualStatusHandling = {{503}}]))[Response.Status]') == 503
    )
    assert len(stub.seen) == 1


def test_redirects_turn_a_post_into_a_get_except_307(stub: Stub) -> None:
    stub.plans["/moved"] = [(302, {"Location": "/new"}, b"")]
    stub.plans["/kept"] = [(307, {"Location": "/new"}, b"")]
    m(f'Web.Contents("{stub.url}/moved", [Content = Text.ToBinary("x")])')
    assert [(s["method"], s["path"]) for s in stub.seen] == [("POST", "/moved"), ("GET", "/new")]
    stub.seen.clear()
    m(f'Web.Contents("{stub.url}/kept", [Content = Text.ToBinary("x")])')
    assert [(s["method"], s["path"], s["body"]) for s in stub.seen] == [("POST", "/kept", b"x"), ("POST", "/new", b"x")]


def test_the_timeout_option(stub: Stub) -> None:
    stub.delay = 1.0
    ex = m_error(f'Web.Contents("{stub.url}/slow", [Timeout = #duration(0, 0, 0, 0.2)])')
    assert ex.reason == "DataSource.Error" and "timed out" in ex.message


def test_is_retry_is_accepted_and_an_unknown_option_is_an_error(stub: Stub) -> None:
    assert m(f'Binary.Length(Web.Contents("{stub.url}/", [IsRetry = true]))') > 0
    assert m_error(f'Web.Contents("{stub.url}/", [Retries = 3])').reason == "Expression.Error"


def test_an_unreachable_host_is_a_data_source_error() -> None:
    gone = Stub()
    gone.stop()
    assert m_error(f'Web.Contents("{gone.url}/")').reason == "DataSource.Error"


def test_an_unread_request_is_never_sent_and_a_read_one_once(stub: Stub) -> None:
    before = TRAFFIC.count
    assert m(f'let unused = Web.Contents("{stub.url}/never") in 1') == 1
    assert stub.seen == [] and TRAFFIC.count == before
    body = f'Web.Contents("{stub.url}/once")'
    m(f"let r = {body}, s = Value.Metadata(r)[Response.Status], b = Binary.Buffer(r) in {{s, Binary.Length(b)}}")
    assert len(stub.seen) == 1 and TRAFFIC.count == before + 1


def test_header_values_that_would_split_the_request_are_refused(stub: Stub) -> None:
    assert m_error(f'Web.Contents("{stub.url}/", [Headers = [A = "x#(cr)#(lf)B: y"]])').reason == "Expression.Error"
    assert stub.seen == []


def test_table_cells_are_computed_when_read_and_once(stub: Stub) -> None:
    """As in Power Query, Table.AddColumn's cells are lazy: counting rows or removing the column sends nothing;
    Table.Buffer computes each cell once."""
    added = f'Table.AddColumn(#table({{"a"}}, {{{{1}}, {{2}}}}), "r", each Web.Contents("{stub.url}/cell"))'
    assert m(f"Table.RowCount({added})") == 2
    assert m(f'Table.RowCount(Table.RemoveRowsWithErrors(Table.RemoveColumns({added}, {{"r"}})))') == 2
    assert stub.seen == []
    assert m(f'let b = Table.Buffer({added}) in Table.RowCount(b) + List.Count(Table.Column(b, "r"))') == 4
    assert len(stub.seen) == 2
