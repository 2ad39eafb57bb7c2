"""Shared fixtures (the targets of `targets.py`, started once per score script and stopped after) and the test layers.

Layers, as markers set here, per test, so that tests added later are marked without anyone remembering to:
- `process`: starts another process (`serve`, azmlinfsrv, a real Functions worker, a browser, any subprocess):
  found in the code the test runs, its fixtures' and its module's helpers (`uses_processes`). A test left
  unmarked that starts one anyway fails, saying so.
- `oracle`: compares with azmlinfsrv (the `trios` fixture, or `Reference` anywhere in that code); always also
  `process`. A test that starts azmlinfsrv without the marker fails, saying so.
- `slow`: multi-second tests: property tests (hypothesis runs hundreds of examples), the modules and tests listed in
  SLOW below, plus any test marked by hand.
- `unit`: everything else: every in-process test. `python -m pytest -m unit` is the edit-test loop
  (docs/development.md), well under 30 s; plain `python -m pytest` still runs everything.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
import types
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parent
# tests/ for `targets`; the repository root for `adapter` and `bench` however pytest was started.
sys.path[:0] = [str(TESTS), str(TESTS.parent)]

import targets  # noqa: E402
from targets import InProcess, Reference, Serve  # noqa: E402

#: Fixtures that start azmlinfsrv.
ORACLE_FIXTURES = frozenset({"trios"})
#: Names whose use starts a process (classes and modules of tests/, the bench harness, the standard library).
PROCESS_NAMES = frozenset(
    {"Serve", "Reference", "FunctionsHost", "Trio", "subprocess", "Popen", "adapter_serve", "azmlinfsrv", "webdriver"}
    | {"multiprocessing", "ProcessPoolExecutor", "check_call", "check_output", "ServerProcess", "start_servers"}
    | {"wheels"}  # adapter.tools.check.wheels runs pip
    | {"import_in_process", "run_import"}  # import resolves the requirements it writes with pip
)
ORACLE_NAMES = frozenset({"Reference", "Trio"})
#: Multi-second tests, by module file name (the whole module) or by `module::test name` (every parametrisation).
#: Measured with `--durations`; the fast subset must stay well under 30 s on a small shared machine.
SLOW = frozenset(
    {
        "test_browser.py",  # starts Chrome
        "test_fuzz.py",  # schemathesis: hundreds of generated requests against `serve`
        "test_sample.py::test_training_script_reproduces_the_bundled_model",  # trains scikit-learn models
        "test_drills.py::test_500_mixed_requests_at_concurrency_32_each_get_their_own_answer",  # a load drill
        # Waits out several scoring timeouts on purpose.
        "test_lifecycle.py::test_a_call_stuck_past_its_timeout_does_not_queue_later_calls_forever",
        "test_lifecycle.py::test_a_bug_fixed_while_serve_runs_heals_at_the_next_attempt",  # waits out a back-off
        "test_runner.py::test_calls_ending_at_their_deadline_leave_nothing_stuck_behind",  # a 500-call stress run
        # Slow clients, at the server's real deadlines.
        "test_serve_hardening.py::test_a_stalled_body_gets_a_408_and_a_silent_connection_is_closed",
        "test_serve_hardening.py::test_a_request_head_dripped_slowly_gets_a_408_at_the_deadline",
        "test_check.py",  # `python -m adapter check` end to end, in a subprocess per case (scikit-learn pickles)
        # Build the environment check builds from requirements.txt (uv or pip; cached in the user's cache folder).
        "test_import_check.py::test_blue_imports_checks_ready_and_answers_through_serve_from_the_built_environment",
        "test_import_check.py::test_a_custom_container_gets_every_missing_package_in_one_round",
        "test_import_check.py::test_the_environment_never_builds_a_package",
        "test_import_check.py::test_the_wheel_step_never_builds_a_package",
        "test_import_check.py::test_a_pin_without_a_wheel_for_any_supported_python_says_retrain",
        "test_import_check.py::test_each_shape_checks_ready_and_answers_its_own_sample_from_the_built_environment",
        # Imports that resolve their requirements with pip (1-6 s each), and a check in a subprocess.
        "test_import_check.py::test_a_gpu_instance_warns_first_and_conda_only_runtimes_are_dropped",
        "test_import_check.py::test_hosting_settings_are_listed_with_what_plays_their_part",
        "test_import_check.py::test_an_old_environment_resolves_with_numpy_bounded_and_the_apps_lower_bound_kept",
        "test_import_check.py::test_a_new_import_removes_the_previous_deployments_files",
        "test_import_check.py::test_import_and_check_print_one_app_settings_command",
        "test_import_check.py::test_a_script_using_an_identity_gets_the_commands_that_give_one",
        "test_import_check.py::test_check_answers_as_score_does_when_run_returns_what_cannot_be_sent",
        "test_worker.py",  # the real Functions worker, over gRPC
        # The generated Power Query functions run by the M evaluator against `serve`, 10,000 rows per shape.
        "test_pq_scoring.py",
        "test_mlflow.py",  # builds MLflow models (scikit-learn, LightGBM, pyfunc) and imports MLflow
        "test_mlflow_oracle.py",  # the same, then azmlinfsrv per model
        "test_mlflow_powerquery.py",  # builds MLflow models, then `serve` and the M evaluator on 2,000 rows each
        # An import, then pip's dry-run against PyPI.
        "test_tool_safety.py::test_an_archive_of_the_code_named_as_a_requirement_is_never_built",
        # The command line in a subprocess per case.
        "test_powerquery.py::test_scripts_it_cannot_serve_get_one_line_and_exit_2",
        "test_powerquery.py::test_the_command_writes_the_function_and_says_what_it_wrote",
        "test_powerquery.py::test_hostile_swagger_files_get_one_line_not_a_traceback",
        "test_swagger.py::test_the_swagger_command_writes_what_the_route_serves",
        "test_swagger.py::test_the_swagger_command_says_what_is_wrong",
    }
)


def _names(code: types.CodeType) -> set[str]:
    """The global and attribute names a code object and the functions nested in it use."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def _test_code(obj: Any) -> types.CodeType | None:
    obj = inspect.unwrap(obj) if callable(obj) else obj
    code = getattr(obj, "__code__", None)
    return code if isinstance(code, types.CodeType) else None


def uses_names(roots: list[Any], module: Any, wanted: frozenset[str]) -> bool:
    """Whether the code of `roots` uses any of `wanted`, following the functions and classes of tests/ it calls
    (module helpers, fixtures' helpers, `targets`), so a helper that starts a server marks each test calling it."""
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if inspect.isclass(obj):
            stack.extend(v for v in vars(obj).values() if inspect.isfunction(v) or isinstance(v, property))
            continue
        if isinstance(obj, property):
            stack.extend(f for f in (obj.fget, obj.fset) if f is not None)
            continue
        code = _test_code(obj)
        if code is None:
            continue
        names = _names(code)
        if names & wanted:
            return True
        scope = getattr(obj, "__globals__", {}) or vars(module)
        for name in names:
            target = scope.get(name)
            if inspect.isfunction(target):
                target = inspect.unwrap(target)  # a decorated helper (a context manager): its own code
            if (inspect.isfunction(target) or inspect.isclass(target)) and _in_tests(target):
                stack.append(target)
    return False


def _in_tests(obj: Any) -> bool:
    try:
        source = inspect.getsourcefile(obj)
    except TypeError:
        return False
    return source is not None and Path(source).resolve().is_relative_to(TESTS)


def _roots(item: pytest.Item) -> list[Any]:
    """The test function and every fixture it uses (directly or through other fixtures)."""
    roots: list[Any] = [getattr(item, "obj", None)]
    info = getattr(item, "_fixtureinfo", None)
    for name in getattr(item, "fixturenames", ()):
        for fixturedef in info.name2fixturedefs.get(name, ()) if info is not None else ():
            if _in_tests(fixturedef.func):
                roots.append(fixturedef.func)
    return roots


#: The real worker each test ran on, by node id, for the summary (tests parametrized with `worker`).
_WORKER_OF: dict[str, str] = {}
_WORKER_OUTCOMES: dict[str, dict[str, int]] = {}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    modules: dict[str, object] = {}
    for item in items:
        module = getattr(item, "module", None)
        roots = _roots(item)
        oracle = bool(ORACLE_FIXTURES & set(getattr(item, "fixturenames", ()))) or uses_names(
            roots, module, ORACLE_NAMES
        )
        if oracle or item.get_closest_marker("oracle") is not None:
            item.add_marker(pytest.mark.oracle)
            item.add_marker(pytest.mark.process)
        elif item.get_closest_marker("process") is None and uses_names(roots, module, PROCESS_NAMES):
            item.add_marker(pytest.mark.process)
        file_name = item.path.name
        modules[file_name] = module
        test_key = f"{file_name}::{getattr(item, 'originalname', item.name)}"
        if {file_name, test_key} & SLOW or getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
            item.add_marker(pytest.mark.slow)
        if item.get_closest_marker("process") is None:
            item.add_marker(pytest.mark.unit)
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "worker" in callspec.params:
            _WORKER_OF[item.nodeid] = str(callspec.params["worker"])
    # A renamed test would silently leave the slow layer and slow down the fast one.
    for entry in SLOW:
        file_name, _, test_name = entry.partition("::")
        if test_name and file_name in modules and not hasattr(modules[file_name], test_name):
            raise pytest.UsageError(f"tests/conftest.py: SLOW names {entry}, which does not exist")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    worker = _WORKER_OF.get(report.nodeid)
    if worker is None or not (report.when == "call" or (report.when == "setup" and not report.passed)):
        return
    outcomes = _WORKER_OUTCOMES.setdefault(worker, {})
    outcomes[report.outcome] = outcomes.get(report.outcome, 0) + 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """How many tests ran on each real Functions worker (issue 18: CI must show both ran, none skipped)."""
    if not _WORKER_OUTCOMES:
        return
    terminalreporter.section("real Functions workers")
    found = getattr(sys.modules.get("harness"), "FOUND", {})  # tests/worker/harness.py, once a test used it
    for worker, outcomes in sorted(_WORKER_OUTCOMES.items()):
        counts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items()))
        terminalreporter.write_line(f"{found.get(worker, worker + ' worker')}: {counts}")


_running: list[pytest.Item] = []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, object, object]:
    _running.append(item)
    try:
        return (yield)
    finally:
        _running.pop()


def _check_marked(kind: type[targets.HttpTarget]) -> None:
    """azmlinfsrv only in tests marked `oracle`: the fast subset must not depend on it (nor wait for it)."""
    if kind is Reference and _running and _running[-1].get_closest_marker("oracle") is None:
        pytest.fail(
            f"{_running[-1].nodeid} starts azmlinfsrv: mark it `oracle` "
            "(use the `trios` fixture or `Reference`, or add @pytest.mark.oracle)",
            pytrace=False,
        )


targets.START_CHECKS.append(_check_marked)
_popen_init = subprocess.Popen.__init__


def _popen_checked(self: subprocess.Popen[Any], *args: Any, **kwargs: Any) -> None:
    """No process from a test not marked `process`: in the unit loop it would make the loop slow and its time
    depend on the machine, and `-m "not process"` must mean in-process."""
    if _running and _running[-1].get_closest_marker("process") is None:
        pytest.fail(
            f"{_running[-1].nodeid} starts a process but was not found to: add @pytest.mark.process "
            "(or add the name it starts it with to PROCESS_NAMES in tests/conftest.py)",
            pytrace=False,
        )
    _popen_init(self, *args, **kwargs)


subprocess.Popen.__init__ = _popen_checked  # type: ignore[method-assign]


class Trio:
    """azmlinfsrv, our functions in-process and `adapter serve`, all serving one script with one environment."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        name = Path(env["AZUREML_ENTRY_SCRIPT"]).stem
        self.reference = Reference(env, logs / f"{name}.reference.log")
        self.serve = Serve(env, logs / f"{name}.serve.log")
        self.in_process = InProcess(env)

    def stop(self) -> None:
        self.in_process.stop()
        self.serve.stop()
        self.reference.stop()


class TrioPool:
    """Keeps one Trio alive at a time: tests are ordered by script, so each script starts its servers once."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.key: tuple[tuple[str, str], ...] | None = None
        self.trio: Trio | None = None

    def get(self, env: dict[str, str]) -> Trio:
        key = tuple(sorted(env.items()))
        if key != self.key:
            self.close()
            self.trio = Trio(env, self.logs)
            self.key = key
        assert self.trio is not None
        return self.trio

    def close(self) -> None:
        if self.trio is not None:
            self.trio.stop()
        self.trio, self.key = None, None


@pytest.fixture(scope="session")
def trios(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrioPool]:
    pool = TrioPool(tmp_path_factory.mktemp("logs"))
    yield pool
    pool.close()


@pytest.fixture(autouse=True)
def _process_state_restored() -> Iterator[None]:
    """One process serves one deployment: loading a script moves the working directory and pins AML_APP_ROOT and
    AZUREML_MODEL_DIR in the environment. Put both back after every test, so no test configures the next one's
    servers or deployments."""
    import os

    saved = {k: v for k, v in os.environ.items() if k.startswith(targets.CONFIG_PREFIXES)}
    cwd = os.getcwd()
    yield
    for key in [k for k in os.environ if k.startswith(targets.CONFIG_PREFIXES)]:
        del os.environ[key]
    os.environ.update(saved)
    os.chdir(cwd)
