"""Run `run()` with a timeout and a concurrency limit, without signals.

azmlinfsrv times `run()` out with SIGALRM, which only works on the main thread; the Functions worker calls sync
handlers on a thread pool. So each call runs on a runner thread while the handler thread waits on it. On expiry the
handler answers at once, and the abandoned call is interrupted by an exception raised asynchronously in its
thread: it lands at the next Python bytecode, so pure-Python code stops at once, a call blocked in C code that
releases the GIL (sleep, socket I/O, most numpy work) stops when that C call returns, and C code holding the GIL
(a catastrophic regex) blocks every thread, the answer included, until it returns (docs/reliability.md). Its result
is discarded, and the concurrency slot it holds is only freed when it really ends, so a script written for
one-request-at-a-time workers never sees two calls at once.

The pool: a caller takes a concurrency slot *before* it gets a runner thread, so a thread is only ever busy with a
call that holds a slot, and a thread goes back to the idle list before it frees its slot. Threads therefore never
outnumber the slots (callers queued behind a stuck call wait on their own threads, the host's), and a thread idle for
`idle_s` ends.

The hand-over: the handler and the runner thread race for one token when the deadline meets the end of `run()`.
The runner takes it when `run()` returns; the handler takes it to give up. Whoever wins decides: a runner that lost
waits until the handler's interruption has been issued, then drops it if it has not landed yet, so no interruption
is ever left pending after a call to land in the runner's own bookkeeping or in a later call.

When SCORING_TIMEOUT_MS is at least the host's own limit for an invocation (host.json `functionTimeout`; the default
timeout of one hour always is), the host stops the invocation first and the hand-over is pure cost (tens of
microseconds a call), so `run()` is then called inline on the handler's thread.
"""

from __future__ import annotations

import _thread
import contextvars
import ctypes
import threading
import time
from collections.abc import Callable
from typing import Any

#: A runner thread with nothing to do for this long ends (a new one starts when needed).
IDLE_S = 30.0


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


def _raise_in(thread_id: int, exception: type[BaseException] | None) -> None:
    """Make `exception` pending in that thread (None: drop the one pending)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), None if exception is None else ctypes.py_object(exception)
    )


class _Call:
    """One `run()` call handed to a runner thread. `done` (a bare lock, the cheapest thing to block on) is released
    once the call has ended and its thread is free; `token` goes to whoever settles the call's fate first (its
    runner thread when `run()` returns, the handler when the deadline passes); `sent` is released by a handler that
    won the token once its interruption has been issued."""

    __slots__ = ("fn", "kwargs", "context", "done", "token", "sent", "thread_id", "result", "error", "elapsed_ms")

    def __init__(self, fn: Callable[..., Any], kwargs: dict[str, Any]) -> None:
        self.fn = fn
        self.kwargs = kwargs
        # The handler's context variables (the request id) follow the call onto the runner thread.
        self.context = contextvars.copy_context()
        self.done = _thread.allocate_lock()
        self.done.acquire()
        self.token = _thread.allocate_lock()
        self.sent = _thread.allocate_lock()
        self.sent.acquire()
        self.thread_id = 0
        self.result: Any = None
        self.error: BaseException | None = None
        self.elapsed_ms = 0.0


class _Worker:
    """A runner thread's mailbox: `call` is set, then `wake` released, by the caller that picked it."""

    __slots__ = ("wake", "call")

    def __init__(self, call: _Call) -> None:
        self.wake = _thread.allocate_lock()
        self.wake.acquire()
        self.call: _Call | None = call


class Runner:
    def __init__(self, timeout_ms: int, concurrency: int, *, inline: bool = False, idle_s: float = IDLE_S) -> None:
        """`inline`: call `run()` on the caller's thread, for when the timeout cannot fire (the host stops the
        invocation first), so the hand-over to a runner thread would buy nothing. `idle_s`: how long an idle
        runner thread waits for work before it ends."""
        self.timeout_ms = timeout_ms
        self.inline = inline
        self._concurrency = concurrency
        self._idle_s = idle_s
        self._slots = threading.Semaphore(concurrency)
        self._lock = threading.Lock()  # guards the two collections below
        self._idle: list[_Worker] = []  # last in, first out: busy threads stay warm, the others time out
        self._stuck: dict[_Call, float] = {}  # abandoned calls still running -> when they were abandoned

    def call(self, fn: Callable[..., Any], kwargs: dict[str, Any]) -> tuple[Any, float]:
        """`fn(**kwargs)` and its duration in ms; its exception is re-raised, `ScoringTimeout` on expiry."""
        if self.inline:
            with self._slots:
                started = time.perf_counter()
                result = fn(**kwargs)
                return result, (time.perf_counter() - started) * 1000
        limit = self.timeout_ms / 1000
        self._take_slot(limit)  # waiting for a slot does not count, as queueing in azmlinfsrv does not
        call = _Call(fn, kwargs)
        deadline = time.perf_counter() + limit
        try:
            self._hand_over(call)
        except BaseException:
            self._slots.release()
            raise
        done = call.done
        while not done.acquire(timeout=max(deadline - time.perf_counter(), 0)):
            if time.perf_counter() < deadline:
                continue
            if call.token.acquire(blocking=False):
                self._abandon(call)
                raise ScoringTimeout(self.timeout_ms)
            done.acquire()  # run() returned just as time ran out: its result is on its way, take it
            break
        if call.error is not None:
            raise call.error
        return call.result, call.elapsed_ms

    def _take_slot(self, limit: float) -> None:
        """Wait for a slot for as long as it takes, unless every slot is held by a call abandoned at least `limit`
        ago: that may never end, so RunnerBusy."""
        wait = limit
        while not self._slots.acquire(timeout=wait):
            with self._lock:
                stuck_since = list(self._stuck.values())
            if len(stuck_since) < self._concurrency:
                wait = limit
                continue
            wait = max(stuck_since) + limit - time.perf_counter()
            if wait <= 0:
                raise RunnerBusy()

    def _hand_over(self, call: _Call) -> None:
        """Give the call to an idle runner thread, or to a new one."""
        with self._lock:
            worker = self._idle.pop() if self._idle else None
        if worker is None:
            threading.Thread(target=self._work, args=(_Worker(call),), name="adapter-run", daemon=True).start()
        else:
            worker.call = call
            worker.wake.release()

    def _abandon(self, call: _Call) -> None:
        """The handler holds the call's token: interrupt the call in its thread, if that thread has taken it up
        (else the thread will see the token taken and skip it). Recorded as stuck first, so the runner thread,
        which waits for `sent` or has received the interruption, always removes it after."""
        try:
            with self._lock:
                self._stuck[call] = time.perf_counter()
            if call.thread_id:
                _raise_in(call.thread_id, _Interrupted)
        finally:
            call.sent.release()

    def _work(self, worker: _Worker) -> None:
        while True:
            call = worker.call
            assert call is not None
            self._execute(call)
            # No interruption is pending now: the thread can safely go back to the idle list, before the slot is
            # freed, so the caller that takes the slot finds it there instead of starting another thread.
            worker.call = None
            with self._lock:
                self._stuck.pop(call, None)
                self._idle.append(worker)
            self._slots.release()
            call.done.release()
            if not self._next_call(worker):
                return

    def _execute(self, call: _Call) -> None:
        """Run the call. An interruption is only issued by a handler holding the token, to a thread that has
        published its id in `thread_id` (inside the `try` below), and lands either in run() (where it is the call's
        error) or just outside it, which the outer `except` absorbs; a runner that loses the token waits until the
        handler is done with the call and drops the interruption if still pending. Either way none is left when
        this returns."""
        try:
            call.thread_id = threading.get_ident()  # from now on the handler may interrupt this thread
            if not call.token.locked():  # the handler may have given up before the thread could start it
                started = time.perf_counter()
                try:
                    call.result = call.context.run(call.fn, **call.kwargs)
                except BaseException as ex:  # delivered to the waiting handler, never lost in this thread
                    call.error = ex
                call.elapsed_ms = (time.perf_counter() - started) * 1000
            if not call.token.acquire(blocking=False):
                call.sent.acquire()
                _raise_in(threading.get_ident(), None)
        except _Interrupted:
            pass  # it landed just before or after run(): the handler has answered already, nothing to undo

    def _next_call(self, worker: _Worker) -> bool:
        """Wait for the next call; False when none came for `idle_s` and the thread should end."""
        if worker.wake.acquire(timeout=self._idle_s):
            return True
        with self._lock:
            if worker in self._idle:
                self._idle.remove(worker)
                return False
        worker.wake.acquire()  # a caller picked this thread just as it timed out: its call is on its way
        return True
