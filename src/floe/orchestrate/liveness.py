"""Runs whose `floe run` process died: found at the next run and marked failed.

``floe run`` executes the product job in-process, so nothing else watches it: a process killed
with SIGKILL (or lost with its machine) leaves its Dagster run STARTED for ever — the UI shows it
running, and ``--from-failure`` finds no failed run. Each in-process run therefore holds a
kernel lock (``flock``) on ``<home>/runs/live/<token>.lock`` while it executes and carries the
token as the run tag ``floe/live``; the lock dies with the process. Before a run starts, every
run of the same job still STARTED (or STARTING/CANCELING) whose lock is free is marked FAILURE
with a message saying so. Runs without the tag (launched by the Dagster daemon or webserver)
are Dagster's own run monitoring's business.
"""

from __future__ import annotations

import fcntl
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from floe.runtime import progress
from floe.runtime.home import PlatformHome

LIVE_TAG = "floe/live"


def _lock_file(home: PlatformHome, token: str) -> Path:
    return home.runs / "live" / f"{token}.lock"


@contextmanager
def alive(home: PlatformHome) -> Iterator[dict[str, str]]:
    """Hold this process's liveness lock; yields the run tags that name it."""
    token = uuid.uuid4().hex
    path = _lock_file(home, token)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.write(f"pid {os.getpid()}\n")
        handle.flush()
        try:
            yield {LIVE_TAG: token}
        finally:
            path.unlink(missing_ok=True)
            fcntl.flock(handle, fcntl.LOCK_UN)


def _held(path: Path) -> bool:
    """True while a living process holds the lock ``path``."""
    try:
        handle = path.open("a")
    except FileNotFoundError:
        return False
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


def fail_dead_runs(instance: Any, job_name: str, home: PlatformHome) -> list[str]:
    """Mark FAILURE every unfinished in-process run of ``job_name`` whose process is gone;
    their run ids."""
    import dagster as dg

    from floe.orchestrate.adapters.dagster_instance import mark_run_failed

    unfinished = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING,
                  dg.DagsterRunStatus.CANCELING]  # fmt: skip
    dead: list[str] = []
    for run in instance.get_runs(dg.RunsFilter(job_name=job_name, statuses=unfinished)):
        token = run.tags.get(LIVE_TAG)
        if token is None or _held(_lock_file(home, token)):
            continue
        message = (
            f"the floe run process of run {run.run_id} ended without finishing (killed?); "
            "every table is at its last committed snapshot — run the product again, or "
            "`floe run --from-failure`"
        )
        mark_run_failed(instance, run, message)
        _lock_file(home, token).unlink(missing_ok=True)
        progress.report(f"marked run {run.run_id} failed: its process ended without finishing")
        dead.append(run.run_id)
    return dead
