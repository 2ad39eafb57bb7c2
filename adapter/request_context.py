"""What the adapter knows about the request being answered, for code far from the HTTP layer (the `azureml.*`
shims that log with the request id, such as data collection; the threads that run the script for it).

A context variable, not a thread-local: the runner runs `run()` on another thread inside a copy of the handler's
context (`contextvars.copy_context`), so the values follow the call.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

#: The `x-request-id` the client gets back (its own, or the one generated for it); None outside a request.
request_id: ContextVar[str | None] = ContextVar("adapter_request_id", default=None)
#: The request's `func.Context` (from the worker, or `serve`); None outside an invocation. Code that runs the script
#: on another thread ties that thread to this invocation (`adapter.script.output.in_invocation`).
invocation: ContextVar[Any] = ContextVar("adapter_invocation", default=None)


def current_request_id() -> str | None:
    return request_id.get()
