"""`/swagger.json`: the OpenAPI document of the entry script, as azmlinfsrv 1.5.1 serves it, for this deployment.

One builder per document version (2, 3, 3.1), each with the `?version=` values it answers to and the user files in
`AML_APP_ROOT` that replace it. A generated document comes from inference-schema's records of the decorated `run()`
(or an empty object schema for an undecorated one), in azmlinfsrv's structure, with the paths under the prefix the
app really has and the auth it really uses (`swagger_templates`), and schemas made valid (`swagger_fixups`).

Describing the API only imports the script: `init()` never runs for it. The documents are built once per process.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from adapter import host_config, paths
from adapter.openapi.fixups import fix_schema
from adapter.openapi.templates import BEARER_SCHEMES, FUNCTIONS_KEY_SCHEMES, Describe, JsonObject, openapi2, openapi3
from adapter.paths import FUNCTION_APP_ROOT
from adapter.settings import Settings

if TYPE_CHECKING:
    from adapter.script.entry_script import EntryScript

logger = logging.getLogger("adapter")

DEFAULT_VERSION = "2"
#: What an undecorated `run()` takes and returns, as far as a schema can tell.
UNDESCRIBED: JsonObject = {"type": "object", "example": {}}


class SwaggerNotFound(Exception):
    """No document for the requested version (404): not a version at all, or not one this script can have."""


class UserSwaggerError(Exception):
    """A user's swagger file cannot be served (500); the message names it."""


@dataclass(frozen=True)
class Builder:
    version: str
    #: The `?version=` values it answers.
    aliases: frozenset[str]
    #: User files in AML_APP_ROOT that replace the generated document, the first found wins.
    user_files: tuple[str, ...]
    #: The inference-schema version name (`get_supported_versions`) that must be supported to generate.
    schema_version: str
    generate: Callable[[Describe, Any, Any], JsonObject]


BUILDERS = (
    Builder("2", frozenset({"2", "2.0"}), ("swagger.json", "swagger2.json"), "2.0", openapi2),
    Builder("3", frozenset({"3", "3.0"}), ("swagger3.json",), "3.0", lambda d, i, o: openapi3(d, i, o, "3.0.3")),
    Builder("3.1", frozenset({"3.1"}), ("swagger3.1.json",), "3.1", lambda d, i, o: openapi3(d, i, o, "3.1.0")),
)


def _builder(version: str) -> Builder | None:
    return next((b for b in BUILDERS if version in b.aliases), None)


def user_document(settings: Settings, version: str) -> Any:
    """The user's document replacing the one for `version` (a `?version=` value), parsed; None when there is none."""
    builder = _builder(version)
    return None if builder is None else _read_user_file(settings, builder)


def _read_user_file(settings: Settings, builder: Builder) -> Any:
    """The first of the builder's files in AML_APP_ROOT holding something: azmlinfsrv skips `{}`, `[]` and `null`.

    Served anonymously, so a file is refused when it leads outside the app root (a symlink) or is not a regular
    file (a FIFO would hang the request in `open()`, a device could be endless: neither is opened), and it must be
    JSON that clients can parse: UTF-8, not nested beyond the parser, without NaN or Infinity (which `json` reads but
    no JSON client does).
    """
    for name in builder.user_files:
        path = settings.app_root / name
        try:
            if not path.resolve().is_relative_to(settings.app_root.resolve()):
                raise UserSwaggerError(f"{name} in AML_APP_ROOT leads outside it (a symlink); it is not served.")
            text = paths.read_regular_file(path).decode("utf-8-sig")
            document = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
        except FileNotFoundError:
            continue
        except paths.NotARegularFile as ex:
            raise UserSwaggerError(f"{name} in AML_APP_ROOT is not a regular file: it is {ex.kind}.") from None
        except OSError as ex:
            raise UserSwaggerError(f"{name} in AML_APP_ROOT cannot be read: {ex.strerror}.") from None
        except UnicodeDecodeError as ex:
            raise UserSwaggerError(
                f"{name} in AML_APP_ROOT is not UTF-8 text: {ex.reason} at byte {ex.start}."
            ) from None
        except RecursionError:
            raise UserSwaggerError(f"{name} in AML_APP_ROOT is nested too deeply to be parsed.") from None
        except ValueError as ex:
            raise UserSwaggerError(f"{name} in AML_APP_ROOT is not valid JSON: {str(ex).rstrip('.')}.") from None
        if document:
            logger.info("Swagger version %s is the user's %s", builder.version, path)
            return document
    return None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _finite_float(text: str) -> float:
    """A number as `json` reads it, but one too large for a float (`1e999`) is refused: it would be sent back as
    `Infinity`, which is not JSON."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range for a JSON number")
    return value


def describe(settings: Settings, route_prefix: str | None = None) -> Describe:
    """This deployment: the service's name and version, where its routes are, which keys `/score` takes.

    `route_prefix` defaults to host.json's `routePrefix`; `SERVICE_PATH_PREFIX` (a gateway's path in front of the
    app) comes before it.
    """
    prefix = host_config.route_prefix(FUNCTION_APP_ROOT) if route_prefix is None else route_prefix
    segments = [s for s in (settings.service_path_prefix.strip("/"), prefix.strip("/")) if s]
    return Describe(
        title=settings.service_name,
        version=settings.service_version,
        path_prefix="/" + "/".join(segments) if segments else "",
        security_schemes=BEARER_SCHEMES if settings.scoring_keys else FUNCTIONS_KEY_SCHEMES,
    )


class Documents:
    """Every version's document for one script, built on first use and kept; a failed build is not kept."""

    def __init__(self, settings: Settings, script: Callable[[], EntryScript], route_prefix: str | None = None) -> None:
        self.settings = settings
        self._script = script
        self._route_prefix = route_prefix
        self._lock = threading.Lock()
        self._built: dict[str, JsonObject | None] | None = None
        self._failure: UserSwaggerError | None = None

    def get(self, version: str) -> JsonObject:
        """The document for a `?version=` value; `SwaggerNotFound` with azmlinfsrv's message when there is none."""
        built = self._build()
        supported = ", ".join(sorted(v for v, document in built.items() if document is not None))
        builder = _builder(version)
        if builder is None:
            raise SwaggerNotFound(f"Swagger version [{version}] is not valid. Supported versions: [{supported}].")
        document = built[builder.version]
        if document is None:
            raise SwaggerNotFound(
                f"Swagger version [{version}] is not supported for the scoring script. "
                f"Supported swagger versions: [{supported}]."
            )
        return document

    def _build(self) -> dict[str, JsonObject | None]:
        """Built once; a user file that cannot be served fails every later request the same way, without being read
        again (it may be large). A script that cannot be imported yet is retried on the next request."""
        with self._lock:
            if self._failure is not None:
                raise self._failure
            if self._built is None:
                try:
                    self._built = {b.version: _read_user_file(self.settings, b) or self._generate(b) for b in BUILDERS}
                except UserSwaggerError as ex:
                    self._failure = ex
                    raise
                available = [v for v, document in self._built.items() if document is not None]
                logger.info("Swagger documents ready for versions [%s]", ", ".join(available))
            return self._built

    def _generate(self, builder: Builder) -> JsonObject | None:
        from inference_schema.schema_util import (
            get_input_schema,
            get_output_schema,
            get_supported_versions,
            is_schema_decorated,
        )

        run = self._script().run
        if builder.schema_version not in get_supported_versions(run):
            return None
        if is_schema_decorated(run):
            service_input, service_output = get_input_schema(run), get_output_schema(run)
        else:
            service_input = service_output = UNDESCRIBED
        empty_required_allowed = builder.version == "3.1"
        return builder.generate(
            describe(self.settings, self._route_prefix),
            fix_schema(copy.deepcopy(service_input), empty_required_allowed=empty_required_allowed),
            fix_schema(copy.deepcopy(service_output), empty_required_allowed=empty_required_allowed),
        )


def build(
    settings: Settings, script: EntryScript, version: str = DEFAULT_VERSION, *, route_prefix: str | None = None
) -> JsonObject:
    """The document `/swagger.json?version=<version>` serves for this script, without serving it (a copy: change it
    freely). Raises `SwaggerNotFound` or `UserSwaggerError` with the message the route would answer."""
    return copy.deepcopy(Documents(settings, lambda: script, route_prefix).get(version))
