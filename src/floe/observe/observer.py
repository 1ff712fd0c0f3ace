"""Observe one product run: the ``floe.run`` trace, lineage events, the run record.

``observe_run`` wraps a run; the runner reports to the returned :class:`RunObserver` (see
:mod:`floe.runtime.hooks`). Spans of dbt nodes carry the start and end dbt reports.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.trace import Span, StatusCode, format_span_id, format_trace_id

from floe.observe.compile_trace import hand_over
from floe.observe.dbt_timing import DbtNode, timed_nodes
from floe.observe.lineage import Catalog, EventSpec, run_event
from floe.observe.lineage_emit import LineageEmitter
from floe.observe.live import LiveModels
from floe.observe.logs import configure, get_logger
from floe.observe.records import write_record
from floe.observe.run_lineage import ModelContext, RunLineage, assertions_for, inputs_of
from floe.observe.settings import LineageTarget, TraceTarget, lineage_target, trace_target
from floe.observe.tracing import FLUSH_DEADLINE, RunTracing, start_tracing

if TYPE_CHECKING:
    from floe.runtime.home import PlatformHome
    from floe.runtime.resolved import ResolvedPlugins
    from floe.runtime.runner import NodeOutcome, RunReport
    from floe.spec.artifacts import CompiledArtifacts

LOG = logging.getLogger("floe.observe")
RUN_LOG = get_logger("floe.run")
PHASES = ("seed", "build", "test", "publish")
Ids = tuple[str, str] | None
PASSING = {"success", "pass", "warn"}


def _ids(span: Span) -> Ids:
    """(trace id, span id) of ``span``; None when tracing is disabled (OTEL_SDK_DISABLED)."""
    ctx = span.get_span_context()
    if not ctx.is_valid:
        return None
    return format_trace_id(ctx.trace_id), format_span_id(ctx.span_id)


class RunObserver:
    """Receives the runner's facts; turns them into spans, lineage events and a record."""

    def __init__(self, artifacts: CompiledArtifacts, plugins: ResolvedPlugins, run_id: str,
                 tracing: RunTracing, emitter: LineageEmitter) -> None:  # fmt: skip
        home = plugins.home
        self.artifacts = artifacts
        self.home = home
        self.run_id = run_id
        self.tracing = tracing
        self.emitter = emitter
        meta = artifacts.metadata
        self.tiers = {t.unique_id: str(t.tier) for t in artifacts.transforms}
        self.attrs = {"floe.product": meta.product, "floe.run_id": run_id}
        cache = home.root / "lineage" / "columns"
        self.lineage = RunLineage(emitter.target.namespace, meta.namespace, run_id,
                                  _catalog(plugins), cache)  # fmt: skip
        self.columns: dict[str, list[tuple[str, str]]] = {}
        self.windows: dict[str, tuple[int, int]] = {}
        self.nodes: list[DbtNode] = []
        self._invocation: Span | None = None
        self.overhead = 0.0  # seconds the run thread spent on observability
        self.inputs = {t.unique_id: [*t.depends_on, *t.seeds] for t in artifacts.transforms}
        self.sources = {s.name: s.namespace for s in artifacts.sources}
        self.live = LiveModels(tracing.tracer, self.attrs, self.tiers, self._model_started)
        self.started_live: set[str] = set()
        self.started_ns = time.time_ns()
        self.root = tracing.tracer.start_span(
            "floe.run", attributes={**self.attrs, "dagster.run_id": run_id,
                                    "floe.namespace": meta.namespace,
                                    "floe.environment": artifacts.environment},
        )  # fmt: skip
        self.ids = _ids(self.root)
        self.trace_id = self.ids[0] if self.ids else None

    @contextmanager
    def timed(self) -> Iterator[None]:
        """Count the enclosed time as observability overhead of the run."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.overhead += time.perf_counter() - start

    def emit(self, spec: EventSpec) -> None:
        """Send one lineage event (never raises)."""
        try:
            self.emitter.emit(run_event(spec, self.lineage.catalog))
        except Exception as exc:  # building an event must never break the run
            LOG.debug("lineage event not built: %s", exc)

    @contextmanager
    def phase(self, name: str, **attributes: str) -> Iterator[None]:
        """A child span of the current one (``floe.<phase>`` for the four phases)."""
        span_name = f"floe.{name}" if name in PHASES else _detail_name(name, attributes)
        span = self.tracing.tracer.start_span(span_name, attributes={**self.attrs, **attributes})
        start = time.time_ns()
        try:
            with trace.use_span(span, end_on_exit=False), self._listen(name, span):
                yield
        except BaseException as exc:
            span.set_status(StatusCode.ERROR, type(exc).__name__)
            raise
        finally:
            span.end()
            if name in ("build", "test"):
                self._invocation = span
            if name == "iceberg.publish":
                self.windows[attributes.get("iceberg.table", "")] = (start, time.time_ns())

    def _listen(self, name: str, span: Span) -> AbstractContextManager[None]:
        return self.live.listening(span) if name == "build" else nullcontext()

    def _model_started(self, unique_id: str, name: str, start_ns: int, span: Span) -> None:
        """dbt began a model: its START event goes out now."""
        self.started_live.add(unique_id)
        inputs = self.inputs.get(unique_id, [])
        self.emit(self.lineage.model_start(unique_id, name, start_ns, inputs, _ids(span)))

    def published(self, outcome: NodeOutcome, columns: list[tuple[str, str]]) -> None:
        """Remember the published table's columns."""
        self.columns[outcome.unique_id] = columns

    def dbt_results(
        self, results: list[dict[str, Any]], manifest: dict[str, Any], outcomes: list[NodeOutcome]
    ) -> None:
        """One span per dbt node with dbt's own times; model lineage events."""
        with self.timed():
            self._dbt_results(results, manifest, outcomes)

    def _dbt_results(
        self, results: list[dict[str, Any]], manifest: dict[str, Any], outcomes: list[NodeOutcome]
    ) -> None:
        nodes = timed_nodes(results, manifest)
        self.nodes += nodes
        parent = self._invocation or self.root
        by_id = {o.unique_id: o for o in outcomes}
        checks = assertions_for(nodes)
        known = {uid.rsplit(".", 1)[-1]: [c for c, _ in cols] for uid, cols in self.columns.items()}
        for node in nodes:
            span = self._node_span(node, parent, by_id.get(node.unique_id))
            with trace.use_span(span, end_on_exit=False):
                RUN_LOG.info("dbt node finished", node=node.unique_id, status=node.status,
                             seconds=_seconds(node))  # fmt: skip
            if node.resource_type == "model":
                outcome = by_id.get(node.unique_id)
                quality = [(r.name, r.success, r.column) for r in outcome.checks] if outcome else []
                ctx = ModelContext(inputs_of(manifest, node.unique_id, self.sources),
                                   self.columns.get(node.unique_id, []),
                                   checks.get(node.unique_id, []) + quality, known)  # fmt: skip
                started = node.unique_id in self.started_live
                for spec in self.lineage.model_events(node, by_id.get(node.unique_id), ctx,
                                                      _ids(span), started):  # fmt: skip
                    self.emit(spec)

    def _node_span(self, node: DbtNode, parent: Span, outcome: NodeOutcome | None) -> Span:
        fallback = getattr(parent, "end_time", None) or time.time_ns()
        start = node.start_ns or fallback
        end = max(node.end_ns or fallback, start + 1)
        attrs: dict[str, Any] = {**self.attrs, "dbt.unique_id": node.unique_id,
                                 "dbt.resource_type": node.resource_type,
                                 "dbt.status": node.status}  # fmt: skip
        tier = self.tiers.get(node.attached_to or node.unique_id)
        if tier:
            attrs["floe.tier"] = tier
        if node.attached_to:
            attrs["dbt.attached_node"] = node.attached_to
        attrs.update(_outcome_attrs(outcome))
        span = self.live.take(node.unique_id)
        if span is not None:
            span.set_attributes(attrs)
            end = max(end, (getattr(span, "start_time", None) or start) + 1)
        else:
            span = self.tracing.tracer.start_span(
                f"dbt.{node.resource_type} {node.name}",
                context=trace.set_span_in_context(parent),
                start_time=start,
                attributes=attrs,
            )
        if node.status not in PASSING:
            span.set_status(StatusCode.ERROR, node.message[:200] or node.status)
        span.end(end_time=end)
        return span

    def finish(self, report: RunReport) -> None:
        """Asset materialization events and the root span's outcome attributes."""
        with self.timed():
            self._finish(report)

    def _finish(self, report: RunReport) -> None:
        for outcome in report.outcomes:
            if outcome.publish is None:
                continue
            window = self.windows.get(outcome.publish.identifier)
            if window is None:
                continue
            cols = self.columns.get(outcome.unique_id, [])
            for spec in self.lineage.asset_events(outcome, window, cols, self._ids()):
                self.emit(spec)
        self.root.set_attributes(_report_attrs(report))
        if not report.ok:
            self.root.set_status(StatusCode.ERROR, ", ".join(report.failed_tests)[:200] or "failed")
        self.report = report

    def _ids(self) -> Ids:
        return self.ids

    report: RunReport | None = None


def _seconds(node: DbtNode) -> float | None:
    if node.start_ns is None or node.end_ns is None:
        return None
    return round((node.end_ns - node.start_ns) / 1e9, 4)


def _detail_name(name: str, attributes: dict[str, str]) -> str:
    target = attributes.get("iceberg.table") or attributes.get("dbt.unique_id", "")
    return f"{name} {target.rsplit('.', 1)[-1]}" if target else name


def _outcome_attrs(outcome: NodeOutcome | None) -> dict[str, Any]:
    if outcome is None:
        return {}
    attrs: dict[str, Any] = {"floe.status": outcome.status}
    if outcome.publish is not None:
        pub = outcome.publish
        attrs["floe.rows"] = pub.rows_total
        attrs["floe.rows_written"] = pub.rows_written
        attrs["iceberg.table"] = pub.identifier
        attrs["iceberg.snapshot_id"] = str(pub.snapshot_id)
    return attrs


def _report_attrs(report: RunReport) -> dict[str, Any]:
    published = [o for o in report.outcomes if o.publish is not None]
    return {
        "floe.models": sum(1 for o in report.outcomes if o.kind == "model"),
        "floe.published": len(published),
        "floe.rows_written": sum(o.publish.rows_written for o in published if o.publish),
        "floe.tests_passed": report.tests_passed,
        "floe.tests_failed": len(report.failed_tests),
        "floe.status": "success" if report.ok else "failed",
    }


def _catalog(plugins: ResolvedPlugins) -> Catalog:
    ref = plugins.choices.get("catalog")
    kind = ref.type if ref else "sql"
    name = str((ref.config if ref else {}).get("name") or "floe")
    warehouse = None
    try:
        warehouse = plugins.warehouse_location()
    except Exception as exc:  # the warehouse is informative only
        LOG.debug("no warehouse for lineage: %s", exc)
    return Catalog(name=name, type=kind, warehouse=warehouse)


def _targets(
    artifacts: CompiledArtifacts, plugins: ResolvedPlugins
) -> tuple[TraceTarget, LineageTarget]:
    """Where spans and events go; a misconfigured backend warns and is switched off."""
    service = f"floe-{artifacts.metadata.product}"
    try:
        traces = trace_target(artifacts, plugins=plugins)
    except Exception as exc:
        LOG.warning("telemetry backend not usable (%s); tracing off for this run", exc)
        traces = TraceTarget("none", service)
    try:
        lineage = lineage_target(artifacts, plugins=plugins)
    except Exception as exc:
        LOG.warning("lineage backend not usable (%s); lineage off for this run", exc)
        lineage = LineageTarget("none", artifacts.metadata.product)
    return traces, lineage


@contextmanager
def observe_run(
    artifacts: CompiledArtifacts,
    home: PlatformHome,
    run_id: str,
    plugins: ResolvedPlugins | None = None,
) -> Iterator[RunObserver]:
    """Trace, lineage and record of one run (``plugins``: the run's, else resolved here); the
    run's outcome is never changed by them."""
    from floe.observe.record_build import run_record
    from floe.runtime.resolved import ResolvedPlugins

    plugins = plugins or ResolvedPlugins(artifacts.plugins, home)
    began = time.perf_counter()
    threading.Thread(target=_warm_up, daemon=True, name="floe-warm-up").start()
    configure(artifacts.observability.logging.format, artifacts.observability.logging.level)
    traces, lineage = _targets(artifacts, plugins)
    tracing = start_tracing(traces, home.root, {"floe.product": artifacts.metadata.product})
    hand_over(tracing)  # spans of the compile that preceded this run in this process
    obs = RunObserver(artifacts, plugins, run_id, tracing, LineageEmitter(lineage, home.root))
    obs.emit(obs.lineage.pipeline_event("START", obs.started_ns, obs._ids()))
    obs.overhead += time.perf_counter() - began
    error = ""
    try:
        with trace.use_span(obs.root, end_on_exit=False):
            RUN_LOG.info("run started", product=artifacts.metadata.product, run_id=run_id)
            yield obs
    except BaseException as exc:
        error = f"{type(exc).__name__}: {exc}"
        obs.root.set_status(StatusCode.ERROR, error[:200])
        raise
    finally:
        ok = not error and obs.report is not None and obs.report.ok
        with obs.timed():
            end = _end(obs, ok, error)
        _safe_record(obs, run_record, end, ok)


def _end(obs: RunObserver, ok: bool, error: str) -> int:
    """End the root span, send the pipeline's last event, flush everything (bounded)."""
    obs.live.abandon()
    with trace.use_span(obs.root, end_on_exit=False):
        RUN_LOG.info("run finished", product=obs.artifacts.metadata.product, run_id=obs.run_id,
                     status="success" if ok else "failed", error=error or None)  # fmt: skip
    obs.root.end()
    end = time.time_ns()
    state = "COMPLETE" if ok else "FAIL"
    failure = error or ", ".join(obs.report.failed_tests if obs.report else []) or "failed"
    obs.emit(obs.lineage.pipeline_event(state, end, obs._ids(), "" if ok else failure))
    began = time.monotonic()
    pusher = _start_push(obs, end, ok)
    _close(obs)
    if pusher is not None:
        pusher.join(max(0.0, FLUSH_DEADLINE - (time.monotonic() - began)))
    return end


def _start_push(obs: RunObserver, end_ns: int, ok: bool) -> threading.Thread | None:
    """Push the run's metrics to the Pushgateway, if one is configured (in the background)."""
    cfg = obs.artifacts.observability.metrics
    if not (cfg.enabled and cfg.pushgateway):
        return None
    from floe.observe.metrics import push
    from floe.observe.record_build import run_record

    record = run_record(obs, end_ns, ok)
    worker = threading.Thread(target=push, args=(cfg.pushgateway, record), daemon=True)
    worker.start()
    return worker


def _warm_up() -> None:
    """Import sqlglot's lineage while dbt works, not when the results arrive."""
    import sqlglot.lineage
    import sqlglot.optimizer.qualify  # noqa: F401


def _safe_record(obs: RunObserver, build: Any, end_ns: int, ok: bool) -> None:
    try:
        write_record(obs.home.runs, build(obs, end_ns, ok))
    except Exception as exc:  # the record feeds metrics only
        LOG.warning("run record not written: %s", exc)


def _close(obs: RunObserver) -> None:
    close_backends(obs.tracing, obs.emitter)


def close_backends(tracing: RunTracing, emitter: LineageEmitter) -> None:
    """Flush spans and lineage in parallel, each bounded by its own deadline (the lineage
    backend's ``drain_timeout``)."""
    workers = [threading.Thread(target=tracing.close, daemon=True),
               threading.Thread(target=emitter.close, daemon=True)]  # fmt: skip
    for worker in workers:
        worker.start()
    bound = max(2.0, emitter.target.drain_seconds + 1.0)
    for worker in workers:
        worker.join(bound)
