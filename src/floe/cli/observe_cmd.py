"""``floe traces show``, ``floe lineage show`` and ``floe metrics serve``."""

from __future__ import annotations

import sys
from pathlib import Path

from floe.app.observe import lineage_view, serve_metrics, trace_trees
from floe.app.platform import home_of
from floe.cli.output import console


def traces_show(manifest: Path | None, run: str | None) -> int:
    """Span trees of the latest run of each product (or of run ``run``); 1 when none."""
    found = trace_trees(manifest, run)
    out = console()
    if not found.views:
        where = f"run {run}" if run else "any run"
        out.print(f"no trace of {where} in {found.path} (telemetry exporter 'file')")
        return 1
    for tree in found.views:
        out.print(tree)
    return 0


def lineage_show(manifest: Path | None, product: str) -> int:
    """The lineage graph of ``product`` as a tree; 1 when no event names it."""
    found = lineage_view(manifest, product)
    out = console()
    if not found.views:
        out.print(f"no lineage of {product} in {found.path} (lineage transport 'file')")
        return 1
    out.print(found.views[0])
    return 0


def metrics_serve(manifest: Path | None, port: int, host: str) -> None:
    """Serve /metrics from the run records until interrupted."""
    served = serve_metrics(home_of(manifest), host, port)
    console().print(f"floe metrics on {served.url} from {served.runs}")
    sys.stdout.flush()
    served.wait()
