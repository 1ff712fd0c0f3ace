"""Compile-stage spans (``compile``, ``compile.<stage>``) exported like the run's spans.

The compiler imports no tracing library: it times its stages (wall-clock start and end) and
tells its listeners. :func:`capture_compile_spans` subscribes; once the artifacts say where
telemetry goes (and which service the product is), the recorded stages become spans there —
and when telemetry is off, OpenTelemetry is never even imported.
"""

from __future__ import annotations

import random
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from floe.compile.stage import on_stages_run
from floe.observe.spanfile import SpanFile, spans_file

if TYPE_CHECKING:
    from floe.compile.context import CompileContext, StageTiming
    from floe.observe.settings import TraceTarget
    from floe.observe.tracing import RunTracing
    from floe.spec.artifacts import CompiledArtifacts

_ID_SPACE = 2**64  # trace ids are sampled on their low 64 bits (OpenTelemetry's ratio rule)
MAX_BUFFERED = 100  # compiles kept until a run or an export takes them


def _warn(message: str, *args: object) -> None:
    """A warning on the ``floe.observe`` logger (``logging`` imported only when one comes:
    a compile that exports fine never loads it)."""
    import logging

    logging.getLogger("floe.observe").warning(message, *args)


@dataclass
class _Compile:
    """The stages of one compile (one context, possibly run in several steps)."""

    ctx: weakref.ref[CompileContext]
    product_dir: str
    environment: str
    timings: list[StageTiming]


_LOCK = threading.Lock()
_STATE: dict[str, list[_Compile]] = {}


def _record(ctx: CompileContext) -> None:
    with _LOCK:
        buffer = _STATE["buffer"]
        for seen in buffer:
            if seen.ctx() is ctx:
                seen.timings = list(ctx.timings)
                return
        name, env = ctx.options.product_dir.name, ctx.options.env
        buffer.append(_Compile(weakref.ref(ctx), name, env, list(ctx.timings)))
        del buffer[:-MAX_BUFFERED]


def capture_compile_spans() -> Callable[[], None]:
    """Record (once per process) the stages of every compile, to be exported later; returns
    the function that stops recording and forgets what was recorded (long-lived processes)."""
    with _LOCK:
        _STATE.setdefault("buffer", [])
    unsubscribe = on_stages_run(_record)

    def stop() -> None:
        unsubscribe()
        with _LOCK:
            _STATE.pop("buffer", None)

    return stop


def _drain() -> list[_Compile]:
    with _LOCK:
        buffer = _STATE.get("buffer", [])
        compiles, buffer[:] = list(buffer), []
    return compiles


def hand_over(tracing: RunTracing) -> int:
    """Turn the recorded compiles into spans of ``tracing``'s provider (its exporter and
    service); how many spans."""
    compiles = _drain()
    if tracing.processor is None or not compiles:
        return 0
    from opentelemetry import context, trace

    tracer = tracing.provider.get_tracer("floe.compile")
    count = 0
    for done in (c for c in compiles if c.timings):
        attributes = {"floe.product_dir": done.product_dir, "floe.environment": done.environment}
        root = tracer.start_span("compile", context.Context(), attributes=attributes,
                                 start_time=done.timings[0].start_ns)  # fmt: skip
        parent = trace.set_span_in_context(root)
        for timing in done.timings:
            span = tracer.start_span(f"compile.{timing.name}", parent, start_time=timing.start_ns)
            span.set_attribute("floe.stage.seconds", timing.seconds)
            if timing.error:
                span.set_status(trace.StatusCode.ERROR, timing.error)
            span.end(end_time=timing.end_ns)
        if done.timings[-1].error:
            root.set_status(trace.StatusCode.ERROR, done.timings[-1].error)
        root.end(end_time=done.timings[-1].end_ns)
        count += 1 + len(done.timings)
    return count


def export_compile_spans(artifacts: CompiledArtifacts, home_root: Path) -> int:
    """Send the recorded compile spans to the product's telemetry backend; how many.

    Nothing is imported or sent when the backend is ``none``.
    """
    if "buffer" not in _STATE:
        return 0
    from floe.observe.settings import trace_target

    try:
        target = trace_target(artifacts)
    except Exception as exc:  # an unusable backend must not fail the compile
        _warn("compile spans not exported: %s", exc)
        return 0
    if target.exporter == "none":
        _drain()
        return 0
    if target.exporter == "file":
        return _to_file(_drain(), target, home_root)
    from floe.observe.tracing import start_tracing

    tracing = start_tracing(target, home_root, {"floe.product": artifacts.metadata.product})
    count = hand_over(tracing)
    tracing.close()
    return count


def _to_file(compiles: list[_Compile], target: TraceTarget, home_root: Path) -> int:
    """The compiles' spans written straight to the embedded 'file' backend (the records its
    exporter writes, without loading OpenTelemetry into a short ``floe compile``); how many."""
    records = [r for done in compiles if done.timings for r in _records(done, target)]
    if records:
        spans = SpanFile(spans_file(home_root))
        spans.append(records)
        spans.close()
    return len(records)


def _records(done: _Compile, target: TraceTarget) -> list[dict[str, Any]]:
    """Span records of one compile: one per stage, then the ``compile`` root; none when the
    trace is not sampled (OpenTelemetry's TraceIdRatioBased rule on the root)."""
    trace_id = _new_id(128)
    if trace_id % _ID_SPACE >= round(target.sample_ratio * _ID_SPACE):
        return []
    root_id, timings = _new_id(64), done.timings
    base = {"trace_id": f"{trace_id:032x}", "service": target.service_name}
    records = [
        {
            **base,
            "span_id": f"{_new_id(64):016x}",
            "parent_span_id": f"{root_id:016x}",
            "name": f"compile.{t.name}",
            "start_ns": t.start_ns,
            "end_ns": t.end_ns,
            "status": "ERROR" if t.error else "UNSET",
            "attributes": {"floe.stage.seconds": t.seconds},
        }
        for t in timings
    ]
    root = {
        **base,
        "span_id": f"{root_id:016x}",
        "parent_span_id": None,
        "name": "compile",
        "start_ns": timings[0].start_ns,
        "end_ns": timings[-1].end_ns,
        "status": "ERROR" if timings[-1].error else "UNSET",
        "attributes": {"floe.product_dir": done.product_dir, "floe.environment": done.environment},
    }
    return [*records, root]


def _new_id(bits: int) -> int:
    """A random non-zero id (as OpenTelemetry's RandomIdGenerator makes them)."""
    while True:
        value = random.getrandbits(bits)
        if value:
            return value
