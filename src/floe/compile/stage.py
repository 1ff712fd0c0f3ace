"""The stage protocol and the pipeline that runs stages in order, each timed.

Compile imports no tracing library: each stage's wall-clock start and end land in
``ctx.timings``, and whoever wants spans (observability, one layer up) subscribes with
:func:`on_stages_run` and turns them into ``compile``/``compile.<stage>`` spans.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Protocol

from floe.compile.context import CompileContext, StageTiming

#: Called after every :func:`run_stages` (also when a stage failed), with the context.
StagesListener = Callable[[CompileContext], None]
_LISTENERS: list[StagesListener] = []


class Stage(Protocol):
    """One compile stage: a name and ``run(context)``."""

    name: str

    def run(self, ctx: CompileContext) -> None:
        """Do the stage's work, reading and writing ``ctx``; raise FloeError on user errors."""


def on_stages_run(listener: StagesListener) -> Callable[[], None]:
    """Subscribe ``listener`` (once) to every run of stages in this process; returns the
    function that unsubscribes it."""
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)

    def unsubscribe() -> None:
        if listener in _LISTENERS:
            _LISTENERS.remove(listener)

    return unsubscribe


def run_stages(ctx: CompileContext, stages: Sequence[Stage]) -> CompileContext:
    """Run ``stages`` in order, each timed into ``ctx.timings``; then tell the listeners."""
    try:
        for stage in stages:
            start_ns, start = time.time_ns(), time.perf_counter()
            error = ""
            try:
                stage.run(ctx)
            except Exception as exc:
                error = type(exc).__name__
                raise
            finally:
                elapsed = time.perf_counter() - start
                end_ns = start_ns + round(elapsed * 1e9)
                ctx.timings.append(StageTiming(stage.name, elapsed, start_ns, end_ns, error))
    finally:
        for listener in _LISTENERS:
            listener(ctx)
    return ctx
