"""The swap on a demo product (issue 13 point 4; FR-052, GAP-008): iot-telemetry, whose SQL
is portable (a ``row_number()`` subquery instead of ``qualify``, ``dbt.type_string()`` casts),
run with the manifest's duckdb and then, the same floe.yaml plus ``compute: spark``, on a fresh
platform home: every table it publishes has the same rows under both engines."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DEMO
from tests.e2e import expected
from tests.e2e.spark import catalog_of, checksum, run_in

PRODUCT = "iot-telemetry"
NAMESPACE = "iot_telemetry"
SPARK_APPROVED = (
    "approved_compute: [duckdb, spark]\n"
    "compute_configs:\n  spark: {master: 'local[2]', conf: {spark.driver.memory: 2g}}\n"
)


def _platform(root: Path, compute_line: str) -> Path:
    """The demo product beside a copy of the demo manifest that also approves spark; its
    floe.yaml untouched but for ``compute_line`` (before ``transforms:``)."""
    product = root / PRODUCT
    shutil.copytree(DEMO / PRODUCT, product, ignore=shutil.ignore_patterns("target", "logs"))
    manifest = (DEMO / "manifest.yaml").read_text()
    assert "approved_compute: [duckdb]\n" in manifest
    (root / "manifest.yaml").write_text(
        manifest.replace("approved_compute: [duckdb]\n", SPARK_APPROVED)
    )
    spec = product / "floe.yaml"
    spec.write_text(spec.read_text().replace("\ntransforms:\n", f"\n{compute_line}transforms:\n"))
    return product


@pytest.fixture(scope="module")
def swapped(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """iot-telemetry run on DuckDB, then on Spark on a fresh platform home."""
    root = tmp_path_factory.mktemp("demo-swap")
    duck = _platform(root / "duck", "")
    spark = _platform(root / "spark", "compute: spark\n")
    return {
        "duck": (duck, run_in(duck, root / "duck" / ".floe")),
        "spark": (spark, run_in(spark, root / "spark" / ".floe")),
    }


@pytest.mark.timeout(900)
@pytest.mark.requirement("FR-052")
@pytest.mark.requirement("GAP-008")
def test_demo_product_on_duckdb_and_spark_publishes_the_same_rows(
    swapped: dict[str, Any],
) -> None:
    """The two floe.yaml differ by the ``compute: spark`` line only; both runs succeed and
    publish one table per seed and model of the dbt project; every table has the same rows
    (order-free checksum, numbers compared as values) and the same columns on both platforms;
    the gold table has one row per cleaned equipment id of the sensor seed; Spark's tables
    were written by Spark in its run."""
    (duck, duck_run), (spark, spark_run) = swapped["duck"], swapped["spark"]
    assert duck_run.success, duck_run.failure
    assert spark_run.success, spark_run.failure
    duck_spec, spark_spec = ((p / "floe.yaml").read_text() for p in (duck, spark))
    assert spark_spec.replace("compute: spark\n", "", 1) == duck_spec != spark_spec
    own = sorted(p.stem for p in (*duck.glob("seeds/*.csv"), *duck.glob("models/**/*.sql")))
    assert len(own) == expected.seeds(duck) + expected.models(duck) == 9
    for summary in (duck_run, spark_run):
        assert sorted(a.name for a in summary.assets if a.status == "published") == own
    a, b = catalog_of(duck.parent), catalog_of(spark.parent)
    assert sorted(t[1] for t in b.list_tables(NAMESPACE)) == own
    for name in own:
        left, right = a.load_table(f"{NAMESPACE}.{name}"), b.load_table(f"{NAMESPACE}.{name}")
        assert checksum(left) == checksum(right), name
        assert [f.name for f in left.schema().fields] == [f.name for f in right.schema().fields]
        summary = right.current_snapshot().summary.additional_properties
        assert (summary["engine-name"], summary["floe.run_id"]) == ("spark", spark_run.run_id)
    gold = b.load_table(f"{NAMESPACE}.mart_equipment_health").scan().to_arrow()
    assert gold.num_rows == expected.gold_rows(duck)
