"""Test-only crash points: make a run SIGKILL itself at a named point, deterministically.

``FLOE_TEST_KILL_AFTER=<point>[:<n>]`` (test-only: never set it in production) makes the process
kill itself with SIGKILL — no cleanup, no ``finally``, exactly as ``kill -9`` — the ``n``-th time
(default 1) it reaches ``crashpoint("<point>")``. The points a run passes:

* ``build`` — dbt build finished, nothing audited or published yet;
* ``commit`` — one table's new data files, manifests and run tag are written and staged, the
  catalog commit has not happened (counted per table);
* ``publish`` — one table's commit (snapshot + run tag) landed (counted per table).

Unset (always, outside tests), ``crashpoint`` only reads one environment variable.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

KILL_ENV = "FLOE_TEST_KILL_AFTER"
POINTS = ("build", "commit", "publish")
_reached: Counter[str] = Counter()


def crashpoint(name: str) -> None:
    """SIGKILL this process if ``FLOE_TEST_KILL_AFTER`` names ``name`` and this is its n-th
    arrival here (test-only hook; a no-op when the variable is unset)."""
    wanted = os.environ.get(KILL_ENV)
    if not wanted:
        return
    point, _, nth = wanted.partition(":")
    if point != name:
        return
    _reached[name] += 1
    if _reached[name] == int(nth or "1"):
        os.kill(os.getpid(), signal.SIGKILL)
