"""Azure Functions entry point (Python v2 model): wires the AML-compatible routes to the adapter.

Keep this import cheap: the worker imports it while indexing; the entry script loads on the first request.
"""

import azure.functions as func

from adapter.http import handlers
from adapter.http.auth import host_auth_level
from adapter.http.methods import ALL_METHODS

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="score", methods=ALL_METHODS, auth_level=host_auth_level())
def score(req: func.HttpRequest) -> func.HttpResponse:
    return handlers.score(req)


@app.route(route="/", methods=ALL_METHODS)
def health(req: func.HttpRequest) -> func.HttpResponse:
    return handlers.health(req)


@app.route(route="swagger.json", methods=ALL_METHODS)
def swagger(req: func.HttpRequest) -> func.HttpResponse:
    return handlers.swagger(req)


@app.route(route="{*path}", methods=ALL_METHODS)
def not_found(req: func.HttpRequest) -> func.HttpResponse:
    return handlers.not_found(req)
