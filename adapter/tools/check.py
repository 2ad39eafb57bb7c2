"""`python -m adapter check`: will the app start and answer once published? One command to run before
`func azure functionapp publish`.

It does locally what the Function App will do: import the entry script, run `init()` against the bundled models,
send `run()` the swagger example, build the swagger documents; then it checks what the deployment is made of
(requirements.txt, .funcignore, size, Python version). Exit code 1 when a step fails, 0 otherwise (warnings too).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from adapter import host_config, models
from adapter.paths import FUNCTION_APP_ROOT
from adapter.settings import ConfigError, Settings
from adapter.tools import check_imports, check_package
from adapter.tools.check_report import Outcome, Reporter, captured

if TYPE_CHECKING:
    from adapter.script.entry_script import EntryScript

ADAPTER_DIR = Path(__file__).resolve().parent
OUTPUT_LINES = 10
MODEL_DIR_ENTRIES = 10
EXCERPT = 160


@dataclass
class _State:
    root: Path
    settings: Settings | None = None
    script: EntryScript | None = None
    ready: bool = False
    #: The script's own prints and log lines, shown when its step fails.
    output: io.StringIO = field(default_factory=io.StringIO)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    commands.add_parser("check", help="check the app before publishing: imports, init(), run(), package")


def main(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    return run(FUNCTION_APP_ROOT, out)


def run(root: Path, out: TextIO, err: TextIO = sys.stderr) -> int:
    applied = host_config.load_local_settings(root)
    print(f"Checking the function app in {root} before publishing", file=out)
    if applied:
        print(f"(local.settings.json sets {', '.join(sorted(applied))})", file=out)
    print(file=out)
    state = _State(root)
    steps: list[tuple[str, Callable[[_State], Outcome]]] = [
        ("Python version", lambda s: check_package.python_version()),
        ("configuration", _configuration),
        ("models bundle", _models),
        ("entry script imports", _import),
        ("init()", _init),
        ("run() answers the example", _run_example),
        ("swagger documents", _swagger),
        ("Power BI shape", _powerbi),
        ("requirements.txt", _requirements),
        (".funcignore", _funcignore),
        ("package", lambda s: check_package.package(s.root)),
    ]
    reporter = Reporter(out, len(steps))
    for title, step in steps:
        reporter.run(title, functools.partial(step, state))
    return reporter.finish()


def _configuration(state: _State) -> Outcome:
    try:
        state.settings = settings = Settings.from_env()
    except ConfigError as ex:
        return Outcome.fail(str(ex))
    where = _shown(settings.entry_script, state.root)
    if not settings.entry_script.is_relative_to(state.root):
        return Outcome.fail(f"the entry script {where} is outside {state.root}, so it would not be published")
    return Outcome.ok(f"entry script {where}")


def _models(state: _State) -> Outcome:
    if state.settings is None:
        return Outcome.skip("no valid configuration")
    bundle = models.scan(state.settings.app_root / models.BUNDLE)
    listed = ", ".join(f"{e.model.name} {e.model.version} ({models.human_size(e.size)})" for e in bundle.versions)
    user_dir = os.environ.get("AZUREML_MODEL_DIR")
    where = (
        f"AZUREML_MODEL_DIR is set to {user_dir}." if user_dir else models.describe_model_dir(state.settings.app_root)
    )
    if bundle.problems:
        return Outcome.fail(f"{len(bundle.problems)} problem(s) in {models.BUNDLE}/", *bundle.problems, where)
    if user_dir and not Path(user_dir).resolve().is_relative_to(state.root):
        return Outcome.warn(f"AZUREML_MODEL_DIR={user_dir} is not in the package", "It must exist on the Function App.")
    summary = listed or "none bundled"
    if bundle.warnings:
        return Outcome.warn(summary, *bundle.warnings, where)
    return Outcome.ok(summary, where)


def _import(state: _State) -> Outcome:
    from adapter.script import entry_script

    if state.settings is None:
        return Outcome.skip("no valid configuration")
    settings = state.settings
    with _captured(state), _timed() as elapsed:
        try:
            state.script = entry_script.load(settings)
        except entry_script.ScriptError as ex:
            return Outcome.fail(str(ex))
        except KeyboardInterrupt:
            raise
        except BaseException as ex:  # whatever the script raises, even SystemExit, is its failure
            return _failure(state, "importing it raised", ex)
    return Outcome.ok(f"{settings.entry_script.name} in {_duration(elapsed())}")


def _init(state: _State) -> Outcome:
    if state.script is None:
        return Outcome.skip("the entry script did not import")
    with _captured(state), _timed() as elapsed:
        try:
            state.script.init()
        except KeyboardInterrupt:
            raise
        except BaseException as ex:
            return _failure(state, "raised", ex)
    state.ready = True
    return Outcome.ok(f"in {_duration(elapsed())}")


def _run_example(state: _State) -> Outcome:
    from inference_schema.schema_util import get_input_schema, is_schema_decorated

    from adapter.hosting import wire
    from adapter.http.responses import from_run_output
    from adapter.script import request_conversion
    from adapter.script.input_parsers import InputError
    from adapter.script.runner import Runner

    script, settings = state.script, state.settings
    if script is None or settings is None or not state.ready:
        return Outcome.skip("init() did not succeed")
    if script.raw or not is_schema_decorated(script.run):
        return Outcome.skip("run() has no @input_schema, so no example to send")
    example = get_input_schema(script.run).get("example")
    if example is None:
        return Outcome.skip("the input schema has no example")
    body = json.dumps(example).encode()
    headers = [("Host", "localhost"), ("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    request = wire.build_request("POST", "/score", headers, body, ("localhost", 80))
    try:
        kwargs = script.parser(request)
    except InputError as ex:
        return Outcome.fail(f"the example is refused ({ex.status}): {ex}", _excerpt(body))
    if script.wants_headers:
        kwargs["request_headers"] = request_conversion.flask_headers(request)
    with _captured(state):
        try:
            output, elapsed_ms = Runner(settings.scoring_timeout_ms, 1).call(script.run, kwargs)
            response = from_run_output(output)
        except KeyboardInterrupt:
            raise
        except BaseException as ex:
            return _failure(state, "raised", ex)
    answer = _excerpt(response.get_body())
    if response.status_code >= 400:
        return Outcome.fail(f"run() answered {response.status_code}: {answer}")
    return Outcome.ok(f"{response.status_code} in {_duration(elapsed_ms / 1000)}: {answer}")


def _swagger(state: _State) -> Outcome:
    from adapter.openapi import swagger

    if state.script is None or state.settings is None:
        return Outcome.skip("the entry script did not import")
    built, missing = [], []
    for builder in swagger.BUILDERS:
        try:
            swagger.build(state.settings, state.script, builder.version)
            built.append(builder.version)
        except swagger.SwaggerNotFound:
            missing.append(builder.version)
        except swagger.UserSwaggerError as ex:
            return Outcome.fail(str(ex))
    if not built:
        return Outcome.fail("no swagger document can be built for this script")
    unavailable = f"; not {', '.join(missing)} (inference-schema cannot describe it)" if missing else ""
    return Outcome.ok(f"versions {', '.join(built)}{unavailable}")


def _powerbi(state: _State) -> Outcome:
    from adapter.openapi import powerbi

    if state.script is None or state.settings is None:
        return Outcome.skip("the entry script did not import")
    problems = powerbi.problems(state.settings, state.script)
    if problems:
        return Outcome.warn("Power BI cannot call it as it is (fine if no one uses Power BI)", *problems)
    return Outcome.ok("Power BI can call it")


def _requirements(state: _State) -> Outcome:
    if state.settings is None:
        return Outcome.skip("no valid configuration")
    local = [state.settings.app_root] + ([state.settings.source_dir] if state.settings.source_dir else [])
    return check_imports.check(state.root, state.settings.entry_script, local)


def _funcignore(state: _State) -> Outcome:
    settings = state.settings
    entry = settings.entry_script if settings else state.root / "score.py"
    return check_package.funcignore(state.root, entry, settings.app_root if settings else state.root)


def _failure(state: _State, what: str, ex: BaseException) -> Outcome:
    """The exception in the user's terms: what, where in their code, and their output just before."""
    details = []
    frames = [
        f
        for f in traceback.extract_tb(ex.__traceback__)
        if Path(f.filename).is_relative_to(state.root)
        and not Path(f.filename).is_relative_to(ADAPTER_DIR)
        and "site-packages" not in f.filename
    ]
    if frames:
        frame = frames[-1]
        details.append(f"at {_shown(Path(frame.filename), state.root)}, line {frame.lineno}, in {frame.name}")
    if isinstance(ex, ModuleNotFoundError):
        details.append(f"Install what provides {ex.name!r} and list it in requirements.txt, which Azure installs.")
    elif isinstance(ex, OSError) or type(ex).__name__ in ("WebserviceException", "ModelNotFoundException"):
        details.append(_model_dir_listing())
    output = state.output.getvalue().splitlines()[-OUTPUT_LINES:]
    if output:
        details += ["its output:", *(f"  {line}" for line in output)]
    return Outcome.fail(f"{what} {type(ex).__name__}: {ex}", *details)


def _model_dir_listing() -> str:
    model_dir = os.environ.get("AZUREML_MODEL_DIR")
    if model_dir is None:
        return "AZUREML_MODEL_DIR is not set: there is no models/ folder."
    held = sorted(os.listdir(model_dir)) if os.path.isdir(model_dir) else None
    shown = "which does not exist" if held is None else f"holding {', '.join(held[:MODEL_DIR_ENTRIES]) or 'nothing'}"
    more = ", ..." if held and len(held) > MODEL_DIR_ENTRIES else ""
    return f"AZUREML_MODEL_DIR is {model_dir}, {shown}{more}; `python -m adapter models list` shows the bundle."


@contextlib.contextmanager
def _captured(state: _State) -> Iterator[None]:
    """Keep the script's output off the progress display, to show it when its step fails."""
    state.output = io.StringIO()
    with captured(state.output):
        yield


@contextlib.contextmanager
def _timed() -> Iterator[Callable[[], float]]:
    started = time.perf_counter()
    yield lambda: time.perf_counter() - started


def _shown(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def _duration(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _excerpt(body: bytes) -> str:
    text = body.decode("utf-8", "replace")
    return text if len(text) <= EXCERPT else text[: EXCERPT - 3] + "..."
