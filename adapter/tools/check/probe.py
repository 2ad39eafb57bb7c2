"""The check's steps that run the entry script (import, `init()`, the example through `run()`, what it loaded and
wrote, requirements), run by the target environment's Python rather than the developer's.

The parent starts `<environment python> -m adapter check --probe-fd N` in the app folder (the folder is first on
`sys.path`, so the adapter imports from the app itself, with only what requirements.txt installed), and the child
writes one JSON line per step to file descriptor N as each finishes; the parent shows them as they come. The
script's own output stays in the child (shown under the step it broke); anything else the child prints goes to a
file, shown only if the child dies.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

from adapter.tools.check.environment import clean_environment
from adapter.tools.check.report import Outcome, Status

STDERR_LINES = 12
STEP_TIMEOUT_S = 600.0
#: How long the child may take to exit once every step is read, and the reader thread to see the pipe close.
CLOSE_WAIT_S = 10.0


def encode(outcome: Outcome) -> str:
    return json.dumps({"status": outcome.status.name, "summary": outcome.summary, "details": outcome.details}) + "\n"


def decode(line: str) -> Outcome:
    data: Any = json.loads(line)
    return Outcome(Status[data["status"]], str(data["summary"]), tuple(str(d) for d in data["details"]))


class Probe:
    """The child process, read one step at a time."""

    def __init__(self, python: Path, root: Path, arguments: list[str], *, step_timeout: float = STEP_TIMEOUT_S) -> None:
        self.step_timeout = step_timeout
        read, write = os.pipe()
        self.log = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")
        try:
            self.process = subprocess.Popen(
                [str(python), "-m", "adapter", "check", "--probe-fd", str(write), *arguments],
                cwd=root,
                env=clean_environment(),
                stdin=subprocess.DEVNULL,
                stdout=self.log,
                stderr=subprocess.STDOUT,
                pass_fds=(write,),
                # Its own process group: whatever the script starts (a multiprocessing worker inherits the pipe) is
                # stopped with it, or the pipe would never close.
                start_new_session=os.name != "nt",
            )
        finally:
            os.close(write)
        self.reader: IO[str] = os.fdopen(read, encoding="utf-8")
        self.died: Outcome | None = None
        #: The child's lines as they come; "" once the pipe is closed.
        self.lines: queue.Queue[str] = queue.Queue()
        self.reader_thread = threading.Thread(target=self._read, name="check-probe-reader", daemon=True)
        self.reader_thread.start()

    def _read(self) -> None:
        try:
            for line in self.reader:
                self.lines.put(line)
        except (OSError, ValueError):  # closed under it by close()
            pass
        self.lines.put("")

    def next(self, title: str = "this step") -> Outcome:
        """The next step's outcome; once the child is gone, why (for the first step missing) and then skipped."""
        if self.died is not None:
            return Outcome.skip("the check's process in that environment stopped")
        line = self._line()
        if line is None:
            self._stop()
            self.died = Outcome.fail(
                f"{title} did not finish in {self.step_timeout:g} s: the check stopped it",
                "A script that waits on something it cannot reach (a service, a lock, input) waits the same way on "
                "Azure, where the first request then fails after SCORING_INIT_WAIT_MS.",
                "If it is only slow, give it longer: python -m adapter check --step-timeout SECONDS.",
            )
            return self.died
        if line:
            try:
                return decode(line)
            except (ValueError, KeyError) as ex:
                return Outcome.fail(f"the check's process in that environment wrote {line[:80]!r} ({ex})")
        code = self.process.wait()
        self.log.seek(0)
        tail = [line.rstrip() for line in self.log.read().splitlines() if line.strip()][-STDERR_LINES:]
        self.died = Outcome.fail(
            f"the check stopped in the environment built from requirements.txt (exit code {code})",
            *tail,
            "The adapter itself needs its lines of requirements.txt (azure-functions, inference-schema, numpy, "
            "pandas, werkzeug...): keep them.",
        )
        return self.died

    def _line(self) -> str | None:
        """The child's next line; "" once the pipe is closed, or once the child is gone while something it started
        keeps the pipe open; None when the step's deadline passes first."""
        deadline = time.monotonic() + self.step_timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                return self.lines.get(timeout=min(left, 1.0))
            except queue.Empty:
                if self.process.poll() is not None:  # gone: what it wrote before has been read by now
                    with contextlib.suppress(queue.Empty):
                        return self.lines.get(timeout=min(left, 1.0))
                    return ""
        return None

    def _stop(self) -> None:
        """The child and everything it started (its process group), so the pipe closes."""
        if os.name != "nt":
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()

    def close(self) -> None:
        if self.died is None:  # every step read: the child has nothing left to say, and exits
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=CLOSE_WAIT_S)
        self._stop()
        self.reader_thread.join(timeout=CLOSE_WAIT_S)
        if not self.reader_thread.is_alive():  # else a process outside the group holds the pipe: closing the
            self.reader.close()  # reader would wait for the thread's read, so the daemon thread keeps it
        self.log.close()
