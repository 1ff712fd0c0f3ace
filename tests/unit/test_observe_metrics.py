"""Metrics from run records: exposition, the Grafana dashboard's series, Pushgateway."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from floe.observe.metrics import push, registry_for
from floe.observe.records import write_record
from tests.conftest import ROOT
from tests.e2e.obs_servers import serve


def _record(run_id: str, status: str, seconds: float, rows: int, failed: int) -> dict[str, Any]:
    return {
        "run_id": run_id, "product": "p", "namespace": "p", "status": status,
        "started_at": 100.0, "ended_at": 100.0 + seconds, "duration_seconds": seconds,
        "trace_id": "0" * 32, "tests_failed": failed, "observe_seconds": 0.01,
        "nodes": [
            {"unique_id": "model.p.m", "name": "m", "kind": "model", "tier": "gold",
             "status": "published", "seconds": seconds / 2, "rows": rows,
             "rows_written": rows, "table": "p.m", "snapshot_id": "1", "tests_passed": 1,
             "failed_tests": []},
        ],
    }  # fmt: skip


def _families(text: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return out


@pytest.mark.requirement("FR-043")
def test_records_become_counters_histogram_and_gauges(tmp_path: Path) -> None:
    """Two successful runs and one failed: counts by status, duration histogram, rows summed,
    test failures summed, latest model duration and model count."""
    write_record(tmp_path, _record("a", "success", 4.0, 10, 0))
    write_record(tmp_path, _record("b", "failed", 40.0, 5, 2))
    write_record(tmp_path, _record("c", "success", 6.0, 7, 0))
    fams = _families(generate_latest(registry_for(tmp_path)).decode())
    p = (("product", "p"),)
    assert fams["floe_pipeline_runs_total"] == {
        (("product", "p"), ("status", "failed")): 1, (("product", "p"), ("status", "success")): 2
    }  # fmt: skip
    assert fams["floe_pipeline_duration_seconds_count"][p] == 3
    assert fams["floe_pipeline_duration_seconds_sum"][p] == 50.0
    assert fams["floe_pipeline_duration_seconds_bucket"][(("le", "5.0"), ("product", "p"))] == 1
    assert fams["floe_pipeline_duration_seconds_bucket"][(("le", "10.0"), ("product", "p"))] == 2
    model = (("model", "m"), ("product", "p"))
    assert fams["floe_rows_written_total"][model] == 22
    assert fams["floe_model_duration_seconds"][model] == 3.0
    assert fams["floe_test_failures_total"][p] == 2
    assert fams["floe_models"][p] == 1
    assert fams["floe_last_run_success"][p] == 1


@pytest.mark.requirement("TQR-023")
@pytest.mark.requirement("FR-044")
def test_the_grafana_dashboard_queries_only_series_floe_exposes(tmp_path: Path) -> None:
    """Every metric the dashboard's panels query is exposed by floe's metrics."""
    write_record(tmp_path, _record("a", "success", 4.0, 10, 0))
    exposed = set(_families(generate_latest(registry_for(tmp_path)).decode()))
    dashboard = json.loads((ROOT / "deploy/grafana/floe.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    used = {m for e in exprs for m in re.findall(r"\bfloe_[a-z_]+", e)}
    assert len(dashboard["panels"]) == 8
    assert used <= exposed
    assert {"floe_pipeline_runs_total", "floe_pipeline_duration_seconds_bucket",
            "floe_model_duration_seconds", "floe_rows_written_total",
            "floe_test_failures_total", "floe_models"} <= used  # fmt: skip


@contextmanager
def pushgateway() -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """A local server accepting Pushgateway PUTs."""
    got: list[tuple[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return

        def do_PUT(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            got.append((self.path, body.decode()))
            self.send_response(200)
            self.end_headers()

    with serve(Handler) as url:
        yield url, got


@pytest.mark.requirement("FR-043")
def test_a_run_is_pushed_to_the_pushgateway_grouped_by_product() -> None:
    """push() PUTs the run's series to /metrics/job/floe/product/<product>."""
    with pushgateway() as (url, got):
        push(url, _record("a", "success", 4.0, 10, 0))
    ((path, body),) = got
    assert path == "/metrics/job/floe/product/p"
    fams = _families(body)
    assert fams["floe_pipeline_runs_total"] == {(("product", "p"), ("status", "success")): 1}
