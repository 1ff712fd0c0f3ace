"""The same product on DuckDB and on Spark (issue 13 points 2 and 4; FR-052, GAP-008): a
floe.yaml run with the manifest's duckdb, then with ``compute: spark`` on a fresh platform home,
publishes the same tables with the same rows; on Spark every table is published through an
Iceberg audit branch with the run's id and trace id, and a failing test leaves ``main`` as it
was. One Spark (JVM) for the module: the runs are in-process, as ``floe run`` runs them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from floe.errors import PolicyError
from tests.conftest import TINY_SPEC, write_tiny
from tests.e2e.spark import catalog_of as _catalog
from tests.e2e.spark import checksum as _checksum
from tests.e2e.spark import run_failing_unique_test
from tests.e2e.spark import run_in as _run_in
from tests.e2e.spark import value as _value
from tests.unit.test_compute_spark import SPARK_MANIFEST, SPARK_SPEC

TABLES = ("raw_orders", "stg_orders", "int_orders", "mart_revenue")


@pytest.fixture(scope="module")
def swapped(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The tiny product run on DuckDB, and the same floe.yaml with ``compute: spark`` on a fresh
    platform home."""
    root = tmp_path_factory.mktemp("swap")
    duck = write_tiny(root / "duck", spec=TINY_SPEC, manifest=SPARK_MANIFEST)
    spark = write_tiny(root / "spark", spec=SPARK_SPEC, manifest=SPARK_MANIFEST)
    return {"duck": (duck, _run_in(duck)), "spark": (spark, _run_in(spark))}


@pytest.mark.requirement("TQR-025")
@pytest.mark.timeout(600)
@pytest.mark.requirement("FR-052")
@pytest.mark.requirement("GAP-008")
def test_same_floe_yaml_on_duckdb_and_spark_gives_the_same_tables(
    swapped: dict[str, Any],
) -> None:
    """Only the ``compute:`` line differs; both runs publish the four tables, and every table
    has the same rows (order-free checksum) and the same column names on both platforms."""
    (duck, duck_run), (spark, spark_run) = swapped["duck"], swapped["spark"]
    assert duck_run.success, duck_run.failure
    assert spark_run.success, spark_run.failure
    assert sorted(a.name for a in spark_run.assets if a.status == "published") == sorted(TABLES)
    a, b = _catalog(duck), _catalog(spark)
    for name in TABLES:
        left, right = a.load_table(f"tiny.{name}"), b.load_table(f"tiny.{name}")
        assert _checksum(left) == _checksum(right), name
        assert [f.name for f in left.schema().fields] == [f.name for f in right.schema().fields]
    revenue = b.load_table("tiny.mart_revenue").scan().to_arrow().to_pylist()
    assert [_value(r["revenue"]) for r in revenue] == ["6E+1"]  # (10 + 20) doubled


@pytest.mark.timeout(600)
@pytest.mark.requirement("FLOE-133")
def test_spark_publishes_through_an_audit_branch_with_run_and_trace_ids(
    swapped: dict[str, Any],
) -> None:
    """Each Spark-published table's current snapshot carries the run id, product, dbt node
    and trace id in its summary, is tagged ``run-<run id>``, and the audit branch is gone
    after the fast-forward (only ``main`` and the run tag remain)."""
    spark, spark_run = swapped["spark"]
    catalog = _catalog(spark)
    for name in TABLES:
        table = catalog.load_table(f"tiny.{name}")
        summary = dict(table.current_snapshot().summary.additional_properties)
        assert summary["floe.run_id"] == spark_run.run_id
        assert summary["floe.product"] == "tiny"
        assert summary["floe.dbt_unique_id"].endswith(f"tiny.{name}")
        assert len(summary["floe.trace_id"]) == 32
        assert summary["engine-name"] == "spark"
        assert sorted(table.metadata.refs) == ["main", f"run-{spark_run.run_id}"]


@pytest.mark.timeout(600)
@pytest.mark.requirement("FLOE-133")
def test_a_failing_test_on_spark_leaves_main_untouched(swapped: dict[str, Any]) -> None:
    """A duplicated order id fails stg_orders' unique test on Spark — run by ``dbt test`` on
    the audit branch the built rows were written to: the run fails naming it; stg_orders keeps
    its published snapshot and rows on ``main`` and its branch, holding the three rows the test
    saw, is left for inspection; what is downstream is held back, its branch dropped; the seed,
    whose own checks passed, is published."""
    spark, first = swapped["spark"]
    second, stg = run_failing_unique_test(spark, TABLES)
    branch = "audit_" + second.run_id.replace("-", "_")
    assert sorted(stg.metadata.refs) == sorted(["main", f"run-{first.run_id}", branch])


def _spans(home: Path, run_id: str) -> list[dict[str, Any]]:
    """The spans of one run (its trace) from the platform home's span file."""
    from floe.observe.spanfile import read_spans

    spans = read_spans(home / "telemetry" / "spans.jsonl")
    (root,) = [s for s in spans if s["name"] == "floe.run"
               and s["attributes"].get("floe.run_id") == run_id]  # fmt: skip
    return [s for s in spans if s["trace_id"] == root["trace_id"]]


def _events(home: Path, run_id: str) -> list[dict[str, Any]]:
    """The OpenLineage events of one run from the platform home's lineage file."""
    lines = (home / "lineage" / "events.jsonl").read_text().splitlines()
    events = [json.loads(line) for line in lines]
    return [
        e
        for e in events
        if run_id
        in (e["run"]["runId"], e["run"]["facets"].get("parent", {}).get("run", {}).get("runId"))
    ]


def _metrics(home: Path, run_id: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The Prometheus samples ``floe metrics serve`` computes from one run's record."""
    from prometheus_client import generate_latest
    from prometheus_client.parser import text_string_to_metric_families

    from floe.observe.metrics import RunRecordCollector
    from floe.observe.records import read_records

    record = [r for r in read_records(home / "runs") if r["run_id"] == run_id]
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RunRecordCollector(lambda: record))
    text = generate_latest(registry).decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for fam in text_string_to_metric_families(text) for s in fam.samples
            if "duration" not in s.name and "timestamp" not in s.name}  # fmt: skip


@pytest.mark.timeout(600)
@pytest.mark.requirement("FLOE-342")
@pytest.mark.requirement("FR-040")
@pytest.mark.requirement("FR-041")
@pytest.mark.requirement("FR-043")
def test_spark_run_is_observed_as_the_duckdb_run(swapped: dict[str, Any]) -> None:
    """The first runs of the swap (no extra run): on Spark as on DuckDB, one trace per run with
    one ``dbt.model`` span per model (dbt's node id and status, the Iceberg table and the
    published snapshot), the Spark steps (session, audit branch per table, publish per table)
    in the same trace; OpenLineage events of the same kinds naming the **same datasets** (Iceberg
    namespace and table) with the same row counts; and the same metrics (runs, rows written
    per model, models, test failures) computed from the run records."""
    (duck, duck_run), (spark, spark_run) = swapped["duck"], swapped["spark"]
    homes = {"duck": (duck / ".floe", duck_run), "spark": (spark / ".floe", spark_run)}
    models = {"duck": {}, "spark": {}}  # type: dict[str, dict[str, dict[str, Any]]]
    for engine, (home, summary) in homes.items():
        spans = _spans(home, summary.run_id)
        for span in spans:
            if span["name"].startswith("dbt.model "):
                models[engine][span["name"].split(" ", 1)[1]] = span["attributes"]
        if engine == "spark":
            tables = sorted(f"tiny.{t}" for t in TABLES)
            names = [s["name"] for s in spans]
            assert names.count("spark.session") == 1
            assert {"floe.build", "floe.publish"} <= set(names)
            for phase in ("iceberg.branch", "iceberg.publish"):
                on = sorted(s["attributes"]["iceberg.table"] for s in spans
                            if s["name"].startswith(phase + " "))  # fmt: skip
                assert on == tables, phase
    assert sorted(models["spark"]) == sorted(models["duck"]) == sorted(TABLES[1:])
    snapshots = {a.name: a.snapshot_id for a in spark_run.assets}
    for name, attributes in models["spark"].items():
        assert attributes["dbt.unique_id"] == models["duck"][name]["dbt.unique_id"]
        assert attributes["dbt.status"] == "success"
        assert attributes["iceberg.table"] == f"tiny.{name}"
        assert attributes["iceberg.snapshot_id"] == snapshots[name]
    lineage = {}
    for engine, (home, summary) in homes.items():
        events = _events(home, summary.run_id)
        lineage[engine] = sorted(
            (e["job"]["facets"]["jobType"]["jobType"], e["eventType"],
             tuple((o["namespace"], o["name"],
                    o.get("outputFacets", {}).get("outputStatistics", {}).get("rowCount"))
                   for o in e.get("outputs", [])))
            for e in events
        )  # fmt: skip
    assert lineage["spark"] == lineage["duck"]
    assert ("MODEL", "COMPLETE", (("iceberg://floe", "tiny.mart_revenue", 1),)) in lineage["spark"]
    duck_metrics = _metrics(duck / ".floe", duck_run.run_id)
    spark_metrics = _metrics(spark / ".floe", spark_run.run_id)
    assert spark_metrics == duck_metrics
    assert spark_metrics[("floe_rows_written_total",
                          (("model", "stg_orders"), ("product", "tiny")))] == 2  # fmt: skip
    assert spark_metrics[("floe_models", (("product", "tiny"),))] == 3


@pytest.mark.timeout(600)
@pytest.mark.requirement("FLOE-342")
@pytest.mark.requirement("FR-094")
def test_the_schema_gate_stops_a_narrowing_spark_run(swapped: dict[str, Any]) -> None:
    """A model narrowing a column of a table Spark published (``id`` bigint → int) stops
    ``floe run`` of the Spark product before anything runs (the gate reads the live Iceberg
    schema whichever engine wrote it): no new snapshot."""
    spark, _ = swapped["spark"]
    stg = spark / "models" / "stg_orders.sql"
    original = stg.read_text()
    catalog = _catalog(spark)
    before = len(catalog.load_table("tiny.stg_orders").snapshots())
    stg.write_text("select cast(id as integer) as id, amount from {{ ref('raw_orders') }}\n")
    try:
        with pytest.raises(PolicyError) as refused:
            _run_in(spark)
    finally:
        stg.write_text(original)
    assert "column 'id' type narrowed: long → int" in str(refused.value)
    assert len(_catalog(spark).load_table("tiny.stg_orders").snapshots()) == before
