"""Concurrent writers (issue 12 point 6): commits from two processes to one table, two products
writing one catalog at once — on SQLite and on PostgreSQL — and a kill while another product
commits (PostgreSQL). Never a lost or half-written commit."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from floe.runtime.crashpoint import KILL_ENV
from tests.conftest import floe_cli
from tests.e2e import crash
from tests.e2e.crash import KILLED, ROUND1, ROUND2
from tests.e2e.servers import await_line

#: One writer: waits for the go (a line on stdin), then replaces ``race.shared`` N times with
#: its own 5 rows through floe's publish, and prints how many commits landed.
WRITER = """
import sys
import pyarrow as pa
from pyiceberg.catalog.sql import SqlCatalog
from floe.runtime.publish import replace

uri, warehouse, who, count = sys.argv[1:5]
catalog = SqlCatalog("floe", uri=uri, warehouse=warehouse)
rows = pa.table({"id": pa.array(range(5), pa.int64()), "writer": [who] * 5})
print("ready", flush=True)
sys.stdin.readline()
landed = sum(
    replace(catalog, "race.shared", rows, {"floe.run_id": f"{who}-{i}"}).snapshot_id is not None
    for i in range(int(count))
)
print("landed", landed, flush=True)
"""
COMMITS = 12


@pytest.mark.requirement("FLOE-021")
@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_concurrent_commits_to_one_table_all_land_whole_and_a_stale_sync_is_refused(
    tmp_path: Path, kind: str
) -> None:
    """Two processes, released together, each replace the same table 12 times through floe's
    publish: every commit lands (a lost race is re-applied on the new state; SQLite's lock
    waits), the table has 24 snapshots each holding exactly one writer's 5 rows, and no data
    file is left unreferenced (a lost attempt deletes its files). An incremental sync computed
    against a snapshot another writer has since replaced is refused with E547 and publishes
    nothing."""
    import sys

    import pyarrow as pa
    from pyiceberg.catalog.sql import SqlCatalog

    from floe.runtime.publish import CommitConflict, sync

    warehouse = (tmp_path / "wh").as_uri()
    (tmp_path / "wh").mkdir()
    with crash.catalog_uri(kind, tmp_path) as uri:
        catalog = SqlCatalog("floe", uri=uri, warehouse=warehouse)  # creates the catalog tables
        catalog.create_namespace("race")
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", WRITER, uri, warehouse, who, str(COMMITS)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            for who in ("a", "b")
        ]
        for proc in procs:
            await_line(proc, b"ready", 60)
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write(b"go\n")
            proc.stdin.flush()
        outs = crash.await_all(procs)
        assert [p.returncode for p in procs] == [0, 0], outs
        assert all(f"landed {COMMITS}" in out for out in outs), outs
        table = catalog.load_table("race.shared")
        snaps = table.snapshots()
        assert len(snaps) == 2 * COMMITS
        writers = sorted(s.summary.additional_properties["floe.run_id"] for s in snaps)
        assert writers == sorted(f"{w}-{i}" for w in "ab" for i in range(COMMITS))
        for snap in snaps:
            rows = table.scan(snapshot_id=snap.snapshot_id).to_arrow()
            assert rows.num_rows == 5
            assert set(rows.column("writer").to_pylist()) == {snap.summary["floe.run_id"][0]}
        assert crash.orphans(catalog, "race", "shared") == []

        base = table.current_snapshot().snapshot_id
        other = pa.table({"id": pa.array([7], pa.int64()), "writer": ["c"]})
        from floe.runtime.publish import replace

        replace(catalog, "race.shared", other, {"floe.run_id": "c-0"})
        moved = catalog.load_table("race.shared").current_snapshot().snapshot_id
        mine = pa.table({"id": pa.array([0, 1, 2, 3, 4, 5], pa.int64()), "writer": ["a"] * 6})
        with pytest.raises(CommitConflict, match=rf"E547.*snapshot {base} → {moved}"):
            sync(catalog, "race.shared", mine, {"floe.run_id": "d-0"}, base=base)
        after = catalog.load_table("race.shared")
        assert after.current_snapshot().snapshot_id == moved
        assert after.scan().to_arrow().to_pylist() == [{"id": 7, "writer": "c"}]


@pytest.mark.requirement("FLOE-021")
@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_two_products_write_one_catalog_at_once_and_a_kill_there_converges(
    tmp_path: Path, kind: str
) -> None:
    """shop-a and shop-b (two products, one platform) run at once against one catalog — the
    SQLite file of the home, or PostgreSQL: both commit every table. Then (PostgreSQL; the kills
    on SQLite are the first test's), with 4 orders, shop-a is SIGKILLed after its 2nd table's
    files are written while shop-b runs: shop-b commits everything, shop-a's tables are each at
    round 1 or round 2 (only raw_orders published), and shop-a's next run gives exactly a clean
    run's rows."""
    with crash.catalog_uri(kind, tmp_path) as uri:
        manifest, env = crash.shared_manifest(kind, uri)
        shop_a = crash.product(tmp_path, "shop-a", manifest)
        shop_b = crash.product(tmp_path, "shop-b", manifest)
        procs = [crash.start("run", p, env=env) for p in (shop_a, shop_b)]
        outs = crash.await_all(procs)
        assert [p.returncode for p in procs] == [0, 0], outs
        catalog = crash.catalog(tmp_path / "manifest.yaml", env)
        before, after = crash.expected(ROUND1), crash.expected(ROUND2)
        assert crash.states(catalog, "shop_a") == crash.states(catalog, "shop_b") == before
        if kind == "sqlite":
            return  # kills on SQLite: the test above; here the same on PostgreSQL

        crash.seed(shop_a, ROUND2)
        crash.seed(shop_b, ROUND2)
        procs = [crash.start("run", shop_a, env={**env, KILL_ENV: "commit:2"}),
                 crash.start("run", shop_b, env=env)]  # fmt: skip
        outs = crash.await_all(procs)
        assert [p.returncode for p in procs] == [KILLED, 0], outs
        assert crash.states(catalog, "shop_b") == after
        assert crash.states(catalog, "shop_a") == crash.mixed(before, after, published=1)

        again = floe_cli("run", shop_a, env=env)  # the convergence run: in this process
        assert again.code == 0, again.out + again.err
        assert crash.states(catalog, "shop_a") == after


@pytest.mark.requirement("FLOE-021")
def test_a_compaction_committing_during_a_publish_retries_a_replace_and_refuses_a_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A table of three small files (a replace, two incremental appends). A compaction
    commits exactly while a publish has its files staged (at the ``commit`` crash point): a
    replace loses that race, is re-applied on the compacted state and lands whole (its parent
    is the compaction snapshot, its run tag on it, the lost attempt's data file deleted); an
    incremental sync computed against the pre-compaction snapshot is refused with E547 naming
    both snapshots and publishes nothing (the compaction stands, rows unchanged)."""
    import pyarrow as pa
    from pyiceberg.catalog.sql import SqlCatalog

    from floe.runtime import publish
    from floe.runtime.compaction import compact

    (tmp_path / "wh").mkdir()
    catalog = SqlCatalog("floe", uri=f"sqlite:///{tmp_path / 'c.db'}",
                         warehouse=(tmp_path / "wh").as_uri())  # fmt: skip
    catalog.create_namespace("race")

    def ids(values: list[int]) -> pa.Table:
        return pa.table({"id": pa.array(values, pa.int64())})

    def small_files(name: str) -> int:
        publish.replace(catalog, name, ids([0]), {"floe.run_id": "r0"})
        for n in (2, 3):
            publish.sync(catalog, name, ids(list(range(n))), {"floe.run_id": f"r{n}"})
        table = catalog.load_table(name)
        assert len(list(table.scan().plan_files())) == 3
        return int(table.current_snapshot().snapshot_id)

    compactions: list[int] = []
    armed: list[str] = []  # the table a compaction races

    def compact_first_time(point: str) -> None:  # another writer commits in between
        if point == "commit" and armed and not compactions:
            done = compact(catalog.load_table(armed[0]), 128 * 2**20)
            assert done.files_rewritten == 3
            assert done.snapshot_id is not None
            compactions.append(done.snapshot_id)

    monkeypatch.setattr(publish, "crashpoint", compact_first_time)
    name = "race.replaced"
    small_files(name)
    armed.append(name)
    result = publish.replace(catalog, name, ids([7, 8]), {"floe.run_id": "a"}, tag="run-a")
    table = catalog.load_table(name)
    [compacted] = compactions
    assert table.current_snapshot().snapshot_id == result.snapshot_id
    assert table.current_snapshot().parent_snapshot_id == compacted
    assert table.metadata.refs["run-a"].snapshot_id == result.snapshot_id
    assert sorted(table.scan().to_arrow()["id"].to_pylist()) == [7, 8]
    assert crash.orphans(catalog, "race", "replaced") == []  # the lost attempt's file is gone

    name = "race.synced"
    armed.clear()
    compactions.clear()
    base = small_files(name)
    armed.append(name)
    with pytest.raises(publish.CommitConflict) as caught:
        publish.sync(catalog, name, ids([0, 1, 2, 3]), {"floe.run_id": "b"}, tag="run-b",
                     base=base)  # fmt: skip
    [compacted] = compactions
    assert f"E547]: {name} changed while this run built it (snapshot {base} → {compacted}" in (
        str(caught.value)
    )
    table = catalog.load_table(name)
    assert table.current_snapshot().snapshot_id == compacted
    assert "run-b" not in table.metadata.refs
    assert sorted(table.scan().to_arrow()["id"].to_pylist()) == [0, 1, 2]
    assert crash.orphans(catalog, "race", "synced") == []
