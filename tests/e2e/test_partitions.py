"""Partitioning from the model and its evolution (issue 12 point 1, FR-091): a model's dbt
config ``partition_by``/``sort_by`` becomes its Iceberg table's partition spec and sort order;
changing it evolves the spec in place (old files keep theirs), reported by compile."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from floe.app.run import run
from floe.runtime.layout import table_layout
from floe.runtime.platform import catalog_for_manifest
from floe.runtime.tables import partitions
from tests.conftest import TINY_SPEC, floe_cli, write_tiny

EVENTS_SQL = """\
{{{{ config(materialized='incremental', unique_key='id', partition_by={parts},
            sort_by=['id desc']) }}}}
select id, region, ts, amount from {{{{ ref('raw_events') }}}}
"""
SEED_1 = """\
id,region,ts,amount
1,eu,2024-01-01 08:00:00,10
2,eu,2024-01-01 17:30:00,20
3,us,2024-01-01 09:00:00,30
4,us,2024-01-02 10:00:00,40
5,eu,2024-01-03 11:00:00,50
6,eu,2024-01-03 12:00:00,60
"""
#: row 4 changes (its file is rewritten), 7-9 are new (two months, both regions)
SEED_2 = """\
id,region,ts,amount
1,eu,2024-01-01 08:00:00,10
2,eu,2024-01-01 17:30:00,20
3,us,2024-01-01 09:00:00,30
4,us,2024-01-02 10:00:00,44
5,eu,2024-01-03 11:00:00,50
6,eu,2024-01-03 12:00:00,60
7,eu,2024-02-10 10:00:00,70
8,us,2024-02-11 10:00:00,80
9,us,2024-01-20 10:00:00,90
"""


def _rows(seed: str) -> list[dict[str, Any]]:
    return [
        {"id": int(r["id"]), "region": r["region"], "ts": datetime.fromisoformat(r["ts"]),
         "amount": int(r["amount"])}
        for r in csv.DictReader(io.StringIO(seed))
    ]  # fmt: skip


def _product(root: Path) -> Path:
    product = write_tiny(root, spec=TINY_SPEC + "  - name: events\n    tier: silver\n")
    (product / "dbt_project.yml").write_text(
        (product / "dbt_project.yml").read_text()
        + "    raw_events:\n      +column_types: {id: bigint, region: varchar, ts: timestamp, "
        "amount: bigint}\n"
    )
    (product / "seeds" / "raw_events.csv").write_text(SEED_1)
    (product / "models" / "events.sql").write_text(EVENTS_SQL.format(parts="['day(ts)', 'region']"))
    return product


def _by_partition(table: Any) -> dict[tuple[int, str], int]:
    """(spec id, partition path) → data files."""
    return {(p["spec_id"], p["partition"]): p["files"] for p in partitions(table)}


@pytest.mark.requirement("FR-091")
@pytest.mark.requirement("FLOE-008")
def test_partition_by_and_sort_by_become_the_spec_and_evolve_in_place(tmp_path: Path) -> None:
    """Run 1: ``partition_by=['day(ts)', 'region']``, ``sort_by=['id desc']`` → the table's
    spec and sort order; one data file per distinct (day, region) of the seed, each file's rows
    in id-descending order. Then the config changes to ``month(ts)``: compile reports the
    change as non-breaking; run 2 (an incremental merge: row 4 changed, rows 7–9 new) evolves
    the spec in place — the untouched files keep the old spec id, the rewritten file of row 4
    and the new rows are written in (month, region) partitions of the new spec — and every row
    of the new seed is read back."""
    product = _product(tmp_path / "tiny")
    first = run(product)
    assert first.success, first.failure
    catalog = catalog_for_manifest(product / "manifest.yaml")
    table = catalog.load_table("tiny.events")
    layout = table_layout(table)
    assert [f.text for f in layout.partition_by] == ["day(ts)", "region"]
    assert [(f.source_id, str(f.transform)) for f in table.spec().fields] == [
        (table.schema().find_field("ts").field_id, "day"),
        (table.schema().find_field("region").field_id, "identity"),
    ]
    assert [f.text for f in layout.sort_by] == ["id desc"]
    rows_1 = _rows(SEED_1)
    days = Counter(f"ts_day={r['ts']:%Y-%m-%d}/region={r['region']}" for r in rows_1)
    old_spec = table.spec().spec_id
    assert _by_partition(table) == {(old_spec, p): 1 for p in days}
    assert {p["partition"]: p["records"] for p in partitions(table)} == dict(days)
    for task in table.scan().plan_files():  # rows sorted by sort_by within each file
        with table.io.new_input(task.file.file_path).open() as handle:
            ids = pq.read_table(handle).column("id").to_pylist()
        assert ids == sorted(ids, reverse=True)

    (product / "models" / "events.sql").write_text(
        EVENTS_SQL.format(parts="['month(ts)', 'region']")
    )
    (product / "seeds" / "raw_events.csv").write_text(SEED_2)
    compiled = floe_cli("compile", product)
    assert compiled.code == 0, compiled.err
    assert "partition spec of events: day(ts), region → month(ts), region" in compiled.out
    assert "0 breaking" in compiled.out

    second = run(product)
    assert second.success, second.failure
    table = catalog.load_table("tiny.events")
    new_spec = table.spec().spec_id
    assert new_spec != old_spec
    assert [f.text for f in table_layout(table).partition_by] == ["region", "month(ts)"]
    rows_2 = _rows(SEED_2)
    changed = ({r["id"] for r in rows_2} - {r["id"] for r in rows_1}) | {4}
    rewritten = "ts_day=2024-01-02/region=us"  # the partition of row 4 (its file is rewritten)
    kept = {(old_spec, p): 1 for p in days if p != rewritten}
    rewritten_rows = [r for r in rows_2 if r["id"] in changed or (
        f"ts_day={r['ts']:%Y-%m-%d}/region={r['region']}" == rewritten)]  # fmt: skip
    months = {f"region={r['region']}/ts_month={r['ts']:%Y-%m}" for r in rewritten_rows}
    assert _by_partition(table) == kept | {(new_spec, p): 1 for p in months}
    read = sorted(table.scan().to_arrow().to_pylist(), key=lambda r: r["id"])
    assert read == sorted(rows_2, key=lambda r: r["id"])

    shown = floe_cli("tables", "show", "tiny.events", "-m", product / "manifest.yaml")
    assert shown.code == 0, shown.err
    assert f"partition spec {new_spec}: region, month(ts) · sort order: id desc" in shown.out
    for spec_id, path in kept:
        assert f"{spec_id} │ {path} " in shown.out


@pytest.mark.requirement("FLOE-008")
def test_a_layout_only_dbt_can_render_is_checked_by_the_run_before_publishing(
    tmp_path: Path,
) -> None:
    """``partition_by=var('parts', 'day(created_at)')`` is unknown to compile; dbt renders it
    and, before anything is published, the run refuses int_orders with E216 at the model's
    file (its columns are id and amount) and holds back mart_revenue built on it; the nodes
    before it are published."""
    product = write_tiny(tmp_path / "tiny")
    model = product / "models" / "int_orders.sql"
    model.write_text("{{ config(partition_by=var('parts', 'day(created_at)')) }}\n"
                     + model.read_text())  # fmt: skip
    summary = run(product)
    assert not summary.success
    assert "error[E216]" in summary.failure
    assert "models/int_orders.sql" in summary.failure
    assert "tiny.int_orders: column 'created_at' is not among the model's columns (id, amount)" in (
        summary.failure
    )
    assert "mart_revenue: skipped: an upstream node was not published (int_orders)" in (
        summary.failure
    )
    assert [a.name for a in summary.assets] == ["raw_orders", "stg_orders"]
    catalog = catalog_for_manifest(product / "manifest.yaml")
    assert sorted(t for _, t in catalog.list_tables("tiny")) == ["raw_orders", "stg_orders"]
