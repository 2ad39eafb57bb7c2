"""The `func.Context` a function gets under `python -m adapter serve`, as the Python worker gives one per invocation.

`thread_local_storage` is shared by every invocation, as the worker's is: a thread that sets `invocation_id` on it
tags what it logs with that invocation (what `adapter.script.output.in_invocation` does on the threads that run the
script).
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

import azure.functions as func

_STORAGE = threading.local()


class InvocationContext(func.Context):
    def __init__(self, function_name: str, function_directory: str) -> None:
        self._invocation_id = str(uuid.uuid4())
        self._function_name = function_name
        self._function_directory = function_directory

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    def thread_local_storage(self) -> Any:  # typed `type[threading.local]` in azure-functions, an instance in fact
        return _STORAGE

    @property
    def function_name(self) -> str:
        return self._function_name

    @property
    def function_directory(self) -> str:
        return self._function_directory

    @property
    def trace_context(self) -> Any:
        return None

    @property
    def retry_context(self) -> Any:
        return None
