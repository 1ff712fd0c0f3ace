"""The stage protocol and the pipeline that runs stages in order, each timed and traced."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Protocol

from opentelemetry import trace

from floe.compile.context import CompileContext, StageTiming


class Stage(Protocol):
    """One compile stage: a name and ``run(context)``."""

    name: str

    def run(self, ctx: CompileContext) -> None:
        """Do the stage's work, reading and writing ``ctx``; raise FloeError on user errors."""


def run_stages(ctx: CompileContext, stages: Sequence[Stage]) -> CompileContext:
    """Run ``stages`` in order; each gets a ``compile.<name>`` span and a timing."""
    tracer = trace.get_tracer("floe.compile")
    with tracer.start_as_current_span("compile") as root:
        root.set_attribute("floe.product_dir", ctx.options.product_dir.name)
        root.set_attribute("floe.environment", ctx.options.env)
        for stage in stages:
            with tracer.start_as_current_span(f"compile.{stage.name}") as span:
                start = time.perf_counter()
                try:
                    stage.run(ctx)
                except Exception as exc:
                    span.set_status(trace.StatusCode.ERROR, type(exc).__name__)
                    raise
                finally:
                    elapsed = time.perf_counter() - start
                    ctx.timings.append(StageTiming(stage.name, elapsed))
                    span.set_attribute("floe.stage.seconds", elapsed)
    return ctx
