"""A small Python client for the scoring endpoint, with the AML SDK's `Webservice.run` contract.

    from adapter.tools.client import Client
    client = Client("https://<app>.azurewebsites.net/score", key="<function key or AML_SCORING_KEYS key>")
    client.run({"Inputs": {...}, "GlobalParameters": {...}})   # -> the parsed JSON answer
    client.swagger()                                           # -> the Swagger 2.0 document

`run` takes a JSON string or a dict/list, returns the parsed JSON answer and raises `ScoringError` (with the status
and body) on an error answer, as `Webservice.run` raises `WebserviceException`. A cold instance answers 503 while the
script is still starting (and a busy host 429): those are retried with back-off, honouring `Retry-After`. A 503
saying the script failed in its import or `init()` is raised at once: retrying would only hide the error.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any, Literal

import requests

Auth = Literal["auto", "functions", "bearer"]
RETRIED_STATUSES = frozenset({429, 503})
#: Longest pause between attempts, whatever `Retry-After` asks for.
MAX_PAUSE_S = 60.0
#: The 503 message of a script whose import or init() failed (adapter.script.lifecycle); one still starting says
#: "is still starting", a busy runner "run() is still busy".
SCRIPT_FAILED = re.compile(r"The entry script .+ failed in (import|init\(\)): ")


class ScoringError(Exception):
    """The service answered with an error: `status`, `body` (text) and `message` (its JSON `message`, if any)."""

    def __init__(self, status: int, body: str, headers: dict[str, str]) -> None:
        self.status = status
        self.body = body
        self.headers = headers
        self.message = _message(body)
        super().__init__(f"Received bad response from service. Response Code: {status}. Content: {body}")


class Client:
    """Calls `/score` and `/swagger.json` of one deployment.

    `auth` says how the key travels: "functions" (`x-functions-key`, the Function App's keys), "bearer"
    (`Authorization: Bearer`, when the app has `AML_SCORING_KEYS`), or "auto": the Functions header first, and
    bearer from then on if the app answers 401 asking for a bearer key.
    """

    def __init__(
        self,
        scoring_uri: str,
        key: str | None = None,
        *,
        auth: Auth = "auto",
        timeout: float = 300.0,
        retries: int = 6,
        backoff: float = 1.0,
        swagger_uri: str | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if auth not in ("auto", "functions", "bearer"):
            raise ValueError(f"auth must be 'auto', 'functions' or 'bearer', not {auth!r}")
        self.scoring_uri = scoring_uri
        self.swagger_uri = swagger_uri or _beside(scoring_uri, "swagger.json")
        self.key = key
        self.auth = auth
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.session = session or requests.Session()
        self._sleep = sleep

    def run(self, input_data: str | bytes | dict[str, Any] | list[Any]) -> Any:
        """POST the input (a JSON string, or a value to serialise) and return the parsed JSON answer (text when the
        answer is not JSON, as a `@rawhttp` script may send)."""
        body = input_data.encode() if isinstance(input_data, str) else input_data
        if not isinstance(body, bytes):
            body = json.dumps(input_data).encode()
        response = self._send("POST", self.scoring_uri, body)
        try:
            return response.json()
        except ValueError:
            return response.text

    def swagger(self, version: str = "2") -> Any:
        """The service's OpenAPI document (`/swagger.json?version=`): 2, 3 or 3.1."""
        return self._send("GET", self.swagger_uri, None, params={"version": version}).json()

    def _send(self, method: str, url: str, body: bytes | None, params: dict[str, str] | None = None) -> Any:
        attempt = 0
        while True:
            response = self.session.request(
                method, url, data=body, params=params, headers=self._headers(), timeout=self.timeout
            )
            if response.status_code == 401 and self._switch_to_bearer(response):
                continue
            if response.status_code in RETRIED_STATUSES and attempt < self.retries and not _script_failed(response):
                self._sleep(self._pause(response, attempt))
                attempt += 1
                continue
            if not 200 <= response.status_code < 300:
                raise ScoringError(response.status_code, response.text, dict(response.headers))
            return response

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.key:
            if self.auth == "bearer":
                headers["Authorization"] = f"Bearer {self.key}"
            else:
                headers["x-functions-key"] = self.key
        return headers

    def _switch_to_bearer(self, response: requests.Response) -> bool:
        """In "auto" mode, a 401 asking for a bearer key means the app checks `AML_SCORING_KEYS`: use that."""
        challenge = response.headers.get("WWW-Authenticate", "").lower()
        if self.auth == "auto" and self.key and challenge.startswith("bearer"):
            self.auth = "bearer"
            return True
        return False

    def _pause(self, response: requests.Response, attempt: int) -> float:
        """`Retry-After` seconds when the service gives them, else an exponential back-off."""
        try:
            pause = float(response.headers.get("Retry-After", ""))
        except ValueError:
            pause = self.backoff * 2**attempt
        return min(max(pause, 0.0), MAX_PAUSE_S)


def _beside(scoring_uri: str, name: str) -> str:
    """The URL of a sibling route: `.../score?x` -> `.../swagger.json`."""
    base = scoring_uri.split("?", 1)[0].rstrip("/")
    return base.rsplit("/", 1)[0] + "/" + name


def _script_failed(response: requests.Response) -> bool:
    """A 503 saying the entry script failed: it will not heal while we wait (a fix or a new deployment is needed)."""
    message = _message(response.text) if response.status_code == 503 else None
    return message is not None and SCRIPT_FAILED.match(message) is not None


def _message(body: str) -> str | None:
    try:
        document = json.loads(body)
    except ValueError:
        return None
    message = document.get("message") if isinstance(document, dict) else None
    return message if isinstance(message, str) else None
