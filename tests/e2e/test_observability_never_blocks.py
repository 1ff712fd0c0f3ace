"""A dead or hanging telemetry/lineage backend never stops a run nor slows it down (FR-046)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from floe.app.run import RunSummary, run
from tests.conftest import write_tiny
from tests.e2e.obs_servers import closed_endpoint, silent_endpoint

BACKEND_VARS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OPENLINEAGE_URL")


@contextmanager
def backends_at(monkeypatch: pytest.MonkeyPatch, url: str) -> Iterator[None]:
    """Point both OTLP and OpenLineage at ``url`` through the standard variables."""
    with monkeypatch.context() as patch:
        for var in BACKEND_VARS:
            patch.setenv(var, url)
        yield


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "floe.observe" and r.levelno >= logging.WARNING
    ]


def _timed_run(root: Path, caplog: pytest.LogCaptureFixture) -> tuple[RunSummary, list[str]]:
    caplog.clear()
    summary = run(root, full_refresh=True)
    return summary, _warnings(caplog)


def _observe_seconds(root: Path, summary: RunSummary) -> float:
    """Wall time the run spent on observability, from its run record."""
    record = json.loads((root / ".floe" / "runs" / summary.run_id / "record.json").read_text())
    return float(record["observe_seconds"])


@pytest.mark.requirement("FR-046")
def test_dead_and_hanging_backends_are_abandoned_and_warn_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """With OTLP and OpenLineage at a closed port, then at a server that accepts and never
    answers, the run succeeds and publishes everything, spends a few seconds at most on
    observability (run record; waiting out the 1 s timeout of each of the run's 16 lineage
    events would take 16 s) and logs exactly one warning per backend."""
    caplog.set_level(logging.WARNING, logger="floe.observe")
    root = write_tiny(tmp_path / "tiny")
    base, base_warnings = _timed_run(root, caplog)
    assert base.success
    assert base_warnings == []
    with backends_at(monkeypatch, closed_endpoint()):
        dead, dead_warnings = _timed_run(root, caplog)
    with silent_endpoint() as url, backends_at(monkeypatch, url):
        hung, hung_warnings = _timed_run(root, caplog)
    for summary, warnings in ((dead, dead_warnings), (hung, hung_warnings)):
        assert summary.success, summary.failure
        assert len(summary.assets) == 4
        assert _observe_seconds(root, summary) < 5.0
        assert len(warnings) == 2, warnings
        assert sum(w.startswith("telemetry backend otlp") for w in warnings) == 1
        assert sum(w.startswith("lineage backend http") for w in warnings) == 1
    costs = [_observe_seconds(root, s) for s in (base, dead, hung)]
    print("run s (base, dead, hanging):", [round(s.seconds, 2) for s in (base, dead, hung)])
    print("observability s:", costs)
