"""Run `run()` with a timeout and a concurrency limit, without signals.

azmlinfsrv times `run()` out with SIGALRM, which only works on the main thread; the Functions worker calls sync
handlers on a thread pool. So each call runs on a runner thread while the handler thread waits on it. On expiry the
handler answers at once, and the abandoned call is interrupted by an exception raised asynchronously in its
thread (it lands at the next Python bytecode, so pure-Python loops stop; a call blocked in C stops when it
returns). Its result is discarded, and the concurrency slot it holds is only freed when it really ends, so a
script written for one-request-at-a-time workers never sees two calls at once.

When SCORING_TIMEOUT_MS is at least the host's own limit for an invocation (host.json `functionTimeout`; the default
timeout of one hour always is), the host stops the invocation first and the hand-over is pure cost (tens of
microseconds a call), so `run()` is then called inline on the handler's thread.
"""

from __future__ import annotations

import _thread
import contextvars
import ctypes
import queue
import threading
import time
from collections.abc import Callable
from typing import Any


class ScoringTimeout(Exception):
    """`run()` did not finish within SCORING_TIMEOUT_MS."""

    def __init__(self, timeout_ms: int) -> None:
        super().__init__(f"Scoring timeout after {timeout_ms} ms")
        self.timeout_ms = timeout_ms


class RunnerBusy(Exception):
    """Every concurrency slot is held by a call that timed out and still has not ended a full timeout later (stuck in
    C code or a blocking call, where the interruption cannot land): rather than queue behind it without limit, the
    caller is told to come back."""

    def __init__(self) -> None:
        super().__init__("run() is still busy with an earlier call that timed out; try again later.")


class _Interrupted(BaseException):
    """Raised inside an abandoned `run()`; a BaseException so a script's `except Exception` does not swallow it."""


class _Call:
    """One `run()` call handed to a runner thread. Its state changes under the runner's lock; `done` (a bare lock,
    the cheapest thing to block on) is released when the call has finished."""

    __slots__ = (
        "abandoned_at",
        "cancelled",
        "fn",
        "kwargs",
        "context",
        "done",
        "thread_id",
        "started",
        "finished",
        "abandoned",
        "result",
        "error",
        "elapsed_ms",
    )

    def __init__(self, fn: Callable[..., Any], kwargs: dict[str, Any]) -> None:
        self.fn = fn
        self.kwargs = kwargs
        # The handler's context variables (the request id) follow the call onto the runner thread.
        self.context = contextvars.copy_context()
        self.done = _thread.allocate_lock()
        self.done.acquire()
        self.thread_id = 0
        self.started = 0.0
        self.finished = False
        self.abandoned = False
        self.abandoned_at = 0.0
        self.cancelled = False  # given up while still waiting for a slot
        self.result: Any = None
        self.error: BaseException | None = None
        self.elapsed_ms = 0.0


class Runner:
    def __init__(self, timeout_ms: int, concurrency: int, *, inline: bool = False) -> None:
        """`inline`: call `run()` on the caller's thread, for when the timeout cannot fire (the host stops the
        invocation first), so the hand-over to a runner thread would buy nothing."""
        self.timeout_ms = timeout_ms
        self.inline = inline
        self._slots = threading.BoundedSemaphore(concurrency)
        self._queue: queue.SimpleQueue[_Call] = queue.SimpleQueue()
        self._lock = threading.Lock()  # guards every call's state and the counts below
        self._idle = 0
        self._concurrency = concurrency
        self._stuck: set[_Call] = set()  # abandoned calls still running

    def call(self, fn: Callable[..., Any], kwargs: dict[str, Any]) -> tuple[Any, float]:
        """`fn(**kwargs)` and its duration in ms; its exception is re-raised, `ScoringTimeout` on expiry."""
        if self.inline:
            with self._slots:
                started = time.perf_counter()
                result = fn(**kwargs)
                return result, (time.perf_counter() - started) * 1000
        call = _Call(fn, kwargs)
        with self._lock:
            spawn = not self._idle
            self._idle -= not spawn
        if spawn:
            threading.Thread(target=self._work, name="adapter-run", daemon=True).start()
        self._queue.put(call)
        limit = timeout = self.timeout_ms / 1000
        while not call.done.acquire(timeout=timeout):
            with self._lock:
                if call.finished:
                    break
                if call.started:  # waiting for a slot does not count, as queueing in azmlinfsrv does not
                    timeout = call.started + limit - time.perf_counter()
                    if timeout <= 0:
                        self._abandon(call)
                        raise ScoringTimeout(self.timeout_ms)
                elif self._stuck_everywhere(limit):
                    # ... unless every slot is held by a call that timed out long ago: that may never end.
                    call.cancelled = True
                    raise RunnerBusy()
        if call.error is not None:
            raise call.error
        return call.result, call.elapsed_ms

    def _stuck_everywhere(self, limit: float) -> bool:
        """Called with the lock held: whether every slot is held by a call abandoned at least `limit` ago."""
        now = time.perf_counter()
        return sum(now - c.abandoned_at >= limit for c in self._stuck) >= self._concurrency

    def _abandon(self, call: _Call) -> None:
        """Called with the lock held and the call running: interrupt it in its own thread."""
        call.abandoned = True
        call.abandoned_at = time.perf_counter()
        self._stuck.add(call)
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(call.thread_id), ctypes.py_object(_Interrupted))

    def _work(self) -> None:
        while True:
            try:
                self._execute(self._queue.get())
            except _Interrupted:
                pass  # an interruption that landed after the call had ended: this thread stays in service
            with self._lock:
                self._idle += 1

    def _execute(self, call: _Call) -> None:
        with self._slots:
            with self._lock:
                if call.cancelled:
                    return
                call.thread_id = threading.get_ident()
                call.started = time.perf_counter()
            try:
                call.result = call.context.run(call.fn, **call.kwargs)
            except BaseException as ex:  # delivered to the waiting handler, never lost in this thread
                call.error = ex
            finally:
                with self._lock:
                    call.elapsed_ms = (time.perf_counter() - call.started) * 1000
                    call.finished = True
                    if call.abandoned:  # cancel an interruption still pending after run() ended
                        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(call.thread_id), None)
                        self._stuck.discard(call)
                call.done.release()
