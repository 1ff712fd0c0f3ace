"""Prometheus metrics of pipeline runs, computed from the run records in the platform home.

Served by ``floe metrics serve`` (read at every scrape, so new runs show up without restart)
and pushed to a Pushgateway after each run when ``observability.metrics.pushgateway`` is set.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from floe.observe.records import read_records
from floe.spec.pushgateway import pushgateway_address

LOG = logging.getLogger("floe.observe")
BUCKETS = (1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)

Records = Callable[[], list[dict[str, Any]]]


def _histogram(records: list[dict[str, Any]]) -> HistogramMetricFamily:
    fam = HistogramMetricFamily(
        "floe_pipeline_duration_seconds", "Wall time of pipeline runs.", labels=["product"]
    )
    by_product: dict[str, list[float]] = defaultdict(list)
    for r in records:
        by_product[r["product"]].append(float(r["duration_seconds"]))
    for product, values in sorted(by_product.items()):
        buckets = [(str(b), float(sum(v <= b for v in values))) for b in BUCKETS]
        buckets.append(("+Inf", float(len(values))))
        fam.add_metric([product], buckets, sum(values))
    return fam


def _runs(records: list[dict[str, Any]]) -> Iterator[Metric]:
    runs = CounterMetricFamily(
        "floe_pipeline_runs", "Pipeline runs by outcome.", labels=["product", "status"]
    )
    fails = CounterMetricFamily("floe_test_failures", "Failed dbt tests.", labels=["product"])
    counts: dict[tuple[str, str], int] = defaultdict(int)
    failures: dict[str, int] = defaultdict(int)
    for r in records:
        counts[(r["product"], r["status"])] += 1
        failures[r["product"]] += int(r.get("tests_failed", 0))
    for (product, status), n in sorted(counts.items()):
        runs.add_metric([product, status], n)
    for product, n in sorted(failures.items()):
        fails.add_metric([product], n)
    yield runs
    yield fails
    yield _histogram(records)


def _nodes(records: list[dict[str, Any]]) -> Iterator[Metric]:
    rows = CounterMetricFamily(
        "floe_rows_written", "Rows written to Iceberg.", labels=["product", "model"]
    )
    written: dict[tuple[str, str], int] = defaultdict(int)
    seconds: dict[tuple[str, str], float] = {}
    for r in records:
        for node in r.get("nodes", []):
            key = (r["product"], node["name"])
            written[key] += int(node.get("rows_written") or 0)
            if node.get("kind") == "model" and node.get("seconds") is not None:
                seconds[key] = float(node["seconds"])  # the latest run wins
    for key, n in sorted(written.items()):
        rows.add_metric(list(key), n)
    yield _checks(records)
    model = GaugeMetricFamily(
        "floe_model_duration_seconds",
        "dbt's time for a model in its latest run.",
        labels=["product", "model"],
    )
    for key, value in sorted(seconds.items()):
        model.add_metric(list(key), value)
    yield rows
    yield model


def _checks(records: list[dict[str, Any]]) -> Metric:
    """Quality checks (beyond dbt tests, e.g. GX expectations) by model, check and result."""
    fam = CounterMetricFamily(
        "floe_quality_checks",
        "Quality checks validated before publishing, by result.",
        labels=["product", "model", "check", "result"],
    )
    counts: dict[tuple[str, str, str, str], int] = defaultdict(int)
    for r in records:
        for node in r.get("nodes", []):
            for check in node.get("checks", []):
                result = "passed" if check.get("success") else "failed"
                counts[(r["product"], node["name"], str(check.get("check")), result)] += 1
    for key, n in sorted(counts.items()):
        fam.add_metric(list(key), n)
    return fam


def _latest(records: list[dict[str, Any]]) -> Iterator[Metric]:
    last = {r["product"]: r for r in records}
    models = GaugeMetricFamily("floe_models", "Models in the latest run.", labels=["product"])
    stamp = GaugeMetricFamily(
        "floe_last_run_timestamp_seconds", "End of the latest run.", labels=["product"]
    )
    ok = GaugeMetricFamily(
        "floe_last_run_success", "1 when the latest run succeeded.", labels=["product"]
    )
    for product, r in sorted(last.items()):
        models.add_metric([product], sum(1 for n in r.get("nodes", []) if n["kind"] == "model"))
        stamp.add_metric([product], float(r["ended_at"]))
        ok.add_metric([product], 1.0 if r["status"] == "success" else 0.0)
    yield models
    yield stamp
    yield ok


class RunRecordCollector(Collector):
    """Every metric family, recomputed from the records at each scrape."""

    def __init__(self, records: Records) -> None:
        self.records = records

    def collect(self) -> Iterator[Metric]:
        """The metric families."""
        records = self.records()
        yield from _runs(records)
        yield from _nodes(records)
        yield from _latest(records)


def registry_for(runs_dir: Path) -> CollectorRegistry:
    """A registry serving the records under ``runs_dir``."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RunRecordCollector(lambda: read_records(runs_dir)))
    return registry


def push(gateway: str, record: dict[str, Any], timeout: float = 1.0) -> None:
    """Push one run's metrics to a Pushgateway (grouped by product); failures warn. The
    address is read as :mod:`floe.spec.pushgateway` reads it (default port 9091), the same
    host and port the Kubernetes NetworkPolicy opens."""
    from prometheus_client import push_to_gateway

    address = pushgateway_address(gateway)
    if address is None:
        LOG.warning("metrics backend pushgateway %r names no host", gateway)
        return
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RunRecordCollector(lambda: [record]))
    try:
        push_to_gateway(address.url, job="floe", registry=registry, timeout=timeout,
                        grouping_key={"product": str(record["product"])})  # fmt: skip
    except Exception as exc:  # metrics must never break the run
        LOG.warning("metrics backend pushgateway %s not reachable (%s)", gateway, exc)
