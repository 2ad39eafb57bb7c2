"""Load the entry script (`score.py`) from its file and decide how its `run()` is called.

Import and analysis only: `init()` is the lifecycle's business (`adapter.script.lifecycle`), so describing the API
(swagger) never loads a model.
"""

from __future__ import annotations

import importlib.util
import inspect
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from adapter import paths
from adapter.azureml import aml_request
from adapter.azureml import shim as azureml_shim
from adapter.script import mlflow_process
from adapter.script import output as script_output
from adapter.script.input_parsers import InputParser, JsonStringInput, ObjectInput, RawRequestInput
from adapter.settings import Settings

logger = logging.getLogger("adapter")

MODULE_NAME = "entry_module"


class ScriptError(Exception):
    """The entry script cannot be served as written; the message says why, in the user's terms."""


@dataclass(frozen=True)
class EntryScript:
    module: ModuleType
    init: Callable[[], Any]
    #: The `run()` we call: the inner one when the script is a driver module wrapper.
    run: Callable[..., Any]
    parser: InputParser
    wants_headers: bool
    raw: bool


def prepare_process(settings: Settings) -> None:
    """Make the process look like an AML container: cwd at the app root, source folders importable."""
    paths.pin_app_root(settings.app_root)  # before the chdir, which would change what a relative one means
    os.chdir(settings.app_root)
    for folder in (settings.app_root, settings.source_dir):
        if folder is not None and str(folder) not in sys.path:
            sys.path.append(str(folder))
    # The deployment's model folder, which is the one AZUREML_MODEL_DIR named when it was set.
    if settings.model_dir is not None:
        os.environ["AZUREML_MODEL_DIR"] = str(settings.model_dir)
    else:
        os.environ.pop("AZUREML_MODEL_DIR", None)
    mlflow_process.prepare(settings)  # MLFLOW_MODEL_FOLDER, and MLflow's runs kept out of the app folder
    azureml_shim.install()


def load(settings: Settings) -> EntryScript:
    """Import the script from its path, as azmlinfsrv does (module name `entry_module`, not in `sys.modules`)."""
    prepare_process(settings)
    aml_request.raw_http_requested = False
    _forget_schemas(MODULE_NAME)
    spec = importlib.util.spec_from_file_location(MODULE_NAME, settings.entry_script)
    if spec is None or spec.loader is None:
        raise ScriptError(f"{settings.entry_script} cannot be imported as a Python module.")
    module = importlib.util.module_from_spec(spec)
    module.print = script_output.script_print  # type: ignore[attr-defined]  # its output goes to the Functions log
    spec.loader.exec_module(module)
    for name in ("init", "run"):
        if not callable(getattr(module, name, None)):
            raise ScriptError(f"The entry script {settings.entry_script.name} does not define a {name}() function.")
    run = module.run
    driver = getattr(module, "driver_module", None)
    if isinstance(driver, ModuleType) and callable(getattr(driver, "run", None)):
        # SDK-generated driver scripts forward run() without the schema's arguments: call the real one directly,
        # but keep the driver's init(), which does real work.
        logger.info("Found driver script %s; calling run() of %s", module.__file__, driver.__file__)
        driver.print = script_output.script_print  # type: ignore[attr-defined]
        run = driver.run
    return _analyse(module, run)


def _forget_schemas(module_name: str) -> None:
    """inference-schema records schemas per `module.function` for the life of the process: drop those of an
    earlier load, or re-importing after a failure (or another script, in tests) would clash with them."""
    from inference_schema import schema_util

    for registry in (vars(schema_util)["__functions_schema__"], vars(schema_util)["__versions__"]):
        for name in [n for n in registry if n.startswith(module_name + ".")]:
            del registry[name]


def _analyse(module: ModuleType, run: Callable[..., Any]) -> EntryScript:
    from inference_schema.schema_util import is_schema_decorated

    params = list(inspect.signature(run).parameters.values())
    if any(p.kind not in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) for p in params):
        raise ScriptError("run() cannot accept positional-only arguments, *args, or **kwargs.")
    wants_headers = any(p.name == "request_headers" for p in params)
    params = [p for p in params if p.name != "request_headers"]
    if not params:
        other = ' other than "request_headers"' if wants_headers else " for input data"
        raise ScriptError(f"run() needs to accept an argument{other}.")
    raw = aml_request.raw_http_requested
    decorated = is_schema_decorated(run)
    parser: InputParser
    if raw and decorated:
        raise ScriptError("run() cannot be decorated with both @rawhttp and @input_schema")
    if raw:
        parser = RawRequestInput(params[0].name)
    elif decorated:
        parser = ObjectInput(params)
    else:
        parser = JsonStringInput(params[0].name)
    logger.info("run() will be called with %s", type(parser).__name__)
    return EntryScript(module, module.init, run, parser, wants_headers, raw)
