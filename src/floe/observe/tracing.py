"""A tracer provider per run, exporting where the TraceTarget says, never blocking the run."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import Tracer, format_span_id, format_trace_id

from floe.observe.guard import BackendGuard
from floe.observe.settings import TraceTarget
from floe.observe.spanfile import SpanFile, spans_file

#: The longest a run waits at its end for spans still being sent.
FLUSH_DEADLINE = 0.5


def span_record(span: ReadableSpan) -> dict[str, Any]:
    """One span as a record of the spans file (floe.observe.spanfile)."""
    ctx = span.get_span_context()
    assert ctx is not None
    parent = span.parent
    return {
        "trace_id": format_trace_id(ctx.trace_id),
        "span_id": format_span_id(ctx.span_id),
        "parent_span_id": format_span_id(parent.span_id) if parent else None,
        "name": span.name,
        "service": str(span.resource.attributes.get("service.name", "")),
        "start_ns": span.start_time,
        "end_ns": span.end_time,
        "status": span.status.status_code.name,
        "attributes": {k: _plain(v) for k, v in (span.attributes or {}).items()},
    }


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


class JsonLinesSpanExporter(SpanExporter):
    """The embedded 'file' backend: appends each finished span to the spans file."""

    def __init__(self, path: Path) -> None:
        self.file = SpanFile(path)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Append ``spans`` (one flushed write)."""
        self.file.append(span_record(s) for s in spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        """Close the file."""
        self.file.close()


class GuardedExporter(SpanExporter):
    """Wraps a network exporter: the first failure warns once, later batches are dropped."""

    def __init__(self, inner: SpanExporter, guard: BackendGuard) -> None:
        self.inner = inner
        self.guard = guard

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Export unless the backend already failed in this run."""
        if self.guard.failed:
            return SpanExportResult.FAILURE
        try:
            result = self.inner.export(spans)
        except Exception as exc:  # an exporter must never break the run
            self.guard.fail(f"{type(exc).__name__}: {exc}")
            return SpanExportResult.FAILURE
        if result is not SpanExportResult.SUCCESS:
            self.guard.fail("export failed")
        return result

    def shutdown(self) -> None:
        """Shut the wrapped exporter down, ignoring its errors."""
        with contextlib.suppress(Exception):  # a dead exporter may fail to shut down
            self.inner.shutdown()


@dataclass
class RunTracing:
    """The provider and tracer of one run."""

    provider: TracerProvider
    tracer: Tracer
    guard: BackendGuard | None
    processor: SpanProcessor | None = None

    def close(self, deadline: float = FLUSH_DEADLINE) -> None:
        """Flush and shut down, waiting at most ``deadline`` seconds."""
        worker = threading.Thread(target=self.provider.shutdown, daemon=True, name="floe-otel")
        worker.start()
        worker.join(deadline)
        if worker.is_alive() and self.guard is not None:
            self.guard.fail(f"no answer within {deadline:.1f}s")


#: How often the OTLP batch processor sends the spans that ended meanwhile: every span is at
#: the collector about a second after it ends, during the run (the SDK's default is 5 s; a
#: run's traces must be queryable within 5 s). ``OTEL_BSP_SCHEDULE_DELAY`` overrides it.
EXPORT_DELAY_MILLIS = 1000
SCHEDULE_DELAY_ENV = "OTEL_BSP_SCHEDULE_DELAY"


def _otlp_exporter(target: TraceTarget) -> SpanExporter:
    for name in ("opentelemetry.exporter.otlp", "opentelemetry.sdk._shared_internal"):
        logging.getLogger(name).setLevel(logging.CRITICAL)  # BackendGuard reports failures once
    if target.protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
            OTLPSpanExporter as GrpcExporter,
        )

        insecure = target.otlp.scheme != "https"
        return GrpcExporter(
            endpoint=target.otlp_url, insecure=insecure, timeout=target.timeout_seconds
        )
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=target.otlp_url, timeout=target.timeout_seconds)


def _processor(
    target: TraceTarget, home_root: Path
) -> tuple[SpanProcessor | None, BackendGuard | None]:
    if target.exporter == "file":
        return SimpleSpanProcessor(JsonLinesSpanExporter(spans_file(home_root))), None
    if target.exporter == "console":
        return SimpleSpanProcessor(ConsoleSpanExporter(out=sys.stderr)), None
    if target.exporter == "otlp":
        guard = BackendGuard("telemetry", f"otlp {target.protocol} {target.otlp_url}")
        exporter = GuardedExporter(_otlp_exporter(target), guard)
        millis = int(target.timeout_seconds * 1000)
        delay = None if SCHEDULE_DELAY_ENV in os.environ else EXPORT_DELAY_MILLIS
        processor = BatchSpanProcessor(
            exporter, schedule_delay_millis=delay, export_timeout_millis=millis
        )
        return processor, guard
    return None, None


def start_tracing(target: TraceTarget, home_root: Path, attributes: dict[str, str]) -> RunTracing:
    """A provider for one run: service name per product, the target's exporter."""
    resource = Resource.create({"service.name": target.service_name, **attributes})
    provider = TracerProvider(
        resource=resource,
        sampler=ParentBased(TraceIdRatioBased(target.sample_ratio)),
        shutdown_on_exit=False,
    )
    processor, guard = _processor(target, home_root)
    if processor is not None:
        provider.add_span_processor(processor)
    return RunTracing(provider, provider.get_tracer("floe.run"), guard, processor)
