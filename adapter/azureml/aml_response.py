"""`azureml.contrib.services.aml_response`: the response a score script may return.

Same constructor and behaviour as the AML one: a bytes or text body defaults to `text/html`, `json_str=True`
serialises the message, `None` is an empty JSON object, and a header value `"a, b"` becomes two header lines.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from werkzeug.wrappers import Response

FAILED_HEADER = "x-ms-run-function-failed"


class AMLResponse(Response):
    """A werkzeug response that defaults to `text/html`, as Flask's does."""

    default_mimetype = "text/html"

    def __init__(
        self,
        message: Any,
        status_code: int,
        response_headers: Mapping[str, str] | None = None,
        json_str: bool = False,
        run_function_failed: bool = False,
    ) -> None:
        headers = response_headers or {}
        if message is None:
            super().__init__(json.dumps({}), status=status_code, mimetype="application/json")
        elif json_str:
            super().__init__(json.dumps(message), status=status_code, mimetype="application/json")
        else:
            super().__init__(message, status=status_code)
            if "Content-Type" in headers:
                self.headers.remove("Content-Type")
        self.headers[FAILED_HEADER] = str(run_function_failed)
        for name, value in headers.items():
            for part in value.split(","):
                self.headers.add_header(name, part.strip())
