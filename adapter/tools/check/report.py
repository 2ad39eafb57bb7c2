"""What `python -m adapter check` shows: one line per step as it runs (progress), then a summary and the verdict;
the entry script's own output is held back and shown only under the step it broke."""

from __future__ import annotations

import contextlib
import logging
import re
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import TextIO

from adapter.tools.terminal import escape

WIDTH = 44
#: Two periods ending a sentence: a message ending in "." put before our own "." (an ellipsis stays).
_DOUBLED_PERIOD = re.compile(r"(?<!\.)\.\.(?=\s|$)")
#: Where the adapter sends the entry script's `print()` output (`script_output`).
SCRIPT_LOGGER = "adapter.score"


class Status(Enum):
    OK = "ok"
    WARN = "warning"
    FAIL = "FAILED"
    SKIP = "skipped"


@dataclass(frozen=True)
class Outcome:
    status: Status
    summary: str
    #: Lines shown under the step: what is wrong and how to fix it.
    details: tuple[str, ...] = ()

    @classmethod
    def ok(cls, summary: str, *details: str) -> Outcome:
        return cls(Status.OK, summary, details)

    @classmethod
    def warn(cls, summary: str, *details: str) -> Outcome:
        return cls(Status.WARN, summary, details)

    @classmethod
    def fail(cls, summary: str, *details: str) -> Outcome:
        return cls(Status.FAIL, summary, details)

    @classmethod
    def skip(cls, summary: str, *details: str) -> Outcome:
        return cls(Status.SKIP, summary, details)


class Reporter:
    def __init__(self, out: TextIO, total: int) -> None:
        self.out = out
        self.total = total
        self.results: list[tuple[str, Outcome]] = []

    def run(self, title: str, step: Callable[[], Outcome]) -> Outcome:
        """Show the step before it runs (some take seconds), then its outcome on the same line."""
        number = f"[{len(self.results) + 1:>{len(str(self.total))}}/{self.total}]"
        print(f"{number} {title} ".ljust(WIDTH, "."), end=" ", file=self.out, flush=True)
        outcome = guarded(step)
        print(f"{outcome.status.value:<8}{outcome.summary}", file=self.out)
        for line in outcome.details:
            print(f"{'':>{len(number) + 1}}{line}", file=self.out)
        self.out.flush()
        self.results.append((title, outcome))
        return outcome

    def finish(self) -> int:
        """Print the summary; the exit code is 1 when a step failed, 0 otherwise (warnings included)."""
        counts = {status: sum(o.status is status for _, o in self.results) for status in Status}
        print(file=self.out)
        print(
            f"Summary: {counts[Status.OK]} passed, {counts[Status.WARN]} with warnings, {counts[Status.FAIL]} failed, "
            f"{counts[Status.SKIP]} skipped.",
            file=self.out,
        )
        for title, outcome in self.results:
            if outcome.status in (Status.FAIL, Status.WARN):
                print(f"  {outcome.status.value:<8}{title}: {outcome.summary}", file=self.out)
        if counts[Status.FAIL]:
            print("Not ready to publish: fix the failures above and run the check again.", file=self.out)
            return 1
        print("Ready to publish: func azure functionapp publish <APP_NAME>", file=self.out)
        return 0


def guarded(step: Callable[[], Outcome]) -> Outcome:
    """The step's outcome, tidied; a bug in a step is its failure and must not hide the other steps' results."""
    try:
        outcome = step()
    except ModuleNotFoundError as ex:  # the adapter's own import, in an environment without its requirements
        outcome = Outcome.fail(
            f"requirements.txt does not install {ex.name!r}, which the adapter itself needs",
            "Keep the adapter's own lines in requirements.txt (azure-functions, inference-schema, numpy, pandas, "
            "pillow, requests, werkzeug): Azure installs nothing else.",
        )
    except Exception as ex:
        frame = traceback.extract_tb(ex.__traceback__)[-1]
        outcome = Outcome.fail(
            f"the check itself failed: {type(ex).__name__}: {ex}",
            f"at {frame.filename}:{frame.lineno}; please report it.",
        )
    return tidy(outcome)


def tidy(outcome: Outcome) -> Outcome:
    """The outcome with no sentence ending in two periods (messages are built from exceptions' own sentences), and
    escaped for the terminal: names, paths and settings in it come from the app and the deployment it was made from."""
    summary = escape(_DOUBLED_PERIOD.sub(".", outcome.summary))
    return Outcome(outcome.status, summary, tuple(escape(_DOUBLED_PERIOD.sub(".", line)) for line in outcome.details))


class _ScriptRecords(logging.Handler):
    """The script's log records and prints (which the adapter turns into `adapter.score` records), without the
    adapter's own."""

    def __init__(self, out: TextIO) -> None:
        super().__init__(logging.INFO)
        self.out = out

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == SCRIPT_LOGGER:
            self.out.write(record.getMessage() + "\n")
        elif record.name != "adapter" and not record.name.startswith("adapter."):
            self.out.write(f"{record.levelname} {record.name}: {record.getMessage()}\n")


@contextlib.contextmanager
def captured(out: TextIO) -> Iterator[None]:
    """The entry script's output (prints, log records) into `out` instead of the progress display."""
    root = logging.getLogger()
    handler, level = _ScriptRecords(out), root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
