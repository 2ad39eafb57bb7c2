"""Read a `func.HttpRequest` the way Flask would have presented the same request to a score script."""

from __future__ import annotations

import io
import re
import sys
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes, urlsplit

import azure.functions as func
import werkzeug.urls  # noqa: F401  (registers the "werkzeug.url_quote" codec error handler used below)
from werkzeug.datastructures import MultiDict
from werkzeug.http import parse_options_header

from adapter.azureml.aml_request import AMLRequest

FORM_MIMETYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def raw_query(req: func.HttpRequest) -> str:
    """The query string as sent: `req.params` collapses repeated keys, `req.url` keeps them."""
    url: str = req.url
    return url.partition("?")[2].partition("#")[0]


def query_args(req: func.HttpRequest) -> MultiDict[str, str]:
    """`request.args` exactly as werkzeug parses it."""
    return MultiDict(parse_qsl(raw_query(req), keep_blank_values=True, errors="werkzeug.url_quote"))


def mimetype(req: func.HttpRequest) -> str:
    return parse_options_header(req.headers.get("content-type", ""))[0].lower()


def is_json(req: func.HttpRequest) -> bool:
    """werkzeug's `Request.is_json`: `application/json` or `application/*+json`."""
    mt = mimetype(req)
    return mt == "application/json" or (mt.startswith("application/") and mt.endswith("+json"))


def flask_data(req: func.HttpRequest) -> bytes:
    """Flask's `request.data`: empty for form bodies, which Flask parses into `request.form` instead."""
    return b"" if mimetype(req) in FORM_MIMETYPES else req.get_body()


def flask_headers(req: func.HttpRequest) -> dict[str, str]:
    """`dict(flask.request.headers)`: the WSGI environ turns every name into Title-Case (`X-Custom-Header`)."""
    return {name.title(): value for name, value in req.headers.items()}


def remote_addr(req: func.HttpRequest) -> str:
    """The client address as the platform saw it: the LAST entry of X-Forwarded-For, the one the Azure front end
    appends (as `ip:port`, or `[ipv6]:port`). Earlier entries come from the client and anyone can forge them, so
    taking the first would let a caller choose the address a script logs or rate-limits by. The port is dropped:
    a WSGI server's REMOTE_ADDR is the address alone. Empty when there is no such header (a local run)."""
    forwarded: str = req.headers.get("x-forwarded-for", "")
    entry = forwarded.rpartition(",")[2].strip()
    bracketed = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\](?::\d+)?", entry)
    if bracketed:
        return bracketed.group(1)
    host, colon, port = entry.rpartition(":")
    if colon and host.count(".") == 3 and ":" not in host and port.isdigit():  # IPv4 with a port
        return host
    return entry


def wsgi_environ(req: func.HttpRequest) -> dict[str, Any]:
    """A WSGI environ for the request, as a WSGI server would have built it from the same bytes."""
    url = urlsplit(req.url)
    body = req.get_body()
    environ: dict[str, Any] = {
        "REQUEST_METHOD": req.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(url.path or "/").decode("latin-1"),
        "QUERY_STRING": raw_query(req),
        "SERVER_NAME": url.hostname or "localhost",
        "SERVER_PORT": str(url.port or (443 if url.scheme == "https" else 80)),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": remote_addr(req),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": url.scheme or "http",
        # BytesIO shares `body` rather than copying it, and `read()` of all of it returns `body` itself.
        "wsgi.input": io.BytesIO(body),
        # Set by gunicorn (azmlinfsrv's server) too: werkzeug then reads the stream as is, instead of through a
        # LimitedStream that copies the body twice, and still reads chunked bodies (no Content-Length).
        "wsgi.input_terminated": True,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if body or "content-length" in req.headers:
        environ["CONTENT_LENGTH"] = str(len(body))
    for name, value in req.headers.items():
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            environ[key] = value
        elif key != "CONTENT_LENGTH":
            environ["HTTP_" + key] = value
    return environ


def aml_request(req: func.HttpRequest) -> AMLRequest:
    """The `AMLRequest` a `@rawhttp` `run()` receives; built only for such scripts."""
    return AMLRequest(wsgi_environ(req))
