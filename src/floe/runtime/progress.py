"""Live progress of a run, line per event, as a dbt user knows it.

``dbt build`` prints a line when each node starts and ends (``3 of 14 OK created sql table
model main.orders … [OK in 0.12s]``); floe shows exactly those lines — taken from dbt's own
events — and one line per table it publishes. Whoever wants them (the CLI) installs a printer
with :func:`progress_to`; without one nothing is formatted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from floe.runtime.dbt_exec import DBT_CALLBACKS

Printer = Callable[[str], None]

PROGRESS: ContextVar[Printer | None] = ContextVar("floe_progress", default=None)

#: dbt events whose message is one line of ``dbt build``'s node-by-node output
DBT_LINES = frozenset({
    "LogStartLine", "LogModelResult", "LogTestResult", "LogSeedResult", "LogSnapshotResult",
    "LogSkipBecauseError", "LogNodeNoOpResult", "LogFunctionResult",
})  # fmt: skip
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def report(line: str) -> None:
    """Show ``line`` to whoever follows the run (nothing when no one does)."""
    printer = PROGRESS.get()
    if printer is not None:
        _safe(printer, line)


def _safe(printer: Printer, line: str) -> None:
    """Progress never breaks a run: a closed pipe or a broken terminal loses the line."""
    try:
        printer(line)
    except Exception:  # the run matters more than its progress line
        return


def dbt_lines(printer: Printer) -> Callable[[Any], None]:
    """A dbtRunner callback giving ``printer`` dbt's node start/result lines without colour
    codes (dbt calls it from its worker threads, where the context's printer is unknown)."""

    def on_event(event: Any) -> None:
        if event.info.name in DBT_LINES:
            _safe(printer, _ANSI.sub("", str(event.info.msg)).strip())

    return on_event


@contextmanager
def progress_to(printer: Printer) -> Iterator[None]:
    """Send the progress lines of runs in this context to ``printer``."""
    token = PROGRESS.set(printer)
    callbacks = DBT_CALLBACKS.set((*DBT_CALLBACKS.get(), dbt_lines(printer)))
    try:
        yield
    finally:
        DBT_CALLBACKS.reset(callbacks)
        PROGRESS.reset(token)
