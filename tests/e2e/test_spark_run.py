"""The same product on DuckDB and on Spark (issue 13 points 2 and 4; FR-052, GAP-008): a
floe.yaml run with the manifest's duckdb, then with ``compute: spark`` on a fresh platform home,
publishes the same tables with the same rows; on Spark every table is published through an
Iceberg audit branch with the run's id and trace id, and a failing test leaves ``main`` as it
was. One Spark (JVM) for the module: the runs are in-process, as ``floe run`` runs them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import TINY_SPEC, write_tiny
from tests.e2e.spark import catalog_of as _catalog
from tests.e2e.spark import checksum as _checksum
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
    catalog = _catalog(spark)
    before = {n: catalog.load_table(f"tiny.{n}").current_snapshot().snapshot_id for n in TABLES}
    (spark / "seeds" / "raw_orders.csv").write_text("id,amount\n1,10\n2,20\n2,25\n")
    second = _run_in(spark)
    assert not second.success
    assert [a.name for a in second.assets if a.status == "published"] == ["raw_orders"]
    failure = second.failure or ""
    assert "stg_orders: test_failed: test failed: unique_stg_orders_id" in failure
    assert "int_orders: skipped" in failure
    assert "mart_revenue: skipped" in failure
    tested = json.loads((spark / ".floe" / "runs" / second.run_id / "dbt-test" /
                         "run_results.json").read_text())["results"]  # fmt: skip
    status = {r["unique_id"].split(".")[2]: r["status"] for r in tested}
    assert status["unique_stg_orders_id"] == "fail"
    assert status["not_null_stg_orders_id"] == "pass"
    catalog = _catalog(spark)
    branch = "audit_" + second.run_id.replace("-", "_")
    stg = catalog.load_table("tiny.stg_orders")
    assert stg.current_snapshot().snapshot_id == before["stg_orders"]
    assert sorted(stg.metadata.refs) == sorted(["main", f"run-{first.run_id}", branch])
    assert sorted(stg.scan().to_arrow()["id"].to_pylist()) == [1, 2]
    held = stg.scan(snapshot_id=stg.metadata.refs[branch].snapshot_id).to_arrow()
    assert sorted(held["id"].to_pylist()) == [1, 2, 2]
    for name in ("int_orders", "mart_revenue"):
        table = catalog.load_table(f"tiny.{name}")
        assert table.current_snapshot().snapshot_id == before[name], name
        assert sorted(table.metadata.refs) == ["main", f"run-{first.run_id}"], name
    assert catalog.load_table("tiny.raw_orders").scan().to_arrow().num_rows == 3
