"""Request-id headers exactly as azmlinfsrv handles them, so clients can correlate calls across the move."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from werkzeug.datastructures import Headers

from adapter.errors import HttpError

HEADER_LIMIT = 100


class HeaderTooLong(HttpError):
    """An id header is over 100 characters: azmlinfsrv's 431, echoing the ids accepted before it (`partial`)."""

    def __init__(self, message: str, partial: RequestIds) -> None:
        super().__init__(431, message, headers=partial.echoed())
        self.partial = partial


@dataclass(frozen=True)
class RequestIds:
    request_id: str = ""
    legacy_client_request_id: str = ""
    client_request_id: str = ""
    trace_id: str | None = None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RequestIds:
        trace_id = headers.get("traceid")
        request_id = headers.get("x-request-id")
        if request_id is None:
            request_id = str(uuid.uuid4())
        if len(request_id) > HEADER_LIMIT:
            raise HeaderTooLong(f"x-request-id must not exceed {HEADER_LIMIT} characters", cls(trace_id=trace_id))
        # x-ms-request-id is the legacy name for the client request id; it always gets a value.
        legacy = headers.get("x-ms-request-id", "")
        client = headers.get("x-ms-client-request-id", "")
        if legacy:
            client = client or legacy
        else:
            legacy = client or request_id
        if len(legacy) > HEADER_LIMIT or len(client) > HEADER_LIMIT:
            raise HeaderTooLong(
                f"x-ms-request-id and x-ms-client-request-id must not exceed {HEADER_LIMIT} characters",
                cls(request_id=request_id, trace_id=trace_id),
            )
        return cls(request_id, legacy, client, trace_id)

    def echoed(self) -> dict[str, str]:
        """The ids a response echoes."""
        headers = {
            name: value
            for name, value in (
                ("x-request-id", self.request_id),
                ("x-ms-request-id", self.legacy_client_request_id),
                ("x-ms-client-request-id", self.client_request_id),
            )
            if value
        }
        if self.trace_id is not None:
            headers["TraceId"] = self.trace_id
        return headers

    def apply(self, headers: Headers) -> None:
        """Echo the ids on a response's headers."""
        for name, value in self.echoed().items():
            headers[name] = value
