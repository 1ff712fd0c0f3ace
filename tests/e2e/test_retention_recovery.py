"""Retention job (rows by age, snapshot expiry), retry policy and re-execution from failure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from floe.app.run import run
from tests.conftest import TINY_MANIFEST, TINY_SPEC, floe_cli, write_tiny
from tests.e2e.conftest import Platform

RETAINED_MANIFEST = TINY_MANIFEST.replace(
    "governance:\n", "governance:\n  data_retention_hours: 1\n  snapshot_keep_last: 1\n"
)
RETAINED_SPEC = TINY_SPEC + "retention:\n  column: ts\n"


def _aged_product(root: Path) -> tuple[Path, list[int]]:
    """The tiny product with a timestamp column: ids 1-3 are hours old, 4-5 minutes old."""
    product = write_tiny(root, spec=RETAINED_SPEC, manifest=RETAINED_MANIFEST)
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    ages = {1: 5 * 60, 2: 3 * 60, 3: 90, 4: 20, 5: 1}  # minutes
    lines = [f"{i},{i * 10},{(now - timedelta(minutes=m)).isoformat(sep=' ')}"
             for i, m in ages.items()]  # fmt: skip
    (product / "seeds" / "raw_orders.csv").write_text("id,amount,ts\n" + "\n".join(lines) + "\n")
    (product / "models" / "stg_orders.sql").write_text(
        "select id, amount, ts from {{ ref('raw_orders') }}\n"
    )
    return product, [4, 5]


def _all_files(catalog: object, identifier: str) -> set[str]:
    """Data files referenced by any snapshot of the table."""
    table = catalog.load_table(identifier)  # type: ignore[attr-defined]
    return set(table.inspect.all_files()["file_path"].to_pylist())


@pytest.mark.requirement("FR-031")
@pytest.mark.requirement("FR-032")
@pytest.mark.requirement("GAP-002")
@pytest.mark.requirement("GAP-003")
def test_retention_deletes_rows_older_than_window_and_expires_snapshots(tmp_path: Path) -> None:
    """Two runs, then `floe retention` (the product's Dagster retention job): rows whose `ts` is
    older than the manifest's 1 h window are gone from the seed and bronze tables (exactly ids
    4 and 5 remain), tables without `ts` keep their rows, every table is left with
    snapshot_keep_last (1) snapshot (the run-<id> tags of expired snapshots are dropped, they
    do not keep them), and the data files only expired snapshots used are deleted from the
    warehouse."""
    product, kept_ids = _aged_product(tmp_path / "tiny")
    assert run(product).success
    assert run(product).success
    platform = Platform(product, {})
    catalog = platform.catalog()
    old_files = _all_files(catalog, "tiny.stg_orders")
    assert len(catalog.load_table("tiny.stg_orders").snapshots()) == 2

    res = floe_cli("retention", product)
    assert res.code == 0, res.out + res.err
    assert "tiny.stg_orders" in res.out

    for ident in ("tiny.raw_orders", "tiny.stg_orders"):
        table = catalog.load_table(ident)
        assert sorted(table.scan().to_arrow()["id"].to_pylist()) == kept_ids
        assert len(table.snapshots()) == 1
        assert table.current_snapshot().summary["floe.operation"] == "retention"
        assert list(table.metadata.refs) == ["main"]  # run tags of expired snapshots dropped
    for ident, rows in (("tiny.int_orders", 5), ("tiny.mart_revenue", 1)):
        table = catalog.load_table(ident)
        assert table.scan().to_arrow().num_rows == rows
        assert len(table.snapshots()) == 1
    live = _all_files(catalog, "tiny.stg_orders")
    gone = old_files - live
    assert gone, "the rewritten data files of the expired snapshots should be gone"
    assert not any(Path(p.removeprefix("file://")).exists() for p in gone)
    assert all(Path(p.removeprefix("file://")).exists() for p in live)


BROKEN_INT = "selec id, amount * 2 as amount from {{ ref('stg_orders') }}\n"
GOOD_INT = "select id, amount * 2 as amount from {{ ref('stg_orders') }}\n"


def _materializations(product: Path) -> dict[str, int]:
    from floe.runtime.home import PlatformHome

    home = PlatformHome.for_manifest(product / "manifest.yaml")
    with dg.DagsterInstance.from_config(str(home.dagster)) as instance:
        counts = {}
        for name in ("raw_orders", "stg_orders", "int_orders", "mart_revenue"):
            records = instance.fetch_materializations(dg.AssetKey(["tiny", name]), limit=100)
            counts[name] = len(records.records)
        return counts


@pytest.mark.requirement("FR-027")
@pytest.mark.requirement("FR-028")
def test_failed_run_is_recorded_and_resumes_from_the_failure(tmp_path: Path) -> None:
    """A model with broken SQL fails the run (recorded by Dagster, naming the model; the SQL
    error is not retried). After fixing the SQL, `floe run --from-failure` re-executes only the
    failed model and its downstream: upstream assets keep one materialization and one Iceberg
    snapshot each."""
    product = write_tiny(tmp_path / "tiny")
    (product / "models" / "int_orders.sql").write_text(BROKEN_INT)
    failed = run(product)
    assert not failed.success
    assert "int_orders" in failed.failure
    assert sorted(a.name for a in failed.assets) == ["raw_orders", "stg_orders"]
    assert _materializations(product) == {
        "raw_orders": 1, "stg_orders": 1, "int_orders": 0, "mart_revenue": 0,
    }  # fmt: skip

    from floe.runtime.home import PlatformHome

    home = PlatformHome.for_manifest(product / "manifest.yaml")
    with dg.DagsterInstance.from_config(str(home.dagster)) as instance:
        record = instance.get_run_record_by_id(failed.run_id)
        assert record is not None
        assert record.dagster_run.status == dg.DagsterRunStatus.FAILURE
        logs = instance.all_logs(failed.run_id)
        kinds = [e.dagster_event_type for e in logs if e.is_dagster_event]
        assert kinds.count(dg.DagsterEventType.STEP_FAILURE) == 1
        assert dg.DagsterEventType.STEP_UP_FOR_RETRY not in kinds

    (product / "models" / "int_orders.sql").write_text(GOOD_INT)
    resumed = floe_cli("run", product, "--from-failure")
    assert resumed.code == 0, resumed.out + resumed.err
    assert _materializations(product) == {
        "raw_orders": 1, "stg_orders": 1, "int_orders": 1, "mart_revenue": 1,
    }  # fmt: skip
    catalog = Platform(product, {}).catalog()
    assert len(catalog.load_table("tiny.stg_orders").snapshots()) == 1
    mart = catalog.load_table("tiny.mart_revenue").scan().to_arrow().to_pylist()
    assert mart == [{"revenue": 60}]
    again = floe_cli("run", product, "--from-failure")
    assert again.code == 2
    assert "E521" in again.out + again.err


@pytest.mark.requirement("FR-028")
def test_retry_policy_from_floe_yaml_is_on_the_run_step(tmp_path: Path) -> None:
    """floe.yaml `retry` becomes the Dagster RetryPolicy of the product's run step; the default
    is 2 retries after 5 s with exponential backoff; `max_retries: 0` means no policy."""
    from floe.compile.api import compile_product
    from floe.orchestrate.definitions import build_definitions
    from floe.runtime.home import PlatformHome

    def policy(product: Path) -> dg.RetryPolicy | None:
        ctx = compile_product(product)
        home = PlatformHome.for_manifest(product / "manifest.yaml")
        defs = build_definitions(product.resolve(), ctx.options.output_dir.resolve(), home)
        node = defs.resolve_job_def("tiny_job").graph.node_defs[0]
        return node.retry_policy  # type: ignore[attr-defined, no-any-return]

    default = policy(write_tiny(tmp_path / "a"))
    assert default == dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL)
    custom = write_tiny(tmp_path / "b", spec=TINY_SPEC + "retry:\n  max_retries: 0\n")
    assert policy(custom) is None
