"""How `make test` spreads the e2e modules over its two xdist workers (``-n 2 --dist
loadfile``): longest first, and modules that share an expensive setup on one worker.

xdist's own ``loadfile`` sends one module at a time to a worker, ordered by test count: the
one-test modules (Spark, crash safety) came last and one of them ran alone at the end while
the other worker idled. This scheduler (``pytest_xdist_make_scheduler`` in conftest.py, on the
xdist controller) keeps ``loadfile``'s unit — a module, so its module-scoped fixtures are set
up once — and changes two things:

- **Shared setups.** The modules of one entry of ``SHARED`` are one unit: they run on one
  worker and set up what they share once there instead of once per worker (the session's
  ``demo_platform``: three demo product runs; Spark's JVM, process-wide).
- **Order.** Units are handed out longest first by ``durations.json`` (seconds per module,
  setup and teardown included); a module missing from it counts ``DEFAULT_SECONDS`` per test.

Refresh the figures after adding a long module (on a quiet machine; only which modules are
long matters, not the exact seconds): ``FLOE_E2E_DURATIONS=tests/e2e/durations.json
.venv/bin/pytest -n 2 --dist loadfile tests/e2e`` merges this run's seconds per module into
the file (modules that did not run keep theirs).
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from xdist.scheduler import LoadFileScheduling

HERE = Path(__file__).resolve().parent
DURATIONS = HERE / "durations.json"
DEFAULT_SECONDS = 10.0
OUT_ENV = "FLOE_E2E_DURATIONS"
#: modules that run on one worker, as one unit (paths relative to the repository root)
SHARED = {
    "demo_platform": ("test_run_demo.py", "test_observe_demo.py", "test_platform_and_tables.py"),
    "spark": (
        "test_spark_catalog.py",
        "test_spark_demo.py",
        "test_spark_incremental.py",
        "test_spark_run.py",
        "test_spark_corpus.py",
        "test_spark_thrift.py",
        "test_spark_seeds.py",
        "test_catalog_rest_real.py",
    ),
}
_UNIT_OF = {f"tests/e2e/{m}": unit for unit, modules in SHARED.items() for m in modules}


def module_of(nodeid: str) -> str:
    """``tests/e2e/test_x.py`` of a node id."""
    return nodeid.split("::", 1)[0]


def measured() -> dict[str, float]:
    """Seconds per module from durations.json ({} when missing or unreadable)."""
    try:
        return {k: float(v) for k, v in json.loads(DURATIONS.read_text()).items()}
    except (OSError, ValueError):
        return {}


def unit_weights(nodeids: list[str]) -> dict[str, float]:
    """Seconds of each unit (a module, or a SHARED entry) of these tests."""
    seconds = measured()
    counts: dict[str, int] = defaultdict(int)
    for nodeid in nodeids:
        counts[module_of(nodeid)] += 1
    weights: dict[str, float] = defaultdict(float)
    for module, count in counts.items():
        weights[_UNIT_OF.get(module, module)] += seconds.get(module, DEFAULT_SECONDS * count)
    return weights


class LongestFirstScheduling(LoadFileScheduling):
    """``loadfile`` with SHARED modules as one unit, units longest first. Only the order
    in which units leave the queue changes: the workers' collections (whose indices the
    workers run by) stay as collected."""

    def _split_scope(self, nodeid: str) -> str:
        module = module_of(nodeid)
        return _UNIT_OF.get(module, module)

    def _assign_work_unit(self, node: Any) -> None:
        """The longest unit still queued goes next (ties: collection order)."""
        if self.collection is not None and self.workqueue:
            weights = getattr(self, "_weights", None)
            if weights is None:
                weights = self._weights = unit_weights(list(self.collection))
            longest = max(self.workqueue, key=lambda scope: weights.get(scope, 0.0))
            self.workqueue.move_to_end(longest, last=False)
        super()._assign_work_unit(node)


def make_scheduler(config: pytest.Config, log: Any) -> LongestFirstScheduling | None:
    """Our scheduler for ``--dist loadfile``; xdist's own for any other mode."""
    if config.getvalue("dist") != "loadfile":
        return None
    return LongestFirstScheduling(config, log)


class DurationRecorder:
    """Seconds per module (setup, call and teardown of its tests), merged into ``path`` at the
    end of the session."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seconds: dict[str, float] = defaultdict(float)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """One phase of one test."""
        self.seconds[module_of(report.nodeid)] += report.duration

    def pytest_sessionfinish(self) -> None:
        """Merge this run's figures into the file (rounded, sorted)."""
        try:
            old = json.loads(self.path.read_text())
        except (OSError, ValueError):
            old = {}
        merged = {**old, **{k: round(v, 1) for k, v in self.seconds.items()}}
        self.path.write_text(json.dumps(dict(sorted(merged.items())), indent=1) + "\n")


def register_recorder(config: pytest.Config) -> None:
    """Record when ``$FLOE_E2E_DURATIONS`` names a file: on the xdist controller (it gets
    every worker's reports) or in a run without xdist, never on a worker."""
    if hasattr(config, "workerinput") or not os.environ.get(OUT_ENV):
        return
    if not config.pluginmanager.has_plugin("floe-e2e-durations"):
        recorder = DurationRecorder(Path(os.environ[OUT_ENV]))
        config.pluginmanager.register(recorder, "floe-e2e-durations")
