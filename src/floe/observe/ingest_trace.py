"""The trace of a run's ingestion step: a ``floe.ingest`` span with one child span per
resource (load, audit, publish), exported where the run's spans go; its trace id is what the
raw tables' snapshots carry. Like every observability concern it never changes the outcome:
a backend that cannot be used turns tracing off for the step."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.trace import StatusCode, format_trace_id

from floe.observe.settings import TraceTarget, trace_target
from floe.observe.tracing import RunTracing, start_tracing

if TYPE_CHECKING:
    from floe.runtime.home import PlatformHome
    from floe.runtime.resolved import ResolvedPlugins
    from floe.runtime.runner import NodeOutcome
    from floe.spec.artifacts import CompiledArtifacts

LOG = logging.getLogger("floe.observe")


class IngestTrace:
    """Receives the ingestion's phases (:class:`floe.runtime.hooks.Observer`)."""

    def __init__(self, tracing: RunTracing, attrs: dict[str, str]) -> None:
        self.tracing = tracing
        self.attrs = attrs
        self.root = tracing.tracer.start_span("floe.ingest", attributes=attrs)
        ctx = self.root.get_span_context()
        self.trace_id = format_trace_id(ctx.trace_id) if ctx.is_valid else None

    @contextmanager
    def phase(self, name: str, **attributes: str) -> Iterator[None]:
        """A child span ``floe.ingest.<name>`` of the ingestion span."""
        span = self.tracing.tracer.start_span(
            f"floe.ingest.{name}", attributes={**self.attrs, **attributes}
        )
        try:
            with trace.use_span(span, end_on_exit=False):
                yield
        except BaseException as exc:
            span.set_status(StatusCode.ERROR, type(exc).__name__)
            raise
        finally:
            span.end()

    def dbt_results(self, results: Any, manifest: Any, outcomes: Any) -> None:
        """Not an ingestion fact."""

    def published(self, outcome: NodeOutcome, columns: list[tuple[str, str]]) -> None:
        """The resource's span already covers its publish."""


@contextmanager
def trace_ingestion(
    artifacts: CompiledArtifacts, home: PlatformHome, run_id: str, plugins: ResolvedPlugins
) -> Iterator[IngestTrace]:
    """The ``floe.ingest`` trace of one run's ingestion step."""
    service = f"floe-{artifacts.metadata.product}"
    try:
        target = trace_target(artifacts, plugins=plugins)
    except Exception as exc:
        LOG.warning("telemetry backend not usable (%s); ingestion not traced", exc)
        target = TraceTarget("none", service)
    tracing = start_tracing(target, home.root, {"floe.product": artifacts.metadata.product})
    attrs = {"floe.product": artifacts.metadata.product, "floe.run_id": run_id}
    obs = IngestTrace(tracing, attrs)
    try:
        with trace.use_span(obs.root, end_on_exit=False):
            yield obs
    except BaseException as exc:
        obs.root.set_status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"[:200])
        raise
    finally:
        obs.root.end()
        tracing.close()
