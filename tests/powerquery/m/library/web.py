"""Web.Contents: a real HTTP request (http.client), with the options and response metadata Power Query documents
(learn.microsoft.com/powerquery-m/web-contents, /power-query/handling-status-codes):

- options: Content (binary: the request is a POST), Headers, Query, RelativePath, ManualStatusHandling, Timeout
  (default 100 s), IsRetry, ExcludedFromCacheKey, ApiKeyName (needs a Web API credential: an error here);
- a status of 400 or more not listed in ManualStatusHandling is a DataSource.Error "Web.Contents failed to get
  contents from '<url>' (<status>): <reason>"; 401 and 403 are credential errors even when listed (outside a custom
  connector Power Query keeps them for its credential prompt);
- 408, 429, 503, 504 and 509 not listed are retried up to three times, after Retry-After seconds (0.5 to 120) or an
  exponential back-off;
- 301/302/303 redirects become GETs, 307/308 keep the method;
- the result is a binary whose metadata holds Content.Type, Content.Uri (a function giving the URL), Headers,
  Request.Options and Response.Status.

`TRAFFIC` counts the requests sent (the benchmark reports it)."""

from __future__ import annotations

import datetime as dt
import http.client
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urljoin, urlsplit

from ..values import MBinary, MError, MFunction, MList, MRecord, expression_error, force
from . import fn, need

OPTIONS = frozenset(
    "ApiKeyName Content ExcludedFromCacheKey Headers IsRetry ManualStatusHandling Query RelativePath Timeout "
    "ManualCredentials CredentialQuery".split()
)
AUTO_RETRIED = (408, 429, 503, 504, 509)
MAX_AUTO_RETRIES = 3
DEFAULT_TIMEOUT_S = 100.0


@dataclass
class Traffic:
    """Requests sent by Web.Contents in this process: (method, url, status), in order."""

    log: list[tuple[str, str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, method: str, url: str, status: int) -> None:
        with self.lock:
            self.log.append((method, url, status))

    @property
    def count(self) -> int:
        return len(self.log)


TRAFFIC = Traffic()


def _url(base: str, options: MRecord) -> str:
    url = base
    relative = options.get("RelativePath") if options.has("RelativePath") else None
    if relative:
        url = url.rstrip("/") + "/" + need(relative, "text").lstrip("/")
    query = options.get("Query") if options.has("Query") else None
    if query is not None:
        pairs: list[tuple[str, str]] = []
        for name in need(query, "record").fields:
            value = query.get(name)
            if isinstance(value, MList):
                pairs.extend((name, need(v, "text")) for v in value.values())
            else:
                pairs.append((name, need(value, "text")))
        if pairs:
            url += ("&" if "?" in url else "?") + urlencode(pairs, quote_via=quote)
    return url


def _failed(url: str, message: str) -> MError:
    return MError(
        "DataSource.Error",
        message,
        MRecord({"DataSourceKind": "Web", "DataSourcePath": url, "Url": url}),
    )


def _send(method: str, url: str, headers: dict[str, str], body: bytes | None, timeout: float):  # type: ignore[no-untyped-def]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise expression_error(f"The URL '{url}' isn't valid: Web.Contents takes an absolute http or https URL.")
    conn_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = conn_class(parts.hostname, parts.port, timeout=timeout)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    try:
        conn.request(method, target, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
    except TimeoutError:
        raise _failed(url, f"Web.Contents failed to get contents from '{url}': The operation has timed out.") from None
    except OSError as ex:
        raise _failed(url, f"Web.Contents failed to get contents from '{url}': {ex}") from None
    finally:
        conn.close()
    TRAFFIC.add(method, url, response.status)
    return response, data


@fn("Web.Contents", 1, 2)
def contents(url: Any, options: Any = None) -> MBinary:
    url = need(url, "text")
    options = MRecord({}) if options is None else need(options, "record")
    unknown = [name for name in options.fields if name not in OPTIONS]
    if unknown:
        raise expression_error(f"'{unknown[0]}' isn't a valid Web.Contents option.", options)
    if options.has("ApiKeyName") and options.get("ApiKeyName") is not None:
        raise MError(
            "DataSource.Error",
            "ApiKeyName sends the key of a Web API credential; this evaluator has no credentials to send.",
        )
    full = _url(url, options)
    headers: dict[str, str] = {}
    if options.has("Headers") and options.get("Headers") is not None:
        given = need(options.get("Headers"), "record")
        for name in given.fields:
            value = need(given.get(name), "text")
            if any(c in value for c in "\r\n") or any(c in name for c in "\r\n:"):
                raise expression_error(f"The header '{name}' has a value that cannot be sent.", name)
            headers[name] = value
    body = None
    if options.has("Content") and options.get("Content") is not None:
        body = need(options.get("Content"), "binary").data
    manual = []
    if options.has("ManualStatusHandling") and options.get("ManualStatusHandling") is not None:
        manual = [int(need(s, "number")) for s in need(options.get("ManualStatusHandling"), "list").values()]
    timeout = DEFAULT_TIMEOUT_S
    if options.has("Timeout") and options.get("Timeout") is not None:
        timeout = need(options.get("Timeout"), "duration").total_seconds()
    if options.has("IsRetry") and options.get("IsRetry") is not None:
        need(options.get("IsRetry"), "logical")  # no cache here: every request is sent anyway
    method = "POST" if body is not None else "GET"

    attempt = 0
    target = full
    while True:
        response, data = _send(method, target, headers, body, timeout)
        status = response.status
        if status in (301, 302, 303, 307, 308):
            location = response.getheader("Location")
            if not location:
                raise _failed(full, f"Web.Contents failed to get contents from '{target}' ({status}): no Location.")
            target = urljoin(target, location)
            if status in (301, 302, 303):
                method, body = "GET", None
            continue
        if status in (401, 403):
            raise MError(
                "DataSource.Error",
                "We couldn't authenticate with the credentials provided. Please try again."
                if status == 401
                else "Access to the resource is forbidden.",
                MRecord({"DataSourceKind": "Web", "DataSourcePath": url, "Url": target, "Status": status}),
            )
        if status in AUTO_RETRIED and status not in manual and attempt < MAX_AUTO_RETRIES:
            attempt += 1
            wait = 2.0 ** (attempt - 1)
            given = response.getheader("Retry-After")
            if given and given.strip().isdigit():
                wait = min(max(float(given.strip()), 0.5), 120.0)
            time.sleep(wait)
            continue
        if status >= 400 and status not in manual:
            raise _failed(full, f"Web.Contents failed to get contents from '{target}' ({status}): {response.reason}")
        break
    header_fields: dict[str, Any] = {}
    for name, value in response.getheaders():
        header_fields[name] = f"{header_fields[name]}, {value}" if name in header_fields else value
    meta = MRecord(
        {
            "Content.Type": response.getheader("Content-Type"),
            "Content.Uri": MFunction("Content.Uri", lambda args: target, 0, 0),
            "Content.Name": urlsplit(target).path.rsplit("/", 1)[-1],
            "Headers": MRecord(header_fields),
            "Request.Options": options,
            "Response.Status": status,
        }
    )
    return MBinary(data, meta)


__all__ = ["dt", "force"]
