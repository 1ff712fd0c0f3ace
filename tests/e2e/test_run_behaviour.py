"""Replace vs merge, write–audit–publish on failing tests, convergence, any dbt project."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from floe.app.run import run
from tests.conftest import DEMO, write_tiny
from tests.e2e.conftest import Platform

NEW_TXN = "T9001,C001,2026-01-20 09:00:00,100.00,online,completed,2026-01-20 10:00:00\n"


def _platform(tmp_path: Path, *products: str) -> Path:
    root = tmp_path / "demo"
    root.mkdir(parents=True)
    shutil.copy(DEMO / "manifest.yaml", root / "manifest.yaml")
    for p in products:
        shutil.copytree(DEMO / p, root / p, ignore=shutil.ignore_patterns("target"))
    return root


@dataclass(frozen=True)
class FirstRun:
    """customer-360 after its first run on a fresh platform (``root``: manifest + product)."""

    root: Path
    run_id: str
    saved: Path  # a copy of ``root`` as the first run left it


@pytest.fixture(scope="module")
def first_run_saved(tmp_path_factory: pytest.TempPathFactory) -> FirstRun:
    """One first run of customer-360 per module, its platform directory saved."""
    root = _platform(tmp_path_factory.mktemp("c360"), "customer-360")
    first = run(root / "customer-360")
    assert first.success, first.failure
    saved = root.parent / "saved"
    shutil.copytree(root, saved, symlinks=True)
    return FirstRun(root, first.run_id, saved)


@pytest.fixture
def after_first_run(first_run_saved: FirstRun) -> FirstRun:
    """The platform exactly as customer-360's first run left it — restored at the same path
    (the catalog and the Iceberg metadata name files by absolute path), whatever an earlier
    test did to it."""
    shutil.rmtree(first_run_saved.root)
    shutil.copytree(first_run_saved.saved, first_run_saved.root, symlinks=True)
    return first_run_saved


def _snapshots(platform: Platform, identifier: str) -> list[dict[str, str]]:
    table = platform.catalog().load_table(identifier)
    return [
        {"op": s.summary.operation.value, **s.summary.additional_properties}
        for s in table.snapshots()
    ]


@pytest.mark.requirement("FR-025")
def test_second_run_replaces_tables_and_merges_incremental_changes(
    after_first_run: FirstRun,
) -> None:
    """After the first run, change one transaction and add one: table models gain exactly one
    snapshot (full replace); the incremental model gains one snapshot writing only the 2
    changed rows. A third run with --select of the gold model rebuilds only it, reading its
    inputs from their Iceberg tables."""
    root = after_first_run.root
    platform = Platform(root, {})
    inc_before = platform.catalog().load_table("customer_360.int_transactions_enriched")
    rows_before = inc_before.scan().to_arrow().num_rows
    seed = root / "customer-360" / "seeds" / "raw_transactions.csv"
    lines = seed.read_text().splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    target = next(i for i, r in enumerate(rows) if r.startswith("T0001,"))
    cols = rows[target].rstrip("\n").split(",")
    customer = cols[1].strip().upper()
    cols[3], cols[5], cols[-1] = "300.00", "completed", "2026-02-01 10:00:00"
    rows[target] = ",".join(cols) + "\n"
    extra = f"T9001,{customer},2026-01-31 09:00:00,100.00,online,completed,2026-02-01 10:00:00\n"
    seed.write_text(header + "".join(rows) + extra)
    mart = platform.catalog().load_table("customer_360.mart_customer_360")
    old_rev = next(
        r["total_revenue"]
        for r in mart.scan().to_arrow().to_pylist()
        if r["customer_id"] == customer
    )
    old_txn = next(
        r for r in inc_before.scan().to_arrow().to_pylist() if r["transaction_id"] == "T0001"
    )
    second = run(root / "customer-360")
    assert second.success, second.failure

    inc = _snapshots(platform, "customer_360.int_transactions_enriched")
    assert [s["op"] for s in inc] == ["append", "overwrite"]
    assert inc[-1]["floe.rows_inserted"] == "1"
    assert inc[-1]["floe.rows_updated"] == "1"
    assert inc[-1]["floe.run_id"] == second.run_id
    table = platform.catalog().load_table("customer_360.int_transactions_enriched")
    rows_now = {r["transaction_id"]: r for r in table.scan().to_arrow().to_pylist()}
    assert rows_now["T0001"]["amount"] == Decimal("300.00")
    assert rows_now["T9001"]["amount"] == Decimal("100.00")
    assert len(rows_now) == rows_before + 1

    for name in ("stg_transactions", "mart_customer_360", "raw_transactions"):
        snaps = _snapshots(platform, f"customer_360.{name}")
        assert [s["op"] for s in snaps] == ["append", "overwrite"], name
        assert [s["floe.run_id"] for s in snaps] == [after_first_run.run_id, second.run_id]
    new_rev = next(
        r["total_revenue"]
        for r in platform.catalog().load_table("customer_360.mart_customer_360")
        .scan().to_arrow().to_pylist()
        if r["customer_id"] == customer
    )  # fmt: skip
    was_counted = old_txn["customer_id"] == customer and old_txn["status"] == "completed"
    delta = Decimal("300.00") - (old_txn["amount"] if was_counted else 0) + Decimal("100.00")
    assert new_rev - old_rev == delta

    third = run(root / "customer-360", select=["mart_customer_360"])
    assert third.success, third.failure
    assert [a.name for a in third.assets] == ["mart_customer_360"]
    assert len(_snapshots(platform, "customer_360.mart_customer_360")) == 3
    assert len(_snapshots(platform, "customer_360.stg_transactions")) == 2
    assert len(_snapshots(platform, "customer_360.raw_transactions")) == 2
    reread = platform.catalog().load_table("customer_360.mart_customer_360").scan().to_arrow()
    assert (
        next(r["total_revenue"] for r in reread.to_pylist() if r["customer_id"] == customer)
        == new_rev
    )


@pytest.mark.requirement("FR-024")
def test_failing_test_keeps_previous_snapshot_and_fails_naming_it(
    after_first_run: FirstRun,
) -> None:
    """After the first run, a data test that fails on stg_customers: the run fails naming the
    test, stg_customers and everything downstream keep their previous snapshot; fixing it
    converges to a clean run (the tables of the platform's first run, a clean run of the same
    sources)."""
    root = after_first_run.root
    platform = Platform(root, {})
    product = root / "customer-360"
    before = {
        n: platform.catalog().load_table(f"customer_360.{n}").current_snapshot().snapshot_id
        for n in ("stg_customers", "int_customer_support_summary", "mart_customer_360")
    }
    converged = ("stg_customers", "int_transactions_enriched", "mart_customer_360")
    clean = {
        n: platform.catalog().load_table(f"customer_360.{n}").scan().to_arrow() for n in converged
    }
    schema = product / "models" / "schema.yml"
    original = schema.read_text()
    broken = original.replace(
        'values: ["consumer", "business", "vip"]', 'values: ["consumer", "vip"]', 1
    )
    assert broken != original
    schema.write_text(broken)
    failed = run(product)
    assert not failed.success
    assert "accepted_values_stg_customers_segment" in failed.failure
    assert "stg_customers: test_failed" in failed.failure
    published = {a.name for a in failed.assets}
    assert "stg_customers" not in published
    assert "mart_customer_360" not in published
    assert "stg_transactions" in published
    for name, snap in before.items():
        table = platform.catalog().load_table(f"customer_360.{name}")
        assert table.current_snapshot().snapshot_id == snap, name

    schema.write_text(original)
    fixed = run(product)
    assert fixed.success, fixed.failure
    for name in converged:
        ours = platform.catalog().load_table(f"customer_360.{name}").scan().to_arrow()
        theirs = clean[name]
        assert ours.num_rows == theirs.num_rows > 0, name
        key = ours.column_names[0]
        assert ours.sort_by(key).to_pylist() == theirs.sort_by(key).to_pylist(), name


@pytest.mark.requirement("FR-023")
def test_any_standard_dbt_duckdb_project_runs(tmp_path: Path) -> None:
    """A plain dbt project (seed + three ref() models) runs and lands in its own namespace."""
    product = write_tiny(tmp_path / "tiny")
    summary = run(product)
    assert summary.success, summary.failure
    assert sorted(a.name for a in summary.assets) == [
        "int_orders", "mart_revenue", "raw_orders", "stg_orders",
    ]  # fmt: skip
    mart = next(a for a in summary.assets if a.name == "mart_revenue")
    assert mart.table == "tiny.mart_revenue"
    assert mart.rows == 1
    platform = Platform(product, {})
    rows = platform.catalog().load_table("tiny.mart_revenue").scan().to_arrow().to_pylist()
    assert rows == [{"revenue": 60}]


@pytest.mark.requirement("FR-027")
def test_cli_run_failure_exits_4_naming_the_test_and_bad_select_exits_2(tmp_path: Path) -> None:
    """`floe run` on a product whose test fails exits 4 and prints the failing test; an
    unknown --select name exits 2 with E520 listing the choices."""
    from tests.conftest import floe_cli, run_floe

    product = write_tiny(tmp_path / "tiny")
    schema = (product / "models" / "schema.yml").read_text()
    schema = schema.replace(
        "      - name: revenue\n        description: Total.\n        data_tests: [not_null]",
        "      - name: revenue\n        description: Total.\n        data_tests:\n"
        "          - not_null\n          - accepted_values:\n              arguments:\n"
        "                values: [1]",
    )
    (product / "models" / "schema.yml").write_text(schema)
    failed = run_floe("run", product)
    assert failed.code == 4, failed.out + failed.err
    assert "tiny: failed" in failed.out
    assert "accepted_values_mart_revenue_revenue__1" in failed.out
    assert "mart_revenue: test_failed" in failed.out
    bad = floe_cli("run", product, "--select", "mart_revenu")  # the exit code: run_floe's above
    assert bad.code == 2
    assert "error[E520]: --select names no seed, model or snapshot: mart_revenu" in bad.err
    assert "mart_revenue" in bad.err
