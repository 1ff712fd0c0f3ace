"""Send OpenLineage events through an openlineage-python transport, never blocking the run.

Network transports send from a background thread; the run waits for them at most
``target.drain_seconds`` (the backend's ``drain_timeout``, default 0.5 s) at its end. The first
failure warns once, later events are dropped.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
from pathlib import Path
from typing import Any

from openlineage.client.transport import Transport

from floe.observe.guard import BackendGuard
from floe.observe.settings import LineageTarget

_STOP = object()


def events_file(home_root: Path) -> Path:
    """``<home>/lineage/events.jsonl``."""
    return home_root / "lineage" / "events.jsonl"


class StderrTransport(Transport):
    """Each event as one JSON line on stderr (openlineage's console transport only logs)."""

    kind = "console"

    def emit(self, event: Any) -> None:
        """Write ``event``."""
        from openlineage.client.serde import Serde

        sys.stderr.write(Serde.to_json(event) + "\n")


def _transport(target: LineageTarget, home_root: Path) -> Transport | None:
    if target.transport == "file":
        from openlineage.client.transport.file import FileConfig, FileTransport

        path = events_file(home_root)
        path.parent.mkdir(parents=True, exist_ok=True)
        return FileTransport(FileConfig(log_file_path=str(path), append=True))
    if target.transport == "console":
        return StderrTransport()
    if target.transport == "http":
        return _http(target)
    return None


def _http(target: LineageTarget) -> Transport:
    from openlineage.client.transport.http import (
        ApiKeyTokenProvider,
        HttpConfig,
        HttpTransport,
        TokenProvider,
    )

    logging.getLogger("openlineage.client").setLevel(logging.CRITICAL)  # the guard reports once
    auth: TokenProvider = (
        ApiKeyTokenProvider({"apiKey": target.api_key}) if target.api_key else TokenProvider({})
    )
    config = HttpConfig(
        url=target.url or "http://localhost:5000",
        endpoint=target.endpoint,
        timeout=target.timeout_seconds,
        auth=auth,
        retry={"total": 0, "connect": 0, "read": 0},
    )
    return HttpTransport(config)


class LineageEmitter:
    """Emits the events of one run to its lineage backend."""

    def __init__(self, target: LineageTarget, home_root: Path) -> None:
        self.target = target
        self.transport = _transport(target, home_root)
        self.guard = BackendGuard("lineage", f"{target.transport} {target.url or ''}".strip())
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # dbt's worker threads emit START events concurrently

    def emit(self, event: Any) -> None:
        """Send ``event`` (in the background for HTTP)."""
        if self.transport is None or self.guard.failed:
            return
        if self.target.transport != "http":
            with self._lock:
                self._send(event)
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, daemon=True,
                                                name="floe-lineage")  # fmt: skip
                self._thread.start()
        self._queue.put(event)

    def _send(self, event: Any) -> None:
        assert self.transport is not None
        try:
            self.transport.emit(event)
        except Exception as exc:  # a lineage backend must never break the run
            self.guard.fail(f"{type(exc).__name__}: {str(exc)[:200]}")

    def _work(self) -> None:
        while True:
            event = self._queue.get()
            if event is _STOP:
                return
            if not self.guard.failed:
                self._send(event)

    def close(self, deadline: float | None = None) -> None:
        """Wait at most ``deadline`` seconds (default: the target's drain bound) for events
        still being sent."""
        if self._thread is None:
            return
        deadline = self.target.drain_seconds if deadline is None else deadline
        self._queue.put(_STOP)
        self._thread.join(deadline)
        if self._thread.is_alive():
            self.guard.fail(f"no answer within {deadline:.1f}s")
