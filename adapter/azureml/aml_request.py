"""`azureml.contrib.services.aml_request`: what a `@rawhttp` score script imports.

Served under that name by `adapter.azureml.shim`, so scripts work with or without `azureml-contrib-services`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from werkzeug.wrappers import Request

F = TypeVar("F", bound=Callable[..., object])

#: Set when a script applies `@rawhttp`; like azmlinfsrv, that makes the whole script raw. Reset before each load.
raw_http_requested = False


def rawhttp(func: F) -> F:
    """Ask for `run()` to receive the whole HTTP request as an `AMLRequest`."""
    global raw_http_requested
    raw_http_requested = True
    return func


class AMLRequest(Request):
    """The request a `@rawhttp` `run()` receives: a werkzeug request, as Flask's request is."""
