"""Keep dbt's and Dagster's chatter in a log file while a product runs."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def quiet_logs(log_path: Path, *, stderr: bool = False) -> Iterator[None]:
    """Send dbt's and Dagster's chatter (and with ``stderr`` everything written to stderr)
    to the log file instead of the terminal."""
    with log_path.open("w", encoding="utf-8") as handle:
        handler = logging.StreamHandler(handle)
        root = logging.getLogger()
        saved = [(lg, lg.handlers[:], lg.propagate) for lg in _loggers()]
        for lg, _, _ in saved:
            lg.handlers = [handler]
            lg.propagate = False
        root.addHandler(handler)
        try:
            err = contextlib.redirect_stderr(handle) if stderr else contextlib.nullcontext()
            with contextlib.redirect_stdout(handle), err:
                yield
        finally:
            root.removeHandler(handler)
            for lg, handlers, propagate in saved:
                lg.handlers = handlers
                lg.propagate = propagate


def _loggers() -> list[logging.Logger]:
    return [logging.getLogger(name) for name in ("dagster", "dagster_dbt")]
