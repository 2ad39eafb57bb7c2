"""The skeletons of the documents `/swagger.json` serves: OpenAPI 2.0 and 3.x, in azmlinfsrv 1.5.1's structure.

Same operation ids, descriptions, definitions and key order as the AML server's documents, so clients generated from
either are the same; what differs is what describes this app (paths under its real prefix, its real auth), given by
`Describe`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

JsonObject = dict[str, Any]

HEALTH_DESCRIPTION = "Simple health check endpoint to ensure the service is up at any given point."
HEALTHY_DESCRIPTION = "If service is up and running, this response will be returned with the content 'Healthy'"
SCORE_DESCRIPTION = "Run web service's model and get the prediction output"
PAYLOAD_DESCRIPTION = "The input payload for executing the real-time machine learning service."
RESULT_DESCRIPTION = "The service processed the input correctly and provided a result prediction, if applicable."
ERROR_DESCRIPTION = "The service failed to execute due to an error."
ERROR_SCHEMA: JsonObject = {"type": "object", "properties": {"message": {"type": "string"}}}

#: AML's key scheme: the client sends `Authorization: Bearer <key>` (used when `AML_SCORING_KEYS` is set).
BEARER_SCHEMES: JsonObject = {
    "Bearer": {"type": "apiKey", "name": "Authorization", "in": "header", "description": "For example: Bearer abc123"}
}
#: The Functions host's keys (the `FUNCTION` auth level): a header, or the `code` query parameter.
FUNCTIONS_KEY_SCHEMES: JsonObject = {
    "FunctionsKey": {
        "type": "apiKey",
        "name": "x-functions-key",
        "in": "header",
        "description": "A function key or host key of the Function App.",
    },
    "FunctionsKeyQuery": {
        "type": "apiKey",
        "name": "code",
        "in": "query",
        "description": "The same key as a query parameter, for clients that cannot set headers.",
    },
}


@dataclass(frozen=True)
class Describe:
    """What a document says about this deployment."""

    title: str
    version: str
    #: Put before every path: "" or "/segment[/segment...]".
    path_prefix: str
    #: The security schemes `/score` accepts, any one of them (`BEARER_SCHEMES` or `FUNCTIONS_KEY_SCHEMES`).
    security_schemes: JsonObject

    @property
    def info(self) -> JsonObject:
        return {
            "title": self.title,
            "description": f"API specification for the Azure Machine Learning service {self.title}",
            "version": self.version,
        }

    @property
    def security(self) -> list[JsonObject]:
        return [{name: []} for name in self.security_schemes]


def _paths(
    describe: Describe,
    error: JsonObject,
    healthy: JsonObject,
    score_input: JsonObject,
    result: JsonObject,
    version_parameter: JsonObject,
    specification: JsonObject,
) -> JsonObject:
    """The three paths in azmlinfsrv's order and key order; each OpenAPI version gives the parts it writes its own
    way (`score_input`: the body as `parameters` in 2.0, `requestBody` in 3.x)."""
    p = describe.path_prefix

    def responses(ok: JsonObject) -> JsonObject:
        return {"200": ok, "default": error}

    return {
        f"{p}/": {
            "get": {
                "operationId": "ServiceHealthCheck",
                "description": HEALTH_DESCRIPTION,
                "responses": responses(healthy),
            }
        },
        f"{p}/score": {
            "post": {
                "operationId": "RunMLService",
                "description": SCORE_DESCRIPTION,
                "security": describe.security,
                **score_input,
                "responses": responses(result),
            }
        },
        f"{p}/swagger.json": {
            "get": {
                "operationId": "GetSwaggerSpec",
                "description": "Get the Swagger specification.",
                "parameters": [{"name": "version", "in": "query", "required": False, **version_parameter}],
                "responses": responses(specification),
            }
        },
    }


def openapi2(describe: Describe, service_input: Any, service_output: Any) -> JsonObject:
    ref = "#/definitions/"
    body = {"name": "serviceInputPayload", "in": "body", "description": PAYLOAD_DESCRIPTION}
    return {
        "swagger": "2.0",
        "info": describe.info,
        "schemes": ["https"],
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "securityDefinitions": describe.security_schemes,
        "paths": _paths(
            describe,
            error={"description": ERROR_DESCRIPTION, "schema": {"$ref": ref + "ErrorResponse"}},
            healthy={
                "description": HEALTHY_DESCRIPTION,
                "schema": {"type": "string"},
                "examples": {"application/json": "Healthy"},
            },
            score_input={"parameters": [{**body, "schema": {"$ref": ref + "ServiceInput"}}]},
            result={"description": RESULT_DESCRIPTION, "schema": {"$ref": ref + "ServiceOutput"}},
            version_parameter={"type": "integer", "enum": [2, 3]},
            specification={"description": "The Swagger specification.", "schema": {"type": "string"}},
        ),
        "definitions": {"ServiceInput": service_input, "ServiceOutput": service_output, "ErrorResponse": ERROR_SCHEMA},
    }


def openapi3(describe: Describe, service_input: Any, service_output: Any, openapi: str) -> JsonObject:
    """OpenAPI 3.0 (`openapi="3.0.3"`) or 3.1 (`"3.1.0"`): one structure, as azmlinfsrv serves both.

    Unlike azmlinfsrv there is no document-wide `security`: the health and swagger routes are anonymous here, and
    `/score` names its schemes itself.
    """
    ref = "#/components/schemas/"

    def content(media_type: str, schema: JsonObject) -> JsonObject:
        return {media_type: {"schema": schema}}

    return {
        "openapi": openapi,
        "info": describe.info,
        "paths": _paths(
            describe,
            error={
                "description": ERROR_DESCRIPTION,
                "content": content("application/json", {"$ref": ref + "ErrorResponse"}),
            },
            healthy={
                "description": HEALTHY_DESCRIPTION,
                "content": content("text/plain", {"type": "string", "example": "Healthy"}),
            },
            score_input={
                "requestBody": {
                    "description": PAYLOAD_DESCRIPTION,
                    "content": content("application/json", {"$ref": ref + "ServiceInput"}),
                }
            },
            result={
                "description": RESULT_DESCRIPTION,
                "content": content("application/json", {"$ref": ref + "ServiceOutput"}),
            },
            version_parameter={"schema": {"type": "integer", "enum": [2, 3]}},
            specification={
                "description": "The Swagger specification.",
                "content": content("text/plain", {"type": "string"}),
            },
        ),
        "components": {
            "schemas": {"ServiceInput": service_input, "ServiceOutput": service_output, "ErrorResponse": ERROR_SCHEMA},
            "securitySchemes": describe.security_schemes,
        },
    }
