"""Errors that carry their HTTP answer: the layer that finds a problem says what the client gets (status, message,
azmlinfsrv's x-ms-run-function-failed flag, Retry-After, any other header it needs), and the pipeline
(adapter.http.pipeline) sends it. At the bottom of the layers, so the script layer can raise them without knowing
about HTTP responses."""

from __future__ import annotations

from collections.abc import Mapping


class HttpError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        failed: bool = False,
        retry_after: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.failed = failed
        self.retry_after = retry_after
        #: Headers the answer carries besides the JSON body's own (the ids a 431 still echoes, say).
        self.headers = dict(headers or {})
