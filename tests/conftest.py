"""Shared fixtures (the targets of `targets.py`, started once per score script and stopped after) and the test layers.

Layers, as markers set here so that tests added later are marked without anyone remembering to:
- `oracle`: compares with azmlinfsrv, i.e. uses the `trios` fixture or starts `Reference` (a test module that imports
  `Reference` is marked whole). A test that starts azmlinfsrv without the marker fails, saying so.
- `slow`: multi-second tests: property tests (hypothesis runs hundreds of examples), the modules and tests listed in
  SLOW below, plus any test marked by hand.
`python -m pytest -m "not oracle and not slow"` is the fast subset; plain `python -m pytest` still runs everything.
"""

from __future__ import annotations

import sys
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
# tests/ for `targets`; the repository root for `adapter` and `bench` however pytest was started.
sys.path[:0] = [str(TESTS), str(TESTS.parent)]

import targets  # noqa: E402
from targets import InProcess, Reference, Serve  # noqa: E402

#: Fixtures that start azmlinfsrv.
ORACLE_FIXTURES = frozenset({"trios"})
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
        "test_worker.py",  # the real Functions worker, over gRPC
        "test_mlflow.py",  # builds MLflow models (scikit-learn, LightGBM, pyfunc) and imports MLflow
        "test_mlflow_oracle.py",  # the same, then azmlinfsrv per model
        # 50,000 rows in batches through `serve`.
        "test_powerquery.py::test_a_50000_row_table_is_scored_once_per_row_in_order",
        "test_powerquery.py::test_a_ragged_last_batch_stays_aligned",
        "test_powerquery.py::test_an_error_answer_becomes_a_readable_error_naming_the_rows",
        # The command line in a subprocess per case.
        "test_powerquery.py::test_scripts_it_cannot_serve_get_one_line_and_exit_2",
        "test_powerquery.py::test_the_command_writes_the_function",
        "test_swagger.py::test_the_swagger_command_writes_what_the_route_serves",
        "test_swagger.py::test_the_swagger_command_says_what_is_wrong",
    }
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    modules: dict[str, object] = {}
    for item in items:
        module = getattr(item, "module", None)
        if ORACLE_FIXTURES & set(getattr(item, "fixturenames", ())) or (
            module is not None and getattr(module, "Reference", None) is Reference
        ):
            item.add_marker(pytest.mark.oracle)
        file_name = item.path.name
        modules[file_name] = module
        test_key = f"{file_name}::{getattr(item, 'originalname', item.name)}"
        if {file_name, test_key} & SLOW or getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
            item.add_marker(pytest.mark.slow)
    # A renamed test would silently leave the slow layer and slow down the fast one.
    for entry in SLOW:
        file_name, _, test_name = entry.partition("::")
        if test_name and file_name in modules and not hasattr(modules[file_name], test_name):
            raise pytest.UsageError(f"tests/conftest.py: SLOW names {entry}, which does not exist")


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
            "(use the `trios` fixture, import `Reference` in its module, or add @pytest.mark.oracle)",
            pytrace=False,
        )


targets.START_CHECKS.append(_check_marked)


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
