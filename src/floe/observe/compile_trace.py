"""Compile-stage spans (``compile``, ``compile.<stage>``) exported like the run's spans.

The compiler traces through the global OpenTelemetry API and knows nothing of backends; the
CLI installs a buffering provider before compiling, and once the artifacts say where
telemetry goes (and which service the product is), the buffered spans are exported there.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider

if TYPE_CHECKING:
    from floe.observe.tracing import RunTracing
    from floe.spec.artifacts import CompiledArtifacts

LOG = logging.getLogger("floe.observe")
MAX_BUFFERED = 10_000


class _Buffer(SpanProcessor):
    """Keeps ended spans until they are drained."""

    def __init__(self) -> None:
        self._spans: list[ReadableSpan] = []
        self._lock = threading.Lock()

    def on_end(self, span: ReadableSpan) -> None:
        """Keep ``span`` (the oldest are dropped beyond MAX_BUFFERED)."""
        with self._lock:
            self._spans = [*self._spans[-(MAX_BUFFERED - 1) :], span]

    def drain(self) -> list[ReadableSpan]:
        """The buffered spans, emptying the buffer."""
        with self._lock:
            spans, self._spans = self._spans, []
        return spans


_STATE: dict[str, _Buffer] = {}


def capture_compile_spans() -> None:
    """Install (once per process) the global provider buffering compile spans."""
    if "buffer" in _STATE:
        return
    buffer = _Buffer()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(buffer)
    trace.set_tracer_provider(provider)
    _STATE["buffer"] = buffer


def _with_resource(span: ReadableSpan, resource: Resource) -> ReadableSpan:
    return ReadableSpan(
        name=span.name, context=span.context, parent=span.parent, resource=resource,
        attributes=span.attributes, events=span.events, links=span.links, kind=span.kind,
        status=span.status, start_time=span.start_time, end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )  # fmt: skip


def hand_over(tracing: RunTracing) -> int:
    """Give the buffered compile spans to ``tracing``'s exporter (as its service); how many."""
    buffer = _STATE.get("buffer")
    spans = buffer.drain() if buffer else []
    if tracing.processor is not None:
        for span in spans:
            tracing.processor.on_end(_with_resource(span, tracing.provider.resource))
    return len(spans)


def export_compile_spans(artifacts: CompiledArtifacts, home_root: Path) -> int:
    """Send the buffered compile spans to the product's telemetry backend; how many."""
    if not _STATE.get("buffer"):
        return 0
    from floe.observe.settings import trace_target
    from floe.observe.tracing import start_tracing

    try:
        target = trace_target(artifacts)
    except Exception as exc:  # an unusable backend must not fail the compile
        LOG.warning("compile spans not exported: %s", exc)
        return 0
    tracing = start_tracing(target, home_root, {"floe.product": artifacts.metadata.product})
    count = hand_over(tracing)
    tracing.close()
    return count
