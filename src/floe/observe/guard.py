"""One warning per backend and run: the first failure is reported, later events are dropped."""

from __future__ import annotations

import logging
import threading

LOG = logging.getLogger("floe.observe")


class BackendGuard:
    """Remembers whether a backend has failed during this run; warns exactly once."""

    def __init__(self, kind: str, where: str) -> None:
        self.kind = kind
        self.where = where
        self._lock = threading.Lock()
        self._failed = False

    @property
    def failed(self) -> bool:
        """True once a failure was reported."""
        return self._failed

    def fail(self, detail: str) -> None:
        """Report the first failure (a warning); ignore the following ones."""
        with self._lock:
            if self._failed:
                return
            self._failed = True
        LOG.warning(
            "%s backend %s not reachable (%s); the run goes on without it",
            self.kind,
            self.where,
            detail,
            extra={"backend": self.kind},
        )
