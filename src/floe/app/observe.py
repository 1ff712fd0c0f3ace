"""`floe traces show`, `floe lineage show`, `floe metrics serve`: what the platform recorded."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from floe.app.platform import home_of
from floe.runtime.home import PlatformHome


@dataclass(frozen=True)
class Found:
    """Renderables (span trees, a lineage tree) read from ``path``; none found: empty."""

    path: Path
    views: list[Any]


def trace_trees(manifest: Path | None, run: str | None) -> Found:
    """Span trees of the latest run of each product (or of run ``run``)."""
    from floe.observe.spanfile import read_spans, spans_file
    from floe.observe.views import run_roots, span_tree

    path = spans_file(home_of(manifest).root)
    spans = read_spans(path)
    return Found(path, [span_tree(root, spans) for root in run_roots(spans, run)])


def lineage_view(manifest: Path | None, product: str) -> Found:
    """The lineage graph of ``product`` as a tree (none when no event names it)."""
    from floe.observe.lineage_emit import events_file
    from floe.observe.views import lineage_tree

    path = events_file(home_of(manifest).root)
    events = _read_events(path)
    if not any(e["job"]["namespace"] == product for e in events):
        return Found(path, [])
    return Found(path, [lineage_tree(events, product)])


def _read_events(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@dataclass
class MetricsServer:
    """``/metrics`` of the platform's run records, served in a background thread."""

    url: str
    runs: Path
    server: Any
    thread: threading.Thread

    def wait(self) -> None:
        """Serve until interrupted (KeyboardInterrupt stops the server)."""
        try:
            self.thread.join()
        except KeyboardInterrupt:
            self.stop()

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()


def serve_metrics(home: PlatformHome, host: str, port: int) -> MetricsServer:
    """Start serving the Prometheus metrics of ``home``'s run records on ``host:port``."""
    from prometheus_client import start_http_server

    from floe.observe.metrics import registry_for

    server, thread = start_http_server(port, addr=host, registry=registry_for(home.runs))
    return MetricsServer(f"http://{host}:{port}/metrics", home.runs, server, thread)
