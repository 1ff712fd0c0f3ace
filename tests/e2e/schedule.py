"""How `make test` spreads the e2e modules over its two xdist workers (``--dist loadgroup
--no-loadscope-reorder``): longest first, and modules that share an expensive setup on one
worker.

- **Groups.** Every test is in the xdist group of its module (a module's tests share its
  module-scoped fixtures), unless the module names a group of its own with
  ``pytestmark = pytest.mark.xdist_group("<name>")``: modules that share a session fixture
  (``demo_platform``) or a process-wide resource (Spark's JVM) run on one worker and set it up
  once there instead of once per worker.
- **Order.** xdist hands out groups in collection order; the groups are sorted by their
  measured seconds (``durations.json``: seconds per module, setup and teardown included),
  longest first, so that no long module starts last and runs alone at the end (xdist would
  otherwise order them by test count, which puts one-test Spark and crash modules last). A
  module missing from the file counts ``DEFAULT_SECONDS`` per test.
- **Refresh** (after adding a long module, on a quiet machine):
  ``FLOE_E2E_DURATIONS=tests/e2e/durations.json .venv/bin/pytest -n 2 --dist loadgroup
  tests/e2e`` merges this run's seconds per module into the file (modules that did not run
  keep theirs). Exact figures do not matter, only which modules are long.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
DURATIONS = HERE / "durations.json"
DEFAULT_SECONDS = 10.0
OUT_ENV = "FLOE_E2E_DURATIONS"


def module_of(nodeid: str) -> str:
    """``tests/e2e/test_x.py`` of a node id (xdist's ``@group`` suffix removed)."""
    return nodeid.split("::", 1)[0].split("@", 1)[0]


def _measured() -> dict[str, float]:
    try:
        return {k: float(v) for k, v in json.loads(DURATIONS.read_text()).items()}
    except (OSError, ValueError):
        return {}


def group_and_order(items: list[pytest.Item]) -> None:
    """Give every test its module's group unless it has one; sort the groups longest first
    (a stable sort: the tests of a group keep their order)."""
    measured = _measured()
    counts: dict[str, int] = defaultdict(int)
    for item in items:
        counts[module_of(item.nodeid)] += 1
    groups: dict[int, str] = {}
    weight: dict[str, float] = defaultdict(float)
    seen: set[tuple[str, str]] = set()
    for item in items:
        module = module_of(item.nodeid)
        if HERE not in item.path.parents:  # not an e2e test: first, as it came
            groups[id(item)] = ""
            weight[""] = float("inf")
            continue
        mark = item.get_closest_marker("xdist_group")
        if mark is None:
            item.add_marker(pytest.mark.xdist_group(module))
            group = module
        else:
            group = str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
        groups[id(item)] = group
        if (group, module) not in seen:
            seen.add((group, module))
            weight[group] += measured.get(module, DEFAULT_SECONDS * counts[module])
    items.sort(key=lambda item: -weight[groups[id(item)]])


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
