"""Table maintenance (issue 12 point 4): compaction, snapshot expiry, orphan files, the
product's maintenance job and schedule, and what maintenance does when a writer races it."""

from __future__ import annotations

import fcntl
import hashlib
import json
import math
import os
import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from floe.app.run import run
from floe.compile.api import compile_product
from floe.errors import FloeError
from floe.orchestrate.definitions import build_definitions
from floe.runtime.compaction import compact
from floe.runtime.home import PlatformHome
from floe.runtime.maintenance import MaintenancePolicy, maintain
from tests.conftest import TINY_SPEC, floe_cli, write_tiny
from tests.e2e.conftest import Platform

#: Incremental (append): each run adds the ids it has not seen as one small data file.
ORDERS_LOG = """\
{{ config(materialized='incremental') }}
select id, amount from {{ ref('stg_orders') }}
{% if is_incremental() %} where id not in (select id from {{ this }}) {% endif %}
"""
LOG_SPEC = TINY_SPEC + "  - name: orders_log\n    tier: silver\n    dependsOn: [stg_orders]\n"
DAY = 86400


def _product(root: Path, spec: str = LOG_SPEC) -> Path:
    product = write_tiny(root, spec=spec)
    (product / "models" / "orders_log.sql").write_text(ORDERS_LOG)
    return product


def _run(product: Path, ids: int) -> None:
    """One real run with seed rows 1..ids (amount 10 × id)."""
    lines = "".join(f"{i},{i * 10}\n" for i in range(1, ids + 1))
    (product / "seeds" / "raw_orders.csv").write_text("id,amount\n" + lines)
    summary = run(product)
    assert summary.success, summary.failure


def _checksum(rows: pa.Table) -> str:
    """md5 of the sorted rows."""
    ordered = sorted(tuple(r.values()) for r in rows.to_pylist())
    return hashlib.md5(repr(ordered).encode(), usedforsecurity=False).hexdigest()


def _sizes(table: Any) -> list[int]:
    return [task.file.file_size_in_bytes for task in table.scan().plan_files()]


def _cells(out: str, name: str) -> list[str]:
    """The cells of the rich table row whose first cell is ``name``."""
    row = next(line for line in out.splitlines() if line.startswith(f"│ {name} "))
    return [c.strip() for c in row.strip().strip("│").split("│")]


@pytest.mark.requirement("FLOE-009")
def test_compaction_leaves_target_size_files_in_one_snapshot_and_the_next_run_appends(
    tmp_path: Path,
) -> None:
    """Four real runs append four small files to an incremental table. With a target of 2.5×
    the largest file, `floe tables maintain <table>` packs two files per bin: 4 → 2 files, the
    same rows (checksum), exactly one new snapshot (floe.operation=compact, parent = the last
    run's, same total-records; `floe tables show` lists it as `overwrite (compact)`).
    `floe tables maintain <product>` with the default 128 MiB then leaves one file per table
    and prints before → after. The next `floe run` of the incremental model appends to the
    compacted state: every id once. An unreadable --target-size is E575 (exit 2) and changes
    nothing."""
    product, runs = _product(tmp_path / "tiny"), 4
    for k in range(1, runs + 1):
        _run(product, 2 * k)
    manifest = product / "manifest.yaml"
    catalog = Platform(product, {}).catalog()
    table = catalog.load_table("tiny.orders_log")
    sizes, rows, last = _sizes(table), table.scan().to_arrow(), table.current_snapshot()
    assert len(sizes) == runs
    target = int(2.5 * max(sizes))
    per_file = target // max(sizes)
    assert per_file == 2  # two files fit a bin, three do not
    assert (per_file + 1) * min(sizes) > target
    expected = math.ceil(runs / per_file)

    bad = floe_cli("tables", "maintain", "tiny.orders_log", "-m", manifest,
                   "--target-size", "12 parsecs")  # fmt: skip
    assert bad.code == 2
    assert "error[E575]: --target-size: '12 parsecs' is no size" in bad.err
    assert len(catalog.load_table("tiny.orders_log").snapshots()) == runs

    res = floe_cli("tables", "maintain", "tiny.orders_log", "-m", manifest,
                   "--target-size", str(target), "--json")  # fmt: skip
    assert res.code == 0, res.out + res.err
    [report] = json.loads(res.out)
    table = catalog.load_table("tiny.orders_log")
    snap = table.current_snapshot()
    assert len(_sizes(table)) == expected == report["data_files_after"] == 2
    assert (report["data_files_before"], report["files_compacted"]) == (runs, runs)
    assert report["files_written"] == expected
    assert report["data_bytes_before"] == sum(sizes)
    assert report["data_bytes_after"] == sum(_sizes(table))
    assert report["compaction_snapshot"] == snap.snapshot_id
    assert _checksum(table.scan().to_arrow()) == _checksum(rows)
    assert len(table.snapshots()) == runs + 1
    assert snap.parent_snapshot_id == last.snapshot_id
    assert snap.summary["floe.operation"] == "compact"
    assert snap.summary["floe.files_rewritten"] == str(runs)
    assert snap.summary["total-records"] == last.summary["total-records"] == str(2 * runs)
    shown = floe_cli("tables", "show", "tiny.orders_log", "-m", manifest)
    assert _cells(shown.out, str(snap.snapshot_id))[1] == "overwrite (compact)"

    out = floe_cli("tables", "maintain", product)
    assert out.code == 0, out.out + out.err
    cells = _cells(out.out, "tiny.orders_log")
    assert cells[1:4] == ["2 → 1", cells[2], "2 → 1"]
    after = catalog.load_table("tiny.orders_log")
    assert len(_sizes(after)) == 1
    assert re.fullmatch(r"\d+(\.\d)? (B|KiB) → \d+(\.\d)? (B|KiB)", cells[2])
    for seed_table in ("tiny.raw_orders", "tiny.stg_orders"):  # one file each: nothing to do
        assert _cells(out.out, seed_table)[1:4] == ["1 → 1", _cells(out.out, seed_table)[2], "-"]

    _run(product, 2 * runs + 2)
    table = catalog.load_table("tiny.orders_log")
    ids = sorted(table.scan().to_arrow()["id"].to_pylist())
    assert ids == list(range(1, 2 * runs + 3))
    newest = table.current_snapshot()
    assert newest.parent_snapshot_id == after.current_snapshot().snapshot_id
    assert newest.summary["floe.rows_added"] == "2"


def _defs(product: Path) -> dg.Definitions:
    ctx = compile_product(product)
    assert ctx.manifest_doc is not None
    home = PlatformHome.for_manifest(ctx.manifest_doc.path)
    home.ensure()
    return build_definitions(product.resolve(), ctx.options.output_dir.resolve(), home)


def _plant(folder: Path, name: str, size: int, age_days: float) -> Path:
    path = folder / name
    path.write_bytes(b"x" * size)
    moment = time.time() - age_days * DAY
    os.utime(path, (moment, moment))
    return path


@pytest.mark.requirement("FLOE-009")
@pytest.mark.requirement("FR-032")
def test_maintenance_job_on_its_schedule_removes_old_orphans_only(tmp_path: Path) -> None:
    """The product's Definitions hold `tiny_maintenance_schedule` with floe.yaml's cron on
    `tiny_maintenance`. Files a crashed run would leave (a data file, a manifest, a metadata
    file no snapshot names) are planted with mtimes 3 days old, another 1 day old; a
    referenced data file is aged 3 days too. The job, run in-process, deletes exactly the old
    unreferenced files (window 2 d), keeps the young one and every referenced file, the rows
    stay, and its observation reports the files and bytes removed and storage before/after."""
    spec = LOG_SPEC + "maintenance:\n  cron: '30 2 * * 6'\n  orphan_older_than: 2d\n"
    product = _product(tmp_path / "tiny", spec)
    _run(product, 3)
    defs = _defs(product)
    schedule = defs.resolve_schedule_def("tiny_maintenance_schedule")
    assert (schedule.cron_schedule, schedule.job_name) == ("30 2 * * 6", "tiny_maintenance")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING

    table = Platform(product, {}).catalog().load_table("tiny.raw_orders")
    rows = _checksum(table.scan().to_arrow())
    root = Path(table.location().removeprefix("file://"))
    referenced = Path(next(iter(table.scan().plan_files())).file.file_path.removeprefix("file://"))
    os.utime(referenced, (time.time() - 3 * DAY,) * 2)
    old = [
        _plant(root / "data", "00000-0-crashed.parquet", 700, 3),
        _plant(root / "metadata", "crashed-m0.avro", 300, 3),
        _plant(root / "metadata", "00009-crashed.metadata.json", 200, 3),
    ]
    young = _plant(root / "data", "00000-1-inflight.parquet", 500, 1)
    stored_before = sum(1 for p in root.rglob("*") if p.is_file())

    with dg.DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def("tiny_maintenance").execute_in_process(instance=instance)
    assert result.success
    assert [p.exists() for p in old] == [False, False, False]
    assert young.exists()
    assert referenced.exists()
    table = Platform(product, {}).catalog().load_table("tiny.raw_orders")
    assert _checksum(table.scan().to_arrow()) == rows
    observed = {
        e.event_specific_data.asset_observation.asset_key.path[-1]:
        {k: v.value for k, v in e.event_specific_data.asset_observation.metadata.items()}
        for e in result.all_events if e.event_type_value == "ASSET_OBSERVATION"
    }  # fmt: skip
    assert sorted(observed) == ["int_orders", "mart_revenue", "orders_log", "raw_orders",
                                "stg_orders"]  # fmt: skip
    raw = observed["raw_orders"]
    assert (raw["orphans_removed"], raw["orphan_bytes_removed"]) == (3, 1200)
    assert raw["storage_files_before"] == stored_before
    assert raw["storage_files_after"] == stored_before - 3
    assert raw["storage_files_after"] == sum(1 for p in root.rglob("*") if p.is_file())
    assert (raw["data_files_before"], raw["data_files_after"], raw["files_compacted"]) == (1, 1, 0)
    assert {o["orphans_removed"] for name, o in observed.items() if name != "raw_orders"} == {0}


@pytest.fixture
def shop(tmp_path: Path) -> Any:
    """A PyIceberg SQL catalog on SQLite (as the platform's) with namespace `shop`."""
    from pyiceberg.catalog.sql import SqlCatalog

    (tmp_path / "warehouse").mkdir()
    cat = SqlCatalog(
        "floe", uri=f"sqlite:///{tmp_path / 'catalog.db'}", warehouse=f"file://{tmp_path}/warehouse"
    )
    cat.create_namespace("shop")
    return cat


def _appends(table: Any, batches: list[dict[str, list[Any]]]) -> None:
    schema = table.schema().as_arrow()
    for batch in batches:
        table.append(pa.Table.from_pydict(batch, schema=schema))


@pytest.mark.requirement("FLOE-009")
def test_compaction_of_a_partitioned_table_never_mixes_partitions(shop: Any) -> None:
    """A table partitioned by `region` (identity) gets three appends of rows of two regions
    (six files), then its spec evolves to add bucket(2, id) and two more appends follow.
    Compaction rewrites each (spec, partition) group of two or more files on its own into the
    current spec (a group of one file stays): every file afterwards holds the rows of exactly
    one (region, bucket), the rows are the same, one snapshot; a second compaction merges the
    rewritten old-spec rows with the newer files of their partition: one file per partition."""
    from pyiceberg.partitioning import PartitionField, PartitionSpec
    from pyiceberg.schema import Schema
    from pyiceberg.transforms import BucketTransform, IdentityTransform
    from pyiceberg.types import LongType, NestedField, StringType

    schema = Schema(NestedField(1, "id", LongType(), required=True),
                    NestedField(2, "region", StringType(), required=True))  # fmt: skip
    spec = PartitionSpec(PartitionField(2, 1000, IdentityTransform(), "region"))
    table = shop.create_table("shop.sales", schema=schema, partition_spec=spec)
    _appends(table, [{"id": [3 * k, 3 * k + 1, 3 * k + 2], "region": ["eu", "us", "eu"]}
                     for k in range(3)])  # fmt: skip
    with table.update_spec() as update:
        update.add_field("id", BucketTransform(2), "id_bucket")
    _appends(table, [{"id": [10 + k, 20 + k], "region": ["eu", "us"]} for k in range(2)])
    table = shop.load_table("shop.sales")
    tasks = list(table.scan().plan_files())
    assert len(tasks) == 6 + 4
    groups: dict[tuple[int, tuple[Any, ...]], int] = {}
    for task in tasks:
        key = (
            task.file.spec_id,
            tuple(task.file.partition[i] for i in range(len(task.file.partition))),
        )
        groups[key] = groups.get(key, 0) + 1
    rows, snapshots = _checksum(table.scan().to_arrow()), len(table.snapshots())

    done = compact(table, 128 * 2**20)
    table = shop.load_table("shop.sales")
    assert _checksum(table.scan().to_arrow()) == rows
    assert len(table.snapshots()) == snapshots + 1
    # spec 0: eu and us, three files each; spec 1: (region, bucket) groups of one or two files
    assert done.files_rewritten == sum(n for n in groups.values() if n > 1) == 8
    written = list(table.scan().plan_files())
    assert len(written) == done.files_written + len(tasks) - done.files_rewritten
    bucket = BucketTransform(2).transform(LongType())
    counts: dict[tuple[str, int], int] = {}
    for row in table.scan().to_arrow().to_pylist():
        key = (row["region"], bucket(row["id"]))
        counts[key] = counts.get(key, 0) + 1
    held: dict[tuple[str, int], int] = {}
    for task in written:  # each file holds rows of its one partition only
        assert task.file.spec_id == table.spec().spec_id
        part = (task.file.partition[0], task.file.partition[1])
        with table.io.new_input(task.file.file_path).open() as handle:
            file_rows = pq.read_table(handle).to_pylist()
        assert {(r["region"], bucket(r["id"])) for r in file_rows} == {part}
        held[part] = held.get(part, 0) + len(file_rows)
    assert held == counts
    compact(table, 128 * 2**20)  # the rewritten and the newer files of a partition meet now
    final = shop.load_table("shop.sales")
    parts = sorted((t.file.partition[0], t.file.partition[1]) for t in final.scan().plan_files())
    assert parts == sorted(counts)
    assert _checksum(final.scan().to_arrow()) == rows


@pytest.mark.requirement("FLOE-009")
def test_a_concurrent_commit_refuses_the_compaction_and_loses_nothing(shop: Any) -> None:
    """Compaction starts from a table state another writer then changes (an append lands
    first): the compaction's commit is refused with E577, the other writer's rows are there,
    no snapshot of the compaction exists and the files it wrote are deleted again."""
    table = shop.create_table("shop.orders", schema=pa.schema([("id", pa.int64())]))
    _appends(table, [{"id": [k]} for k in range(4)])
    stale = shop.load_table("shop.orders")
    shop.load_table("shop.orders").append(pa.table({"id": pa.array([99], pa.int64())}))
    data = Path(stale.location().removeprefix("file://")) / "data"
    files = sorted(os.listdir(data))

    with pytest.raises(FloeError) as caught:
        compact(stale, 128 * 2**20)
    assert caught.value.diagnostics[0].code == "E577"
    assert "shop.orders changed while it was being compacted" in caught.value.render()
    table = shop.load_table("shop.orders")
    assert sorted(table.scan().to_arrow()["id"].to_pylist()) == [0, 1, 2, 3, 99]
    assert len(table.snapshots()) == 5
    assert all("floe.operation" not in s.summary.additional_properties for s in table.snapshots())
    assert sorted(os.listdir(data)) == files


@pytest.mark.requirement("FLOE-009")
def test_maintenance_waits_for_the_products_lock_then_refuses(shop: Any, tmp_path: Path) -> None:
    """While a run of the product holds its lock (`<home>/scratch/<namespace>.lock`, held here
    as a run holds it), maintenance of the namespace's tables waits, then refuses with E576
    and changes nothing; once the lock is free the same call compacts."""
    table = shop.create_table("shop.orders", schema=pa.schema([("id", pa.int64())]))
    _appends(table, [{"id": [k]} for k in range(3)])
    home = PlatformHome(tmp_path / "home")
    work = [("shop.orders", MaintenancePolicy(keep_last=10, orphan_older_than=timedelta(0)))]
    lock = home.product_lock("shop")
    lock.parent.mkdir(parents=True)
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(FloeError) as caught:
            maintain(shop, home, work, wait_seconds=0.5)
        fcntl.flock(held, fcntl.LOCK_UN)
    assert caught.value.diagnostics[0].code == "E576"
    assert "maintenance of shop" in caught.value.render()
    assert len(shop.load_table("shop.orders").snapshots()) == 3
    [done] = maintain(shop, home, work, wait_seconds=0.5)
    assert (done.data_files_before, done.data_files_after, done.files_compacted) == (3, 1, 3)
