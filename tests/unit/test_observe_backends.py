"""Telemetry and lineage backends at the wire: bounded flush, one warning, env precedence."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState

from floe.observe.lineage_emit import LineageEmitter
from floe.observe.observer import close_backends
from floe.observe.settings import LineageTarget, TraceTarget
from floe.observe.tracing import start_tracing
from tests.e2e.obs_servers import closed_endpoint, http_receiver, silent_endpoint

EVENTS = 20
SPANS = 50


def _event(i: int) -> RunEvent:
    return RunEvent(
        eventType=RunState.START,
        eventTime="2026-01-01T00:00:00+00:00",
        run=Run(runId=f"01900000-0000-7000-8000-{i:012d}"),
        job=Job(namespace="tiny", name=f"job{i}"),
        producer="https://floe.dev/floe",
    )


# The flush deadline is 0.5 s per backend; the bound leaves room for a loaded machine (no
# wall-time assertion under a few seconds) while staying far below what waiting would cost.
ABANDONED_WITHIN = 5.0


def _exercise(url: str, home: Path) -> float:
    """Send SPANS spans and EVENTS events to ``url``; the wall time of the closing flush."""
    tracing = start_tracing(
        TraceTarget("otlp", "floe-tiny", endpoint=url, timeout_seconds=1.0), home, {}
    )
    emitter = LineageEmitter(LineageTarget("http", "tiny", url=url, timeout_seconds=1.0), home)
    for i in range(SPANS):
        tracing.tracer.start_span(f"s{i}").end()
    for i in range(EVENTS):
        emitter.emit(_event(i))
    start = time.perf_counter()
    close_backends(tracing, emitter)
    return time.perf_counter() - start


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "floe.observe"]


@pytest.mark.requirement("FR-046")
def test_hanging_backends_are_abandoned_at_their_deadline(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Against a server that accepts and never answers, the closing flush of spans and lineage
    is abandoned at its deadline (a few seconds at most, where waiting out the 1 s timeout of
    each of the 20 events would take 20 s), and each backend warns exactly once."""
    caplog.set_level(logging.WARNING, logger="floe.observe")
    with silent_endpoint() as url:
        seconds = _exercise(url, tmp_path)
    assert seconds < ABANDONED_WITHIN
    warnings = _warnings(caplog)
    assert sum(w.startswith("telemetry backend otlp") for w in warnings) == 1
    assert sum(w.startswith("lineage backend http") for w in warnings) == 1


@pytest.mark.requirement("FR-046")
def test_a_closed_port_warns_once_per_backend(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Against a closed port, 50 spans and 20 events cause one warning per backend, and the
    flush does not wait (a few seconds at most)."""
    caplog.set_level(logging.WARNING, logger="floe.observe")
    seconds = _exercise(closed_endpoint(), tmp_path)
    assert seconds < ABANDONED_WITHIN
    warnings = _warnings(caplog)
    assert len(warnings) == 2, warnings


@pytest.mark.requirement("FR-040")
def test_a_live_receiver_gets_every_span_and_event(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A healthy receiver gets all 50 spans (OTLP protobuf) and all 20 events, no warning."""
    caplog.set_level(logging.WARNING, logger="floe.observe")
    with http_receiver() as (url, got):
        _exercise(url, tmp_path)
    assert sorted(s["name"] for s in got.spans) == sorted(f"s{i}" for i in range(SPANS))
    assert {s["service"] for s in got.spans} == {"floe-tiny"}
    assert sorted(e["job"]["name"] for e in got.events) == sorted(f"job{i}" for i in range(EVENTS))
    assert _warnings(caplog) == []


@pytest.mark.requirement("FR-040")
def test_console_backends_print_spans_and_events_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The console telemetry backend prints spans as JSON, the console lineage backend one
    OpenLineage JSON line per event; nothing is written into the platform home."""
    tracing = start_tracing(TraceTarget("console", "floe-tiny"), tmp_path, {})
    tracing.tracer.start_span("console-span").end()
    emitter = LineageEmitter(LineageTarget("console", "tiny"), tmp_path)
    emitter.emit(_event(7))
    close_backends(tracing, emitter)
    err = capsys.readouterr().err
    assert '"name": "console-span"' in err
    (line,) = [json.loads(x) for x in err.splitlines() if x.startswith('{"eventTime"')]
    assert line["job"]["name"] == "job7"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.requirement("FR-046")
def test_none_backends_export_nothing_yet_trace_ids_exist(tmp_path: Path) -> None:
    """With 'none', spans still have a valid trace id (for snapshots and logs) but nothing is
    exported or written."""
    tracing = start_tracing(TraceTarget("none", "floe-tiny"), tmp_path, {})
    span = tracing.tracer.start_span("quiet")
    assert span.get_span_context().is_valid
    span.end()
    emitter = LineageEmitter(LineageTarget("none", "tiny"), tmp_path)
    emitter.emit(_event(1))
    close_backends(tracing, emitter)
    assert tracing.processor is None
    assert list(tmp_path.iterdir()) == []
