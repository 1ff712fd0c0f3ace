"""The swap on a demo product (issue 13 point 4; FR-052, GAP-008): iot-telemetry, whose SQL
is portable (a ``row_number()`` subquery instead of ``qualify``, ``dbt.type_string()`` casts),
run with the manifest's duckdb and then, the same floe.yaml plus ``compute: spark``, on a fresh
platform home: every table it publishes has the same rows under both engines — after a first
run and after a second one on more readings, whose incremental model with a ``unique_key``
replaces the readings it re-selects (dbt-duckdb's ``delete+insert``; floe applies the key on
Spark, where dbt-spark would append them again). The swap's third step: the two mixed on one
catalog (silver on DuckDB, gold on Spark), with Great Expectations checks on the Spark model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import DEMO
from tests.e2e import expected
from tests.e2e.spark import catalog_of, checksum, run_in, value
from tests.e2e.test_spark_run import _events, _spans

PRODUCT = "iot-telemetry"
NAMESPACE = "iot_telemetry"
#: Round 2's readings: R00001 again, loaded later with another value, and a new reading.
ROUND2 = (
    "R00001,S001,2026-01-14 10:00:00,99.50,good,2026-01-15 09:00:00\n"
    "R09999,S002,2026-01-15 08:30:00,3.10,good,2026-01-15 09:00:00\n"
)
SPARK_APPROVED = (
    "approved_compute: [duckdb, spark]\n"
    "compute_configs:\n  spark: {master: 'local[2]', conf: {spark.driver.memory: 2g}}\n"
)


#: The mixed step: gold on Spark (silver and the rest on the product's duckdb), and two Great
#: Expectations checks on gold, validated on its audit branch: one holds, one cannot (the
#: table has more than one row), so gold stays on its branch.
GOLD = "mart_equipment_health"
MIXED_QUALITY = (
    f"quality:\n  expectations:\n    {GOLD}:\n"
    "      - expect_column_values_to_not_be_null: {column: equipment_id}\n"
    "      - expect_table_row_count_to_be_between: {min_value: 0, max_value: 1}\n"
)
GX = "  secrets:\n    type: env\n  quality:\n    type: great_expectations\n"


def _platform(root: Path, compute_line: str, quality: bool = False) -> Path:
    """The demo product beside a copy of the demo manifest that also approves spark (and,
    ``quality``, validates expectations with great_expectations); its floe.yaml untouched but
    for ``compute_line`` (before ``transforms:``)."""
    product = root / PRODUCT
    shutil.copytree(DEMO / PRODUCT, product, ignore=shutil.ignore_patterns("target", "logs"))
    manifest = (DEMO / "manifest.yaml").read_text()
    assert "approved_compute: [duckdb]\n" in manifest
    manifest = manifest.replace("approved_compute: [duckdb]\n", SPARK_APPROVED)
    if quality:
        assert "  secrets:\n    type: env\n" in manifest
        manifest = manifest.replace("  secrets:\n    type: env\n", GX)
    (root / "manifest.yaml").write_text(manifest)
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
    for name in own:  # as the first runs published them (a later test runs them again)
        left, right = a.load_table(f"{NAMESPACE}.{name}"), b.load_table(f"{NAMESPACE}.{name}")
        assert checksum(left, duck_run.run_id) == checksum(right, spark_run.run_id), name
        assert [f.name for f in left.schema().fields] == [f.name for f in right.schema().fields]
        tagged = right.snapshot_by_id(right.metadata.refs[f"run-{spark_run.run_id}"].snapshot_id)
        summary = tagged.summary.additional_properties
        assert (summary["engine-name"], summary["floe.run_id"]) == ("spark", spark_run.run_id)
    gold = b.load_table(f"{NAMESPACE}.mart_equipment_health")
    assert checksum(gold, spark_run.run_id)[0] == expected.gold_rows(duck)


@pytest.fixture(scope="module")
def second_round(swapped: dict[str, Any]) -> dict[str, Any]:
    """Round 2's readings appended to the seed of both products, each run again on its
    platform (after the first runs, which the swap test reads)."""
    out = {}
    for engine in ("duck", "spark"):
        product, first = swapped[engine]
        seed = product / "seeds" / "raw_readings.csv"
        seed.write_text(seed.read_text() + ROUND2)
        out[engine] = (product, first, run_in(product, product.parent / ".floe"))
    return out


@pytest.mark.timeout(900)
@pytest.mark.requirement("FLOE-341")
@pytest.mark.requirement("FR-052")
def test_a_second_run_merges_by_unique_key_on_spark_as_on_duckdb(
    second_round: dict[str, Any],
) -> None:
    """Second run on more readings: int_readings_enriched (incremental, ``unique_key
    reading_id``, dbt's default strategy) re-selects the readings loaded at or after its newest
    ``_loaded_at``; on both engines those replace their published rows instead of doubling
    them: one row per reading id, R00001 with round 2's value, R09999 added, and every table
    has the same rows on both platforms. On Spark the model's new snapshot is the merge (rows
    whose key was re-selected replaced), written by the second run."""
    (duck, _, duck_run), (spark, first, spark_run) = second_round["duck"], second_round["spark"]
    assert duck_run.success, duck_run.failure
    assert spark_run.success, spark_run.failure
    a, b = catalog_of(duck.parent), catalog_of(spark.parent)
    readings = f"{NAMESPACE}.int_readings_enriched"
    rows = b.load_table(readings).scan().to_arrow().to_pylist()
    ids = [r["reading_id"] for r in rows]
    assert len(ids) == len(set(ids))
    first_ids = {r["reading_id"] for r in b.load_table(readings).scan(
        snapshot_id=b.load_table(readings).metadata.refs[f"run-{first.run_id}"].snapshot_id
    ).to_arrow().to_pylist()}  # fmt: skip
    assert set(ids) == first_ids | {"R09999"}
    assert {value(r["reading_value"]) for r in rows if r["reading_id"] == "R00001"} == {"99.5"}
    for name in sorted(t[1] for t in b.list_tables(NAMESPACE)):
        left, right = a.load_table(f"{NAMESPACE}.{name}"), b.load_table(f"{NAMESPACE}.{name}")
        assert checksum(left) == checksum(right), name
    snapshot = b.load_table(readings).current_snapshot()
    summary = snapshot.summary.additional_properties
    assert (summary["floe.run_id"], snapshot.summary.operation.value) == (
        spark_run.run_id,
        "overwrite",
    )
    row = next(a for a in spark_run.assets if a.name == "int_readings_enriched")
    assert (row.status, row.rows) == ("published", len(ids))


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """iot-telemetry with its gold model on Spark (``compute: spark`` on that transform) and
    two expectations on gold, run on a fresh platform home: silver and the rest on DuckDB."""
    root = tmp_path_factory.mktemp("demo-mixed")
    product = _platform(root, "", quality=True)
    spec = product / "floe.yaml"
    text = spec.read_text()
    assert text.count("    tier: gold\n") == 1
    spec.write_text(text.replace("    tier: gold\n", "    tier: gold\n    compute: spark\n")
                    + MIXED_QUALITY)  # fmt: skip
    return product, run_in(product, root / ".floe")


@pytest.mark.timeout(900)
@pytest.mark.requirement("FLOE-381")
@pytest.mark.requirement("FLOE-383")
@pytest.mark.requirement("FLOE-384")
@pytest.mark.requirement("FR-052")
@pytest.mark.requirement("GAP-008")
@pytest.mark.requirement("FR-026")
def test_engines_mixed_in_one_product_publish_the_same_rows(
    swapped: dict[str, Any], mixed: tuple[Path, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The swap's mixed step, on one catalog: silver on DuckDB, gold on Spark. One run (one
    run id and trace across its two waves, DuckDB's then Spark's, one Spark session)
    publishes the eight other tables with the rows of the all-DuckDB run (order-free
    checksum), written by DuckDB's runner; gold is built by Spark onto its audit branch with
    the same rows as DuckDB's gold, its snapshot naming Spark, the run and the trace. Its
    expectations run on the branch: the null check passes, the row count check fails — gold
    stays off ``main`` (no snapshot there), the branch kept; the run fails naming the
    expectation, the run record lists both results, OpenLineage's dataQualityAssertions carry
    both. Gold's relationship test to a silver model (two waves) runs in Spark's wave only.
    The Dagster assets name their engine."""
    duck, duck_run = swapped["duck"]
    product, run = mixed
    assert not run.success
    gold_rows = expected.gold_rows(duck)
    line = (product / "floe.yaml").read_text().splitlines().index(
        "      - expect_table_row_count_to_be_between: {min_value: 0, max_value: 1}"
    ) + 1
    assert run.failure.endswith(
        f"{GOLD}: test_failed: expectation failed: expect_table_row_count_to_be_between "
        f"(floe.yaml:{line}:9) — observed {gold_rows}"
    )
    own = sorted(p.stem for p in (*duck.glob("seeds/*.csv"), *duck.glob("models/**/*.sql")))
    published = sorted(a.name for a in run.assets if a.status == "published")
    assert published == sorted(set(own) - {GOLD})
    assert len(published) == 8
    a, b = catalog_of(duck.parent), catalog_of(product.parent)
    home = product.parent / ".floe"
    spans = _spans(home, run.run_id)
    (trace,) = {s["trace_id"] for s in spans}
    waves = sorted((s["attributes"]["floe.wave"], s["attributes"]["floe.engine"])
                   for s in spans if s["name"] == "wave")  # fmt: skip
    assert waves == [("1", "duckdb"), ("2", "spark")]
    assert [s["name"] for s in spans].count("spark.session") == 1
    for name in published:
        left, right = a.load_table(f"{NAMESPACE}.{name}"), b.load_table(f"{NAMESPACE}.{name}")
        assert checksum(left, duck_run.run_id) == checksum(right, run.run_id), name
        summary = right.current_snapshot().summary.additional_properties
        assert (summary["floe.run_id"], summary["floe.trace_id"]) == (run.run_id, trace), name
        assert "engine-name" not in summary, name  # PyIceberg's commit: the DuckDB wave
    gold = b.load_table(f"{NAMESPACE}.{GOLD}")
    branch = "audit_" + run.run_id.replace("-", "_")
    assert sorted(gold.metadata.refs) == [branch]  # no main: never published
    on_branch = gold.snapshot_by_id(gold.metadata.refs[branch].snapshot_id)
    summary = on_branch.summary.additional_properties
    assert (summary["engine-name"], summary["floe.run_id"], summary["floe.trace_id"]) == (
        "spark", run.run_id, trace,
    )  # fmt: skip
    duck_gold = checksum(a.load_table(f"{NAMESPACE}.{GOLD}"), duck_run.run_id)
    assert checksum(gold, ref=branch) == duck_gold
    assert duck_gold[0] == gold_rows
    schema = yaml.safe_load((product / "models" / "schema.yml").read_text())
    (gold_yml,) = [m for m in schema["models"] if m["name"] == GOLD]
    tests = [t for c in gold_yml["columns"] for t in c.get("data_tests", [])]
    to = {t["relationships"]["arguments"]["to"] for t in tests
          if isinstance(t, dict) and "relationships" in t}  # fmt: skip
    assert to == {"ref('int_equipment_maintenance')"}  # silver: DuckDB's wave
    runs = home / "runs" / run.run_id
    relations = {"spark": [], "duckdb": []}  # type: dict[str, list[str]]
    dirs = (("spark", runs / "dbt-test"), ("duckdb", runs / "wave-1-duckdb" / "dbt"))
    for engine, path in dirs:
        for result in json.loads((path / "run_results.json").read_text())["results"]:
            if result["unique_id"].startswith(f"test.{NAMESPACE}.relationships_{GOLD}_"):
                relations[engine].append(result["status"])
    assert relations == {"spark": ["pass"], "duckdb": []}  # the later wave, on both engines' rows
    record = json.loads((runs / "record.json").read_text())
    node = next(n for n in record["nodes"] if n["name"] == GOLD)
    assert (node["status"], node["checks"]) == ("test_failed", [
        {"check": "expect_column_values_to_not_be_null(column=equipment_id)", "success": True},
        {"check": "expect_table_row_count_to_be_between", "success": False},
    ])  # fmt: skip
    (complete,) = [e for e in _events(home, run.run_id) if e["eventType"] == "COMPLETE"
                   and e["job"]["name"] == f"{NAMESPACE}.{GOLD}"]  # fmt: skip
    (output,) = complete["outputs"]
    assertions = {(x["assertion"], x["success"]) for x in
                  output["facets"]["dataQualityAssertions"]["assertions"]}  # fmt: skip
    assert {("expect_column_values_to_not_be_null(column=equipment_id)", True),
            ("expect_table_row_count_to_be_between", False)} <= assertions  # fmt: skip
    monkeypatch.setenv("FLOE_HOME", str(home))
    from floe.app.product import open_product

    specs = {
        s.key.path[-1]: s for s in open_product(product).definitions().resolve_all_asset_specs()
    }
    assert (specs[GOLD].kinds, specs[GOLD].metadata["floe/compute"]) == ({"dbt", "spark"}, "spark")
    for name in own:
        if name != GOLD:
            assert specs[name].kinds == {"dbt", "duckdb"}, name
