"""`from azureml.ai.monitoring import Collector` (SDK v2): custom logging of managed online endpoints.

Served as `azureml.ai.monitoring`, `azureml.ai.monitoring.collector` and `azureml.ai.monitoring.context` by
`adapter.azureml.shim`, always (azureml-ai-monitoring sends to the data collector sidecar of an AML deployment,
which a Function App does not have: see `adapter.azureml.data_collection`, which is where the data goes). Same
names, arguments and return values as azureml-ai-monitoring 1.0.0: `Collector(name=..., on_error=...)`,
`collect(data, correlation_context=None)` returns the context to pass to the next `collect` so inputs and outputs
correlate. Unlike AML's, every collection is enabled, data other than a DataFrame is collected too (lists, arrays,
dicts), and nothing raises: an error goes to the log and, if the script gave one, to its `on_error`.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from adapter.azureml.data_collection import Sink, describe

__all__ = ["BasicCorrelationContext", "Collector", "CorrelationContext", "get_context"]

#: A package to the import system, so that `azureml.ai.monitoring.context` (and `.collector`) reach the shim's
#: finder, which serves this same module under those names.
__path__: list[str] = []

logger = logging.getLogger("adapter.datacollection")


class CorrelationContext:
    """What ties the data of several `collect` calls together."""

    @staticmethod
    def get_id() -> str:
        return ""

    def __str__(self) -> str:
        return self.get_id()

    def __repr__(self) -> str:
        return self.__str__()


class BasicCorrelationContext(CorrelationContext):
    def __init__(self, id: str | None = None, timestamp: int | None = None, headers: dict[str, Any] | None = None):  # noqa: A002 - AML's name
        super().__init__()
        self.id = id if id else str(uuid.uuid4())
        self.timestamp = timestamp if timestamp else int(time.time())
        self.headers = headers if headers else {}

    def get_id(self) -> str:  # type: ignore[override]  # AML's base declares it static
        return self.id

    def get_timestamp(self) -> int:
        return self.timestamp

    def get_headers(self) -> dict[str, Any]:
        return self.headers


def get_context() -> CorrelationContext:
    return BasicCorrelationContext()


class Collector:
    """Collects the data of one named collection (e.g. "model_inputs", "model_outputs")."""

    def __init__(self, *, name: str, on_error: Callable[[Exception], Any] | None = None) -> None:
        self.name = name
        self.on_error = on_error
        self._sink = Sink()
        if not name:
            error = ValueError("collection name is not provided")
            logger.warning("Data collection: a Collector without a name collects nothing (%s)", error)
            self._report(error)

    def collect(self, data: Any, correlation_context: CorrelationContext | None = None) -> CorrelationContext:
        """Collect `data` (a pandas DataFrame, or any list, array or dict); returns `correlation_context`, or a new
        one, to pass to the collection of the same request's outputs."""
        context = correlation_context if correlation_context is not None else get_context()
        if not self.name:
            return context
        try:
            correlation_id: str | None = str(context.get_id())
        except Exception as ex:  # noqa: BLE001 - a script's own context class; the data is still worth having
            logger.warning("Data collection for %r: the correlation context has no id: %s", self.name, describe(ex))
            correlation_id = None
        error = self._sink.collect(self.name, data, correlation_id)
        if error is not None:
            self._report(error)
        return context

    def _report(self, error: Exception) -> None:
        """To the script's `on_error`, as AML's collector does, once the error is logged. AML's default raises;
        without one, ours only logs (collection never fails a request)."""
        if self.on_error is None:
            return
        try:
            self.on_error(error)
        except Exception as ex:  # noqa: BLE001
            logger.warning("Data collection for %r: on_error raised %s", self.name, describe(ex))
