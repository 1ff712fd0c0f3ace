"""Namespace isolation (FR-093): each product writes only its own Iceberg namespace; products
with same-named tables evolve them independently; another team's product of the same name is
refused before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from floe.app.run import run
from floe.runtime.platform import catalog_for_manifest
from tests.conftest import TINY_MANIFEST, TINY_MODELS, TINY_SPEC, write_tiny


def _product(root: Path, name: str, owner: str = "data@example.com") -> Path:
    spec = (
        TINY_SPEC.replace("name: tiny", f"name: {name}")
        .replace("manifest: manifest.yaml", "manifest: ../manifest.yaml")
        .replace("owner: data@example.com", f"owner: {owner}")
    )
    return write_tiny(root / name, spec=spec)


@pytest.mark.requirement("FR-093")
def test_products_evolve_same_named_tables_independently_and_never_share_a_namespace(
    tmp_path: Path,
) -> None:
    """shop-a and shop-b publish the same table names into their own namespaces; a new column
    in shop-a's int_orders evolves only shop-a's table. Another team's product also named shop-a
    would write into that namespace: its run fails with E546 before dbt runs and shop-a's
    tables keep their snapshots."""
    (tmp_path / "manifest.yaml").write_text(TINY_MANIFEST)
    shop_a, shop_b = _product(tmp_path, "shop-a"), _product(tmp_path, "shop-b")
    assert run(shop_a).success
    assert run(shop_b).success
    (shop_a / "models" / "int_orders.sql").write_text(
        "select id, amount * 2 as amount, id % 2 = 0 as is_even from {{ ref('stg_orders') }}\n"
    )
    assert run(shop_a).success
    catalog = catalog_for_manifest(tmp_path / "manifest.yaml")
    table_a = catalog.load_table("shop_a.int_orders")
    table_b = catalog.load_table("shop_b.int_orders")
    assert [f.name for f in table_a.schema().fields] == ["id", "amount", "is_even"]
    assert [f.name for f in table_b.schema().fields] == ["id", "amount"]
    assert len(table_b.snapshots()) == 1
    assert catalog.load_namespace_properties("shop_a")["floe.product"] == "shop-a"
    assert catalog.load_namespace_properties("shop_a")["floe.owner"] == "data@example.com"
    assert catalog.load_namespace_properties("shop_b")["floe.product"] == "shop-b"

    before = {t: catalog.load_table(f"shop_a.{t}").current_snapshot().snapshot_id
              for _, t in catalog.list_tables("shop_a")}  # fmt: skip
    intruder = _product(tmp_path / "other", "shop-a", owner="growth@example.com")
    (intruder.parent / "manifest.yaml").write_text(TINY_MANIFEST)
    (intruder / "floe.yaml").write_text(
        (intruder / "floe.yaml")
        .read_text()
        .replace("manifest: ../manifest.yaml", "manifest: ../../manifest.yaml")
    )
    (intruder / "models" / "int_orders.sql").write_text(  # same columns: the gate passes
        (shop_a / "models" / "int_orders.sql").read_text()
    )
    refused = run(intruder)
    assert not refused.success
    assert "error[E546]" in refused.failure
    assert "belongs to product 'shop-a' of data@example.com" in refused.failure
    assert refused.assets == []
    catalog = catalog_for_manifest(tmp_path / "manifest.yaml")
    after = {t: catalog.load_table(f"shop_a.{t}").current_snapshot().snapshot_id
             for _, t in catalog.list_tables("shop_a")}  # fmt: skip
    assert after == before
    assert len(TINY_MODELS) + 1 == len(before)  # the seed and every model
