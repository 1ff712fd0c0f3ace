"""``floe traces show``, ``floe lineage show`` and ``floe metrics serve``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from floe.cli.output import console
from floe.runtime.home import PlatformHome, find_manifest


def _home(manifest: Path | None) -> PlatformHome:
    return PlatformHome.for_manifest(find_manifest(manifest))


def traces_show(manifest: Path | None, run: str | None) -> int:
    """Span trees of the latest run of each product (or of run ``run``); 1 when none."""
    from floe.observe.spanfile import read_spans, spans_file
    from floe.observe.views import run_roots, span_tree

    home = _home(manifest)
    spans = read_spans(spans_file(home.root))
    roots = run_roots(spans, run)
    out = console()
    if not roots:
        where = f"run {run}" if run else "any run"
        out.print(f"no trace of {where} in {spans_file(home.root)} (telemetry exporter 'file')")
        return 1
    for root in roots:
        out.print(span_tree(root, spans))
    return 0


def _read_events(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def lineage_show(manifest: Path | None, product: str) -> int:
    """The lineage graph of ``product`` as a tree; 1 when no event names it."""
    from floe.observe.lineage_emit import events_file
    from floe.observe.views import lineage_tree

    path = events_file(_home(manifest).root)
    events = _read_events(path)
    out = console()
    if not any(e["job"]["namespace"] == product for e in events):
        out.print(f"no lineage of {product} in {path} (lineage transport 'file')")
        return 1
    out.print(lineage_tree(events, product))
    return 0


def metrics_serve(manifest: Path | None, port: int, host: str) -> None:
    """Serve /metrics from the run records until interrupted."""
    from prometheus_client import start_http_server

    from floe.observe.metrics import registry_for

    home = _home(manifest)
    server, thread = start_http_server(port, addr=host, registry=registry_for(home.runs))
    console().print(f"floe metrics on http://{host}:{port}/metrics from {home.runs}")
    sys.stdout.flush()
    try:
        thread.join()
    except KeyboardInterrupt:
        server.shutdown()
