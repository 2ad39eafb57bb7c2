"""`python -m adapter check`: will the app start and answer once published? One command to run before
`func azure functionapp publish`.

It does locally what the Function App will do: import the entry script, run `init()` against the bundled models,
send `run()` the swagger example, build the swagger documents; meanwhile it watches what the script's code loads,
warns and writes (`watch.py`). Then it checks what the deployment is made of: the settings that stay behind,
requirements.txt (against the imports and the modules seen loaded), wheels for the Function App's Python
(`wheels`), .funcignore, size, Python version. Exit code 1 when a step fails, 0 otherwise (warnings too).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib.util
import io
import json
import os
import re
import shlex
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from adapter import models
from adapter.paths import FUNCTION_APP_ROOT
from adapter.settings import ConfigError, Settings
from adapter.tools import terminal
from adapter.tools.check import distributions, environment, local_settings, target, wheels
from adapter.tools.check import imports as check_imports
from adapter.tools.check import mlflow as check_mlflow
from adapter.tools.check import package as check_package
from adapter.tools.check import pickles as check_pickles
from adapter.tools.check import probe as check_probe
from adapter.tools.check import watch as check_watch
from adapter.tools.check.report import Outcome, Reporter, Status, captured, guarded

if TYPE_CHECKING:
    import azure.functions as func

    from adapter.script.entry_script import EntryScript

#: The adapter package: its frames are not the script's.
ADAPTER_DIR = Path(__file__).resolve().parents[2]
OUTPUT_LINES = 10
MODEL_DIR_ENTRIES = 10
EXCERPT = 160
#: The import step's name in what the watch reports ("the import loaded ...").
IMPORT = "the import"


@dataclass
class _State:
    root: Path
    settings: Settings | None = None
    script: EntryScript | None = None
    ready: bool = False
    #: The script's own prints and log lines, shown when its step fails.
    output: io.StringIO = field(default_factory=io.StringIO)
    #: The Function App's Python version ("3.13"), for the wheels.
    python: str = field(default_factory=wheels.default_python)
    check_wheels: bool = True
    #: Settings `local.settings.json` put into the environment.
    applied: list[str] = field(default_factory=list)
    #: Settings of local.settings.json left out of the environment (`local_settings.reason`), with their values.
    withheld: dict[str, str] = field(default_factory=dict)
    #: What the script's code loaded, warned and wrote while it ran; None until the import step.
    watch: check_watch.Watch | None = None
    #: Run the script in the environment built from requirements.txt.
    isolated: bool = False
    #: That environment's process, running the script's steps.
    probe: check_probe.Probe | None = None
    #: Seconds each of the script's steps may take there.
    step_timeout: float = check_probe.STEP_TIMEOUT_S


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    check = commands.add_parser("check", help="check the app before publishing: imports, init(), run(), package")
    check.add_argument(
        "--python",
        type=_python_version,
        default=None,
        help="the Function App's Python version (default: the one import chose, else this Python's, "
        f"{wheels.default_python()})",
    )
    check.add_argument(
        "--no-wheels", action="store_true", help="skip asking the package index for wheels (offline, or in a hurry)"
    )
    check.add_argument(
        "--here",
        action="store_true",
        help="run the script in this Python environment instead of one built from requirements.txt alone",
    )
    check.add_argument(
        "--step-timeout",
        type=_seconds,
        default=check_probe.STEP_TIMEOUT_S,
        metavar="SECONDS",
        help="how long each of the script's steps (import, init(), run()) may take in the environment built from "
        f"requirements.txt before the check stops it (default {check_probe.STEP_TIMEOUT_S:g})",
    )
    check.add_argument("--probe-fd", type=int, default=None, help=argparse.SUPPRESS)


def main(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    if args.probe_fd is not None:
        return probe_child(FUNCTION_APP_ROOT, args.probe_fd, args.python or wheels.default_python())
    return run(
        FUNCTION_APP_ROOT, out, python=args.python, check_wheels=not args.no_wheels, isolated=not args.here,
        step_timeout=args.step_timeout,
    )  # fmt: skip


#: The steps that run the script's code: in the environment built from requirements.txt (`probe`), or here.
SCRIPT_STEPS: list[tuple[str, Callable[[_State], Outcome]]] = []


def run(
    root: Path,
    out: TextIO,
    err: TextIO = sys.stderr,
    *,
    python: str | None = None,
    check_wheels: bool = True,
    isolated: bool = False,
    step_timeout: float = check_probe.STEP_TIMEOUT_S,
) -> int:
    """The check of the app in `root`; `isolated`: the script runs in an environment built from requirements.txt
    alone, for the Function App's Python (else in this process)."""
    applied, withheld = local_settings.load(root)
    python, chosen = target.function_app_python(root, python)
    print(f"Checking the function app in {root} before publishing, for Python {python} ({chosen})", file=out)
    if applied:
        print(terminal.escape(f"(local.settings.json sets {', '.join(sorted(applied))})"), file=out)
    for line in local_settings.describe(list(withheld)):
        print(terminal.escape(line), file=out)
    print(file=out)
    state = _State(
        root, python=python, check_wheels=check_wheels, applied=applied, isolated=isolated, step_timeout=step_timeout,
        withheld=withheld,
    )  # fmt: skip
    if isolated:  # the script's steps read the settings in the environment; the package steps need them here
        with contextlib.suppress(ConfigError):
            state.settings = Settings.from_env()
    steps: list[tuple[str, Callable[[_State], Outcome]]] = [
        ("Python version", _python),
        ("app settings", _app_settings),
    ]
    if isolated:
        steps.append(("environment from requirements.txt", _environment))
        steps += [(title, functools.partial(_from_probe, title=title)) for title, _ in SCRIPT_STEPS]
    else:
        steps += SCRIPT_STEPS
    steps += [
        (f"wheels for Python {state.python}", _wheels),
        (".funcignore", _funcignore),
        ("package", lambda s: check_package.package(s.root)),
    ]
    reporter = Reporter(out, len(steps))
    try:
        for title, step in steps:
            reporter.run(title, functools.partial(step, state))
    finally:
        if state.probe is not None:
            state.probe.close()
    return reporter.finish()


def probe_child(root: Path, fd: int, python: str) -> int:
    """The script's steps, run by the environment's Python, each outcome a JSON line on `fd` (see probe.py)."""
    local_settings.load(root)
    state = _State(root, python=python, check_wheels=False)
    with os.fdopen(fd, "w", encoding="utf-8") as pipe:
        for _, step in SCRIPT_STEPS:
            pipe.write(check_probe.encode(guarded(functools.partial(step, state))))
            pipe.flush()
    return 0


def _app_settings(state: _State) -> Outcome:
    """The settings Azure will not have, those left out of this check's environment included (Azure needs them)."""
    env = {**os.environ, **state.withheld}
    return check_package.app_settings(state.root, [*state.applied, *state.withheld], env)


def _environment(state: _State) -> Outcome:
    requirements = state.root / "requirements.txt"
    if not requirements.is_file():
        return Outcome.fail("requirements.txt is missing", "It is all Azure installs: the adapter's lines at least.")
    try:
        built = environment.build(requirements, state.python)
    except environment.BuildFailed as ex:
        return Outcome.fail(
            f"requirements.txt does not install on Python {state.python}: {ex.summary}",
            *ex.details,
            "The remote build would fail the same way. The wheels step below names each requirement without a "
            "wheel, with the versions that have one.",
        )
    except (OSError, ValueError) as ex:
        return Outcome.fail(f"the environment could not be built: {type(ex).__name__}: {ex}")
    state.probe = check_probe.Probe(
        built.python, state.root, ["--python", state.python], step_timeout=state.step_timeout
    )
    how = "cached" if built.cached else f"built with {built.installer} in {_duration(built.seconds)}"
    summary = f"Python {built.interpreter.version} with requirements.txt only ({how})"
    details = [f"in {built.python.parent.parent}", *(f"left out: {line}" for line in built.left_out)]
    if built.installer == "pip" and not built.cached:
        details.append("python -m pip install uv makes this step take seconds (the check uses uv when it is there).")
    if built.interpreter.version != state.python:
        return Outcome.warn(
            f"no Python {state.python} here: the script runs on {built.interpreter.version}, another version than "
            "the Function App's",
            f"Install Python {state.python} (pyenv install {state.python}) to try the script on it.",
            *details,
        )
    if built.left_out:
        return Outcome.warn(summary, *details)
    return Outcome.ok(summary, *details)


def _from_probe(state: _State, title: str) -> Outcome:
    if state.probe is None:
        return Outcome.skip("no environment to run the script in")
    return state.probe.next(title)


def _python_version(text: str) -> str:
    if not re.fullmatch(r"3\.\d{1,2}", text):
        raise argparse.ArgumentTypeError(f"wants a Python version like 3.13, not {text!r}")
    return text


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < 1e6:
        raise argparse.ArgumentTypeError(f"wants a number of seconds above 0, not {text!r}")
    return value


def _python(state: _State) -> Outcome:
    major, minor = (int(part) for part in state.python.split("."))
    outcome = check_package.python_version((major, minor))
    local = wheels.default_python()
    if local == state.python or state.isolated:
        return outcome
    here = (
        f"With --here this check runs the script on Python {local}: import, init() and run() are tried on {local}, "
        f"the wheels are checked for {state.python}."
    )
    return Outcome(outcome.status, outcome.summary, (*outcome.details, here))


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
        f"AZUREML_MODEL_DIR is set to {user_dir!r}." if user_dir else models.describe_model_dir(state.settings.app_root)
    )
    if bundle.problems:
        return Outcome.fail(f"{len(bundle.problems)} problem(s) in {models.BUNDLE}/", *bundle.problems, where)
    if user_dir and not Path(user_dir).resolve().is_relative_to(state.root):
        return Outcome.warn(f"AZUREML_MODEL_DIR={user_dir} is not in the package", "It must exist on the Function App.")
    summary = listed or "none bundled"
    warnings = [*bundle.warnings, *models.sample_left_beside(state.settings.app_root, state.settings.entry_script)]
    if warnings:
        return Outcome.warn(summary, *warnings, where)
    return Outcome.ok(summary, where)


def _import(state: _State) -> Outcome:
    from adapter.script import entry_script

    if state.settings is None:
        return Outcome.skip("no valid configuration")
    settings = state.settings
    local = [settings.app_root, state.root, *([settings.source_dir] if settings.source_dir else [])]
    state.watch = check_watch.Watch(roots=tuple(_outermost([state.root, settings.app_root])), code_dirs=tuple(local))

    def load() -> Outcome:
        try:
            state.script = entry_script.load(settings)
        except entry_script.ScriptError as ex:
            return Outcome.fail(str(ex))
        return Outcome.ok(settings.entry_script.name)

    return _watched(state, IMPORT, "importing it raised", load)


def _init(state: _State) -> Outcome:
    script = state.script
    if script is None:
        return Outcome.skip("the entry script did not import")

    def init() -> Outcome:
        script.init()
        state.ready = True
        return Outcome.ok("")

    return _watched(state, "init()", "raised", init)


def _watched(state: _State, step: str, raised: str, body: Callable[[], Outcome]) -> Outcome:
    """Run the script's code as `step`: its output held back, what it loads, writes and warns recorded, its
    exception described; its warnings make the step a warning."""
    assert state.watch is not None
    with _captured(state), _timed() as elapsed, check_watch.watching(state.watch, step):
        try:
            outcome = body()
        except KeyboardInterrupt:
            raise
        except BaseException as ex:  # whatever the script raises, even SystemExit, is its failure
            outcome = _failure(state, raised, ex)
    if outcome.status is not Status.OK:
        return outcome
    summary = f"{outcome.summary} in {_duration(elapsed())}".lstrip()
    raised_warnings = [seen.what for seen in state.watch.warnings if seen.step == step]
    if raised_warnings:
        count = f"{len(raised_warnings)} warning(s)"
        return Outcome.warn(f"{summary}, with {count}", *raised_warnings)
    return Outcome.ok(summary)


def _run_example(state: _State) -> Outcome:
    from inference_schema.schema_util import get_input_schema, get_output_schema, is_schema_decorated

    from adapter.openapi import answer_shape

    script, settings = state.script, state.settings
    if script is None or settings is None or not state.ready or state.watch is None:
        return Outcome.skip("init() did not succeed")
    if script.raw or not is_schema_decorated(script.run):
        return Outcome.skip("run() has no @input_schema, so no example to send")
    example = get_input_schema(script.run).get("example")
    if example is None:
        return Outcome.skip("the input schema has no example")
    request = _example_request(example)
    with _captured(state), check_watch.watching(state.watch, "run()", record_warnings=False):
        try:
            response, elapsed_ms = _invoke(script, settings, request)
        except KeyboardInterrupt:
            raise
        except BaseException as ex:
            return _failure(state, "raised", ex)
    status, body, answer = _read_answer(response)
    shown = _excerpt(body)
    if elapsed_ms is None:
        return Outcome.fail(f"the example is refused ({status}): {shown}", _excerpt(request.get_body()))
    if status >= 400:
        return Outcome.fail(f"run() answered {status}: {shown}")
    summary = f"{status} in {_duration(elapsed_ms / 1000)}: {shown}"
    schema = get_output_schema(script.run)
    contradictions = answer_shape.contradictions(schema, answer) if answer is not _NOT_JSON else []
    if contradictions:
        return Outcome.fail(
            f"{summary}; that is not the shape @output_schema declares", *contradictions, *_shape_fix(answer)
        )
    return Outcome.ok(summary)


def _example_request(example: Any) -> func.HttpRequest:
    """The request a client sends with the swagger example, as the host hands it to the function."""
    from adapter.hosting import wire

    body = json.dumps(example).encode()
    headers = [("Host", "localhost"), ("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    return wire.build_request("POST", "/score", headers, body, ("localhost", 80))


def _invoke(
    script: EntryScript, settings: Settings, request: func.HttpRequest
) -> tuple[func.HttpResponse, float | None]:
    """The request answered as /score answers it (`deployment.score_answer`: the same call, output guard and
    error answers), with run()'s time in ms (None when the request is refused before run()). An exception of run()
    propagates, for the check to show where it was raised."""
    from adapter.deployment import EXEC_MS_HEADER, score_answer
    from adapter.errors import HttpError
    from adapter.http.responses import from_error
    from adapter.script.input_parsers import InputError
    from adapter.script.scorer import Scorer, ScriptFailed

    try:
        response = score_answer(Scorer(settings), script, request)
    except ScriptFailed as ex:
        raise ex.error from None
    except InputError as ex:
        return from_error(ex), None
    except HttpError as ex:  # a timeout: run() ran, and this is what the client gets
        return from_error(ex), settings.scoring_timeout_ms
    elapsed = response.headers.get(EXEC_MS_HEADER)
    return response, float(elapsed) if elapsed else 0.0


_NOT_JSON = object()


def _read_answer(response: func.HttpResponse) -> tuple[int, bytes, Any]:
    """Status, body, and the body parsed as JSON (`_NOT_JSON` when it is not JSON)."""
    body = response.get_body()
    content_type = response.headers.get("Content-Type", "") or ""
    if "json" not in content_type.lower():
        return response.status_code, body, _NOT_JSON
    try:
        return response.status_code, body, json.loads(body)
    except ValueError:
        return response.status_code, body, _NOT_JSON


def _shape_fix(answer: Any) -> list[str]:
    if isinstance(answer, str):
        return [
            "A run() that returns an error message instead of raising answers 200 to a failure: let the exception "
            "propagate (the client gets a 500), or return the shape @output_schema declares."
        ]
    return ["Return what @output_schema declares, or declare what run() returns: clients build on the schema."]


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


def _writes(state: _State) -> Outcome:
    if state.watch is None or state.script is None:
        return Outcome.skip("the entry script did not import")
    writes = state.watch.writes
    if not writes:
        return Outcome.ok("the script wrote nothing in the app folder")
    shown = [f"{step} wrote {_shown(path, state.root)}" for path, step in sorted(writes.items(), key=lambda i: i[0])]
    return Outcome.fail(
        f"the script wrote {len(writes)} file(s) in the app folder, which is read-only on Azure",
        *shown[:MODEL_DIR_ENTRIES],
        *(["..."] if len(shown) > MODEL_DIR_ENTRIES else []),
        *check_mlflow.tracking_hint(writes, state.root),
        "The Function App runs from its package, a read-only folder: write to a temp dir instead, "
        "e.g. os.path.join(tempfile.gettempdir(), NAME).",
    )


def _requirements(state: _State) -> Outcome:
    if state.settings is None:
        return Outcome.skip("no valid configuration")
    local = [state.settings.app_root] + ([state.settings.source_dir] if state.settings.source_dir else [])
    loaded, importers = (state.watch.modules, state.watch.importers) if state.watch else (None, None)
    try:
        outcome = check_imports.check(state.root, state.settings.entry_script, local, loaded, importers)
    except SyntaxError as ex:  # the import step has said where; the imports cannot be read until it is fixed
        where = _shown(Path(ex.filename), state.root) if ex.filename else "a file"
        return Outcome.skip(f"{where} has a syntax error (line {ex.lineno}), so its imports cannot be read")
    return _with_model_needs(state, outcome)


def _with_model_needs(state: _State, outcome: Outcome) -> Outcome:
    """Add what the bundled pickles need and nothing installs (read from their opcodes, so a model that did not
    load yet is covered too): every missing package in one round, with the line to add."""
    assert state.settings is not None
    folder = Path(os.environ.get("AZUREML_MODEL_DIR") or state.settings.app_root / models.BUNDLE)
    if not folder.is_dir():
        return outcome
    needed = check_pickles.scan(folder)
    text = "\n".join((outcome.summary, *outcome.details))
    missing = []
    for module, files in sorted(needed.modules.items()):
        if module in sys.stdlib_module_names or _findable(module):
            continue
        dist = distributions.to_install(module)
        if re.search(rf"\b{re.escape(dist)}\b", text):
            continue  # already named by an import
        version = needed.versions.get(dist)
        pin = f"{dist}=={version}" if version else dist
        saved = f", saved with {version}" if version else ""
        missing.append(
            f"the model {models.BUNDLE}/{files[0]} needs {module} ({dist}{saved}) to load: add {pin} to "
            "requirements.txt."
        )
    if not missing:
        return outcome
    details = [*outcome.details, *missing] if outcome.status is Status.FAIL else [*missing, *outcome.details]
    count = len(missing) + (int(outcome.summary.split()[0]) if outcome.status is Status.FAIL else 0)
    return Outcome.fail(f"{count} import(s) not installed by requirements.txt", *details)


def _wheels(state: _State) -> Outcome:
    if not state.check_wheels:
        return Outcome.skip("--no-wheels")
    return wheels.check(state.root / "requirements.txt", state.python)


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
    if isinstance(ex, SyntaxError) and ex.filename:  # raised by the compiler: no frame of the script's own
        text = (ex.text or "").strip()
        details.append(f"at {_shown(Path(ex.filename), state.root)}, line {ex.lineno}" + (f": {text}" if text else ""))
    elif frames:
        frame = frames[-1]
        details.append(f"at {_shown(Path(frame.filename), state.root)}, line {frame.lineno}, in {frame.name}")
    requested = _requested_model(ex)
    if requested is not None and state.settings is not None:
        details.append(_model_not_bundled(state.settings.app_root, *requested))
    elif isinstance(ex, ModuleNotFoundError):
        details.append(_missing_module(ex.name or "", _unpickling(ex)))
    elif "numpy.dtype size changed" in str(ex) or "compiled using NumPy 1.x" in str(ex):
        details.append(
            "A library built against NumPy 1 met NumPy 2: bound numpy below 2 in requirements.txt (numpy>=1.26,<2, "
            "as import writes for such pins), or pin a release of that library built for NumPy 2."
        )
    elif isinstance(ex, OSError) or type(ex).__name__ in ("WebserviceException", "ModelNotFoundException"):
        details.append(_model_dir_listing())
    output = state.output.getvalue().splitlines()[-OUTPUT_LINES:]
    if output:
        details += ["its output:", *(f"  {line}" for line in output)]
    return Outcome.fail(f"{what} {type(ex).__name__}: {ex}", *details)


def _findable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _missing_module(name: str, unpickling: bool) -> str:
    """A module missing from a package that is installed is a version mismatch (an old pickle names modules the
    library has since moved), not something to install."""
    top = name.split(".")[0]
    installed = top != name and importlib.util.find_spec(top) is not None
    if not installed:
        dist = distributions.to_install(name)
        return (
            f"requirements.txt does not install {name!r}: add {dist} to it (it is all Azure installs; the "
            "requirements.txt step below lists everything missing)."
        )
    dists = sorted(check_imports.distributions(top)) or [top]
    versions = ", ".join(f"{d} {check_imports.installed_version(d) or ''}".strip() for d in dists)
    if unpickling:
        return (
            f"{versions} is installed but has no {name}: the model was pickled with another version. Retrain the "
            f"model or pin the {dists[0]} version it was pickled with in requirements.txt."
        )
    return f"{versions} is installed but has no {name}: pin the {dists[0]} version the code was written for."


def _unpickling(ex: BaseException) -> bool:
    """Whether the exception comes out of loading a pickle (pickle, joblib, torch.load... or the script's own
    `something.load(...)` line, the frame C pickle leaves)."""
    frames = traceback.extract_tb(ex.__traceback__)
    if any(Path(f.filename).name == "pickle.py" or "joblib" in Path(f.filename).parts for f in frames):
        return True
    return bool(frames) and bool(re.search(r"\bload\w*\(", frames[-1].line or ""))


def _requested_model(ex: BaseException) -> tuple[str, int | None] | None:
    """The name and version a failed `Model.get_model_path` asked for, read from its frame."""
    from adapter.azureml import core_model

    tb = ex.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code is core_model.resolve.__code__:
            name, version = frame.f_locals.get("model_name"), frame.f_locals.get("version")
            if isinstance(name, str) and (version is None or isinstance(version, int)):
                return name, version
        tb = tb.tb_next
    return None


def _model_not_bundled(app_root: Path, name: str, version: int | None) -> str:
    bundled = [entry.model for entry in models.scan(app_root / models.BUNDLE).versions]
    versions = sorted(m.version for m in bundled if m.name == name)
    asked = f"Model.get_model_path({name!r}" + (f", version={version})" if version is not None else ")")
    if versions:
        found = f"{asked} asks for version {version} of {name!r}; the bundle has version(s) {_listed(versions)}"
    else:
        held = ", ".join(f"{m.name} {m.version}" for m in bundled) or "nothing"
        found = f"{asked} asks for a model {name!r} the bundle does not have; it holds {held}"
    # The name is the script's (code from a deployment): quoted, so the command runs nothing else when pasted.
    add = f"python -m adapter models add {shlex.quote(name)} PATH" + (
        f" --version {version}" if version is not None else ""
    )
    return f"{found}. Bundle it with `{add}`, or ask for a bundled one (`python -m adapter models list`)."


def _listed(values: list[int]) -> str:
    return ", ".join(str(v) for v in values[:MODEL_DIR_ENTRIES]) + (", ..." if len(values) > MODEL_DIR_ENTRIES else "")


def _outermost(paths: list[Path]) -> list[Path]:
    """The folders that are not inside another of them."""
    return [p for p in paths if not any(p != q and p.is_relative_to(q) for q in paths)]


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


SCRIPT_STEPS[:] = [
    ("configuration", _configuration),
    ("models bundle", _models),
    ("entry script imports", _import),
    ("init()", _init),
    ("run() answers the example", _run_example),
    ("app folder stays unchanged", _writes),
    ("swagger documents", _swagger),
    ("Power BI shape", _powerbi),
    ("requirements.txt", _requirements),
]
