"""`adapter.script.runner.Runner` on its own: a bounded pool of runner threads, a race-free hand-over at the deadline,
and what the timeout can and cannot interrupt (docs/reliability.md)."""

from __future__ import annotations

import _thread
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from helpers import wait_until

from adapter.script.runner import Runner, RunnerBusy, ScoringTimeout


def runner_threads() -> int:
    return sum(t.name == "adapter-run" and t.is_alive() for t in threading.enumerate())


def outcome(runner: Runner, fn: Callable[..., Any], **kwargs: Any) -> str:
    try:
        runner.call(fn, kwargs)
    except ScoringTimeout:
        return "timeout"
    except RunnerBusy:
        return "busy"
    return "ok"


def sleep(seconds: float) -> None:
    time.sleep(seconds)


@pytest.fixture
def gate() -> Iterator[_thread.LockType]:
    """A bare lock held by the test: `gate.acquire()` in run() blocks in C with the GIL released, like a socket
    read or time.sleep, until the test opens it."""
    lock = _thread.allocate_lock()
    lock.acquire()
    yield lock
    if lock.locked():
        lock.release()


@pytest.mark.parametrize("concurrency", [1, 3])
def test_callers_behind_a_call_stuck_in_c_do_not_each_park_a_thread(concurrency: int) -> None:
    """Issue 12.1: 300 requests refused behind a timed-out call blocked in C left 300 threads parked."""
    runner = Runner(50, concurrency)
    opened = threading.Event()  # run() blocks in C (a lock wait, with the GIL released) until the test opens it
    before = runner_threads()
    try:
        with ThreadPoolExecutor(concurrency) as pool:
            stuck = list(pool.map(lambda _: outcome(runner, opened.wait), range(concurrency)))
        assert stuck == ["timeout"] * concurrency
        with ThreadPoolExecutor(40) as pool:
            behind = list(pool.map(lambda _: outcome(runner, lambda: None), range(40)))
        assert behind == ["busy"] * 40
        assert runner_threads() - before <= concurrency
    finally:
        opened.set()
    # Once the stuck calls end, their threads serve again; none was started for the 40 refused callers.
    assert wait_until(lambda: outcome(runner, lambda: None) == "ok")
    assert runner_threads() - before <= concurrency


def test_idle_runner_threads_end_and_new_ones_start_when_needed() -> None:
    runner = Runner(10_000, 4, idle_s=0.2)
    barrier = threading.Barrier(4)

    def meet() -> threading.Thread:
        barrier.wait(timeout=10)  # four calls at once need four threads
        return threading.current_thread()

    with ThreadPoolExecutor(4) as pool:
        used = set(pool.map(lambda _: runner.call(meet, {})[0], range(4)))
    assert len(used) == 4
    assert wait_until(lambda: not any(t.is_alive() for t in used))
    later, _ = runner.call(threading.current_thread, {})
    assert later.name == "adapter-run" and later not in used


def test_threads_stay_within_the_concurrency_under_a_burst() -> None:
    runner = Runner(10_000, 2)
    before = runner_threads()
    used: set[threading.Thread] = set()

    def probe() -> None:
        used.add(threading.current_thread())
        time.sleep(0.001)

    with ThreadPoolExecutor(16) as pool:
        assert set(pool.map(lambda _: outcome(runner, probe), range(200))) == {"ok"}
    assert len(used) <= 2
    assert runner_threads() - before <= 2


def test_calls_ending_at_their_deadline_leave_nothing_stuck_behind() -> None:
    """Issue 12.2: a run() ending as the deadline fired could take the interruption in the runner's own code, and
    the call then counted as stuck forever: every later call that queued for longer than one timeout got a false
    503. Hundreds of calls straddling a 5 ms deadline, on several threads with the GIL switched every microsecond
    and a busy thread competing for it, then ordinary queueing."""
    timeout_s = 0.005
    runner = Runner(round(timeout_s * 1000), 1)

    def spin(seconds: float) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            pass

    def straddle(i: int) -> str:
        seconds = timeout_s + ((i % 21) - 10) * 30e-6
        return outcome(runner, spin if i % 2 else sleep, seconds=seconds)

    def compete_for_the_gil(stop: threading.Event) -> None:
        while not stop.is_set():
            pass

    for _ in range(2):
        stop = threading.Event()
        noise = threading.Thread(target=compete_for_the_gil, args=(stop,), daemon=True)
        interval = sys.getswitchinterval()
        sys.setswitchinterval(1e-6)
        noise.start()
        try:
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(straddle, range(250)))
        finally:
            stop.set()
            noise.join()
            sys.setswitchinterval(interval)
        time.sleep(0.1)  # the abandoned calls end
        # Eight calls of 1 ms queue for one slot: the last ones wait longer than the 5 ms timeout.
        with ThreadPoolExecutor(8) as pool:
            queued = list(pool.map(lambda _: outcome(runner, sleep, seconds=0.001), range(8)))
        assert "busy" not in queued


def test_pure_python_is_interrupted_at_the_deadline() -> None:
    runner = Runner(100, 1)
    progress: list[int] = []

    def busy() -> None:
        while True:
            progress.append(1)

    with pytest.raises(ScoringTimeout):
        runner.call(busy, {})
    assert wait_until(lambda: outcome(runner, lambda: None) == "ok")
    seen = len(progress)
    time.sleep(0.05)
    assert len(progress) == seen  # the loop has stopped


def test_c_code_releasing_the_gil_is_answered_at_the_deadline_and_abandoned_until_it_returns(
    gate: _thread.LockType,
) -> None:
    runner = Runner(100, 1)
    after: list[str] = []

    def blocked() -> None:
        gate.acquire()  # C code with the GIL released: a socket read, time.sleep, most numpy work
        after.append("the rest of run()")

    with pytest.raises(ScoringTimeout):
        runner.call(blocked, {})
    assert gate.locked()  # answered while run() was still blocked
    with pytest.raises(RunnerBusy):  # its slot stays taken until it returns
        runner.call(lambda: None, {})
    gate.release()
    assert wait_until(lambda: outcome(runner, lambda: None) == "ok")
    assert after == []  # interrupted as soon as the C call returned


def test_a_script_catching_the_interruption_keeps_its_slot_until_it_returns(gate: _thread.LockType) -> None:
    runner = Runner(50, 1)
    caught: list[str] = []

    def stubborn() -> str:
        try:
            while True:
                pass
        except BaseException as ex:  # a script may catch everything, even our interruption
            caught.append(type(ex).__name__)
        gate.acquire()
        return "late"

    with pytest.raises(ScoringTimeout):
        runner.call(stubborn, {})
    assert wait_until(lambda: caught == ["_Interrupted"])
    with pytest.raises(RunnerBusy):
        runner.call(lambda: None, {})
    gate.release()
    assert wait_until(lambda: outcome(runner, lambda: None) == "ok")


def test_exceptions_and_results_cross_back_to_the_caller() -> None:
    runner = Runner(10_000, 1)

    def fails() -> None:
        raise KeyboardInterrupt("from run()")

    with pytest.raises(KeyboardInterrupt, match="from run"):
        runner.call(fails, {})
    assert runner.call(lambda x: x * 2, {"x": 21})[0] == 42
