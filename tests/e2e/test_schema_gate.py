"""The breaking-change gate (FR-094) against a real catalog, and in-place evolution (FR-090).

A tiny product is run on the embedded platform (SQLite Iceberg catalog); its SQL is then
changed and `floe compile` compares what the SQL produces with the live Iceberg schemas.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from floe.app.run import run
from floe.compile.api import compile_product
from floe.errors import PolicyError
from floe.runtime.live_schema import read_for_product
from floe.runtime.platform import catalog_for_manifest
from tests.conftest import TINY_MODELS, floe_cli, write_tiny

STG = "stg_orders.sql"


@pytest.fixture(scope="module")
def product(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny product, run once: its seed and three models are Iceberg tables."""
    root = write_tiny(tmp_path_factory.mktemp("gate") / "tiny")
    summary = run(root)
    assert summary.success, summary.failure
    return root


def _sql(product: Path, name: str, sql: str) -> None:
    (product / "models" / name).write_text(sql)


@pytest.mark.requirement("FR-094")
def test_live_schema_is_read_from_the_catalog(product: Path) -> None:
    """The adapter returns every table of the namespace with its Iceberg column types; the
    direct read of the embedded catalog and the PyIceberg read agree."""
    from floe.runtime.home import PlatformHome
    from floe.runtime.live_schema import read_namespace
    from floe.runtime.resolved import ResolvedPlugins
    from floe.spec.common import PluginRef

    live = read_for_product(product, None, "dev")
    home = product / ".floe"
    uri = f"sqlite:///{home / 'catalog.db'}"
    plugins = {"catalog": PluginRef(type="sql", config={"uri": uri})}
    through_pyiceberg = read_namespace(ResolvedPlugins(plugins, PlatformHome(home)), "tiny")
    assert through_pyiceberg.warning is None
    assert through_pyiceberg.tables == live.tables
    assert live.warning is None
    assert live.tables == {
        "int_orders": [("id", "long"), ("amount", "long")],
        "mart_revenue": [("revenue", "decimal(38, 0)")],
        "raw_orders": [("id", "long"), ("amount", "long")],
        "stg_orders": [("id", "long"), ("amount", "long")],
    }


@pytest.mark.requirement("FR-094")
@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("select id from {{ ref('raw_orders') }}\n", "column 'amount' (long) was dropped"),
        ("select id, amount as amt from {{ ref('raw_orders') }}\n",
         "column 'amount' was renamed to 'amt'"),
        ("select cast(id as integer) as id, amount from {{ ref('raw_orders') }}\n",
         "column 'id' type narrowed: long → int"),
        ("select cast(id as varchar) as id, amount from {{ ref('raw_orders') }}\n",
         "column 'id' type changed: long → string"),
    ],
)  # fmt: skip
def test_breaking_change_fails_compile_naming_table_and_column(
    product: Path, sql: str, message: str
) -> None:
    """Dropping, renaming or narrowing a live column: exit 3, the table and column named with
    old → new, nothing written."""
    try:
        _sql(product, STG, sql)
        artifacts = product / "target" / "floe" / "compiled_artifacts.json"
        before = artifacts.read_bytes()
        res = floe_cli("compile", product)
        assert res.code == 3, res.out + res.err
        assert (
            f"error[P470]: breaking_change: breaking schema change in table 'stg_orders': "
            f"{message}" in res.err
        )
        assert "models/stg_orders.sql:1:1" in res.err
        assert artifacts.read_bytes() == before
    finally:
        _sql(product, STG, TINY_MODELS[STG])


@pytest.mark.requirement("FR-067")
def test_override_is_recorded_in_artifacts_and_logged(product: Path, tmp_path: Path) -> None:
    """--allow-breaking --reason accepts the change: exit 0, the reason and the change in the
    artifacts, a governance.breaking_change_override event; without --reason it is exit 2."""
    try:
        _sql(product, STG, "select id from {{ ref('raw_orders') }}\n")
        assert floe_cli("compile", product, "--allow-breaking").code == 2
        out = tmp_path / "out"
        res = floe_cli("compile", product, "--out", out, "--allow-breaking",
                       "--reason", "amount moved to int_orders (TICKET-7)")  # fmt: skip
        assert res.code == 0, res.err
        assert "warning[P470]" in res.err
        gate = json.loads((out / "compiled_artifacts.json").read_text())["enforcement_result"][
            "schema_gate"
        ]
        assert gate["override_reason"] == "amount moved to int_orders (TICKET-7)"
        assert [c for c in gate["changes"] if c["breaking"]] == [
            {"table": "stg_orders", "column": "amount", "change": "dropped",
             "old": "long", "new": None, "breaking": True}
        ]  # fmt: skip
        live = read_for_product(product, None, "dev").tables
        with capture_logs() as logs:
            compile_product(product, write=False, live_schema=live,
                            allow_breaking_reason="amount moved")  # fmt: skip
            with pytest.raises(PolicyError):
                compile_product(product, write=False, live_schema=live)
        names = [(e["event"], e.get("columns")) for e in logs]
        assert names == [
            ("governance.breaking_change_override", ["stg_orders.amount"]),
            ("governance.breaking_change_rejected", ["stg_orders.amount"]),
        ]
        assert logs[0]["reason"] == "amount moved"
    finally:
        _sql(product, STG, TINY_MODELS[STG])


@pytest.mark.requirement("FR-094")
def test_floe_run_is_gated_too_and_accepts_the_override(product: Path) -> None:
    """`floe run` compiles with the gate: a narrowed type stops it with exit 3 before anything
    runs; with --allow-breaking --reason it runs and the Iceberg column keeps its wider type."""
    catalog = catalog_for_manifest(product / "manifest.yaml")
    snapshots = len(catalog.load_table("tiny.stg_orders").snapshots())
    try:
        _sql(
            product, STG, "select cast(id as integer) as id, amount from {{ ref('raw_orders') }}\n"
        )
        refused = floe_cli("run", product)
        assert refused.code == 3, refused.out + refused.err
        assert "column 'id' type narrowed: long → int" in refused.err
        table = catalog_for_manifest(product / "manifest.yaml").load_table("tiny.stg_orders")
        assert len(table.snapshots()) == snapshots
        ran = floe_cli("run", product, "--allow-breaking", "--reason", "ids fit in 32 bits")
        assert ran.code == 0, ran.out + ran.err
        table = catalog_for_manifest(product / "manifest.yaml").load_table("tiny.stg_orders")
        assert len(table.snapshots()) == snapshots + 1
        assert str(table.schema().find_field("id").field_type) == "long"
        assert sorted(table.scan().to_arrow().column("id").to_pylist()) == [1, 2]
    finally:
        _sql(product, STG, TINY_MODELS[STG])


@pytest.mark.requirement("FR-090")
@pytest.mark.requirement("GAP-010")
def test_added_column_passes_and_next_run_evolves_the_table_in_place(tiny: Path) -> None:
    """Adding a column passes the gate (recorded as added); the next run adds it to the Iceberg
    table in place: new rows carry it, the older snapshot still reads with its old schema.
    Its own product: the module's shared one must keep its schema for the other tests."""
    product = tiny
    assert run(product).success
    catalog = catalog_for_manifest(product / "manifest.yaml")
    before = catalog.load_table("tiny.stg_orders")
    old_snapshot = before.current_snapshot()
    assert old_snapshot is not None
    _sql(product, STG, "select id, amount, amount > 10 as is_big from {{ ref('raw_orders') }}\n")
    res = floe_cli("compile", product)
    assert res.code == 0, res.err
    assert "schema gate: 4 live tables compared · 1 columns added · 0 breaking" in res.out
    summary = run(product)
    assert summary.success, summary.failure
    table = catalog_for_manifest(product / "manifest.yaml").load_table("tiny.stg_orders")
    assert [f.name for f in table.schema().fields] == ["id", "amount", "is_big"]
    rows = sorted(table.scan().to_arrow().to_pylist(), key=lambda r: r["id"])
    assert rows == [
        {"id": 1, "amount": 10, "is_big": False},
        {"id": 2, "amount": 20, "is_big": True},
    ]
    old = table.scan(snapshot_id=old_snapshot.snapshot_id).to_arrow()
    assert sorted(old.to_pylist(), key=lambda r: r["id"]) == [
        {"id": 1, "amount": 10}, {"id": 2, "amount": 20}
    ]  # fmt: skip
    assert len(table.schemas()) == 2
    live = read_for_product(product, None, "dev").tables
    assert live is not None
    assert live["stg_orders"] == [("id", "long"), ("amount", "long"), ("is_big", "boolean")]


@pytest.mark.requirement("FR-094")
def test_accepted_rename_and_drop_are_applied_so_the_next_compile_is_clean(product: Path) -> None:
    """An accepted rename becomes an Iceberg rename (older snapshots keep their data under the
    new name), an accepted drop deletes the column; afterwards compile reports nothing."""
    big = "select id, amount, amount > 10 as is_big from {{ ref('raw_orders') }}\n"
    try:
        _sql(product, STG, big)
        table = catalog_for_manifest(product / "manifest.yaml").load_table("tiny.stg_orders")
        if "is_big" not in [f.name for f in table.schema().fields]:
            assert run(product).success
        _sql(product, STG, big.replace("is_big", "is_large"))
        assert "renamed to 'is_large'" in floe_cli("compile", product).err
        ran = floe_cli("run", product, "--allow-breaking", "--reason", "clearer name")
        assert ran.code == 0, ran.out + ran.err
        table = catalog_for_manifest(product / "manifest.yaml").load_table("tiny.stg_orders")
        assert [f.name for f in table.schema().fields] == ["id", "amount", "is_large"]
        first = table.snapshots()[0].snapshot_id
        assert table.scan(snapshot_id=first).to_arrow().num_rows == 2
        assert "0 breaking" in floe_cli("compile", product).out
        _sql(product, STG, TINY_MODELS[STG])
        ran = floe_cli("run", product, "--allow-breaking", "--reason", "flag unused")
        assert ran.code == 0, ran.out + ran.err
        table = catalog_for_manifest(product / "manifest.yaml").load_table("tiny.stg_orders")
        assert [f.name for f in table.schema().fields] == ["id", "amount"]
        clean = floe_cli("compile", product)
        assert "schema gate: 4 live tables compared · 0 columns added · 0 breaking" in clean.out
    finally:
        _sql(product, STG, TINY_MODELS[STG])


@pytest.mark.requirement("FR-090")
def test_publish_widens_a_column_type_in_place(tmp_path: Path) -> None:
    """A table with an int column receiving long data is promoted to long in place (an allowed
    Iceberg promotion, the gate's 'type_widened'); the older snapshot still reads its ints."""
    import pyarrow as pa

    from floe.runtime.catalog import open_catalog
    from floe.runtime.home import PlatformHome
    from floe.runtime.publish import replace
    from floe.spec.common import PluginRef

    catalog = open_catalog({"catalog": PluginRef(type="sql")}, PlatformHome(tmp_path / ".floe"))
    first = replace(catalog, "w.t", pa.table({"n": pa.array([1, 2], pa.int32())}), {})
    big = pa.table({"n": pa.array([3, 2**40], pa.int64())})
    replace(catalog, "w.t", big, {})
    table = catalog.load_table("w.t")
    assert str(table.schema().find_field("n").field_type) == "long"
    assert sorted(table.scan().to_arrow().column("n").to_pylist()) == [3, 2**40]
    old = table.scan(snapshot_id=first.snapshot_id).to_arrow()
    assert sorted(old.column("n").to_pylist()) == [1, 2]
