"""The host's route table for `function_app.py`'s HTTP functions, matched as ASP.NET routing matches them.

Used by the local host (`python -m adapter serve`), so routes, methods and the `host.json` prefix behave as under
`func start`: literal segments are case-insensitive and beat `{param}`, which beats `{*catchall}`; a trailing
slash is ignored.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import azure.functions as func

from adapter.hosting.context import InvocationContext
from adapter.http.methods import ALL_METHODS
from adapter.paths import FUNCTION_APP_ROOT

Handler = Callable[..., Any]


@dataclass(frozen=True)
class Route:
    name: str
    template: str
    methods: frozenset[str]
    handler: Handler

    def call(self, req: func.HttpRequest, context: func.Context | None = None) -> Any:
        """The function, called as the worker calls it: with a `context` when it has that parameter."""
        if self.wants_context:
            return self.handler(req, context=context or InvocationContext(self.name, str(FUNCTION_APP_ROOT)))
        return self.handler(req)

    @functools.cached_property
    def wants_context(self) -> bool:
        return "context" in inspect.signature(self.handler).parameters

    @property
    def segments(self) -> list[str]:
        return [s for s in self.template.split("/") if s]

    def precedence(self) -> tuple[int, ...]:
        return tuple(2 if s.startswith("{*") else 1 if s.startswith("{") else 0 for s in self.segments)

    def match(self, path: str) -> dict[str, str] | None:
        """Route parameters when `path` (no prefix, decoded) fits this template, else None."""
        parts = [p for p in path.split("/") if p]
        params: dict[str, str] = {}
        for i, segment in enumerate(self.segments):
            if segment.startswith("{*"):
                params[segment[2:-1]] = "/".join(parts[i:])
                return params
            if i >= len(parts):
                return None
            if segment.startswith("{"):
                params[segment[1:-1].split(":")[0].rstrip("?")] = parts[i]
            elif segment.lower() != parts[i].lower():
                return None
        return params if len(parts) == len(self.segments) else None


class RouteTable:
    def __init__(self, routes: list[Route], prefix: str) -> None:
        self.prefix = prefix.strip("/")
        self.routes = sorted(routes, key=lambda r: r.precedence())

    @classmethod
    def from_app(cls, app: func.FunctionApp, prefix: str) -> RouteTable:
        """Every HTTP-triggered function of the app, with its route (default: its name) and methods."""
        routes = []
        for function in app.get_functions():
            for binding in function.get_bindings():
                if binding.type != "httpTrigger":
                    continue
                methods = getattr(binding, "methods", None) or ALL_METHODS
                name = str(function.get_function_name())
                template = str(getattr(binding, "route", None) or name)
                routes.append(
                    Route(
                        name,
                        template.strip("/"),
                        frozenset(str(getattr(m, "value", m)).upper() for m in methods),
                        function.get_user_function(),
                    )
                )
        return cls(routes, prefix)

    def resolve(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The best route for this method and decoded path, with its parameters."""
        parts = [p for p in path.split("/") if p]
        prefix = [p for p in self.prefix.split("/") if p]
        if [p.lower() for p in parts[: len(prefix)]] != [p.lower() for p in prefix]:
            return None
        rest = "/".join(parts[len(prefix) :])
        for route in self.routes:
            if method in route.methods:
                params = route.match(rest)
                if params is not None:
                    return route, params
        return None

    def urls(self) -> list[tuple[str, str]]:
        return [(r.name, "/" + "/".join(p for p in (self.prefix, r.template) if p)) for r in self.routes]
