"""One writer per product on a platform: the lock a run of the product and the maintenance of
its tables share (``<home>/scratch/<namespace>.lock``, an ``flock``, released when the holder
ends — even by SIGKILL, so a killed run never leaves a stale lock). The file names its holder
(e.g. ``run <id> (pid <pid>)``) for whoever waits."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from floe.errors import FloeError

E_BUSY = "E576"


@contextmanager
def product_lock(
    path: Path,
    *,
    wait_seconds: float | None = None,
    on_wait: Callable[[str], None] | None = None,
    what: str = "",
    holder: str = "",
) -> Iterator[None]:
    """Hold the lock at ``path`` (recording ``holder`` in it). When another process holds it:
    ``on_wait(<its holder>)`` once, then wait for it — indefinitely with ``wait_seconds=None``,
    else up to that many seconds and then E576 naming ``what`` (nothing was done)."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        if not _try(handle):
            if on_wait is not None:
                handle.seek(0)
                on_wait(handle.read().strip() or "another run")
            if wait_seconds is None:
                fcntl.flock(handle, fcntl.LOCK_EX)
            elif not _poll(handle, time.monotonic() + wait_seconds):
                raise FloeError.single(
                    E_BUSY,
                    f"{what or path.stem}: a run of the product still holds its lock after "
                    f"{wait_seconds:g} s (lock {path}); nothing was changed",
                    field_path="lock",
                    hint="try again when the run has finished (or pass a longer --wait)",
                )
        handle.seek(0)
        handle.truncate()
        handle.write(f"{holder}\n")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def lock_if_free(path: Path, *, holder: str = "") -> Iterator[bool]:
    """Hold the lock at ``path`` when no one holds it (True), else hold nothing (False):
    never waits."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        if not _try(handle):
            yield False
            return
        handle.seek(0)
        handle.truncate()
        handle.write(f"{holder}\n")
        handle.flush()
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _try(handle: object) -> bool:
    import fcntl

    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # type: ignore[arg-type]
    except BlockingIOError:
        return False
    return True


def _poll(handle: object, deadline: float) -> bool:
    """Try the lock every 0.2 s until ``deadline``; True once held."""
    while True:
        if _try(handle):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
