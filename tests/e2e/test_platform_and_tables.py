"""`floe platform up|status` and `floe tables list|show|head` on the embedded platform."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import DEMO, PRODUCTS, floe_cli
from tests.e2e import expected
from tests.e2e.conftest import Platform


@pytest.mark.requirement("FR-055")
def test_platform_up_creates_home_and_checks_every_plugin(tmp_path: Path) -> None:
    """`up` creates catalog, warehouse and Dagster dirs and reports each check ok."""
    shutil.copy(DEMO / "manifest.yaml", tmp_path / "manifest.yaml")
    res = floe_cli("platform", "up", "--manifest", tmp_path / "manifest.yaml")
    assert res.code == 0, res.out + res.err
    home = tmp_path / ".floe"
    assert sorted(p.name for p in home.iterdir()) == [
        "catalog.db", "catalog.lock", "dagster", "manifest.path", "runs", "warehouse"
    ]  # fmt: skip
    remembered = (home / "manifest.path").read_text().strip()
    assert remembered == str((tmp_path / "manifest.yaml").resolve())
    for check in (
        "home",
        "catalog",
        "warehouse",
        "plugin compute:duckdb",
        "plugin catalog:sql",
        "plugin storage:local",
        "plugin orchestrator:dagster",
        "plugin secrets:env",
    ):
        assert f"│ {check}" in res.out, check
    assert "FAILED" not in res.out
    status = floe_cli("platform", "status", "--manifest", tmp_path / "manifest.yaml")
    assert status.code == 0
    assert "reachable, 0 namespace(s)" in status.out


@pytest.mark.requirement("FR-055")
def test_platform_status_fails_when_the_warehouse_is_not_writable(tmp_path: Path) -> None:
    """A warehouse path that is a file cannot be written: status exits 2 and says FAILED."""
    shutil.copy(DEMO / "manifest.yaml", tmp_path / "manifest.yaml")
    (tmp_path / ".floe").mkdir()
    (tmp_path / ".floe" / "warehouse").write_text("not a directory")
    res = floe_cli("platform", "status", "--manifest", tmp_path / "manifest.yaml")
    assert res.code == 2
    assert "│ warehouse" in res.out
    assert "FAILED" in res.out


@pytest.mark.requirement("FR-022")
def test_tables_list_and_show_read_through_the_catalog(demo_platform: Platform) -> None:
    """`tables list --json` gives every seed and model table with rows and snapshots; `show`
    prints schema, snapshots with the run id and a sample."""
    manifest = demo_platform.root / "manifest.yaml"
    res = floe_cli("tables", "list", "--json", "--manifest", manifest)
    assert res.code == 0, res.err
    tables = {t["identifier"]: t for t in json.loads(res.out)}
    products = [demo_platform.root / p for p in PRODUCTS]
    assert len(tables) == sum(expected.seeds(p) + expected.models(p) for p in products)
    mart = tables["customer_360.mart_customer_360"]
    first = demo_platform.first["customer-360"]
    published = {a.name: a for a in first.assets}
    assert mart["row_count"] == published["mart_customer_360"].rows
    assert mart["snapshot_count"] == 1
    assert str(mart["snapshot_id"]) == published["mart_customer_360"].snapshot_id
    show = floe_cli(
        "tables", "show", "customer_360.mart_customer_360", "--manifest", manifest, "-n", "3"
    )
    assert show.code == 0, show.err
    assert "customer_360.mart_customer_360 · schema" in show.out
    assert "│ total_revenue" in show.out
    assert demo_platform.first["customer-360"].run_id in show.out
    assert "first 3 rows" in show.out
    head = floe_cli(
        "tables", "head", "iot_telemetry.mart_equipment_health", "--manifest", manifest, "-n", "2"
    )
    assert head.code == 0, head.err
    assert "first 2 rows" in head.out
    assert "EQ-0" in head.out
