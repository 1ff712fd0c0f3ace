"""Crash safety (issue 12 point 6): `floe run` killed with SIGKILL at chosen points (the
test-only ``FLOE_TEST_KILL_AFTER`` crash points), and two runs of one product at once. After
every kill each table loads and holds exactly its rows before the run or its rows after it
(derived from the seed), and the next run gives exactly the rows of a clean run. Concurrent
writers and PostgreSQL: test_concurrent_writers.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from floe.runtime.crashpoint import KILL_ENV
from tests.conftest import floe_cli
from tests.e2e import crash
from tests.e2e.crash import KILLED, ROUND1, ROUND2, TABLES
from tests.e2e.servers import await_line


@pytest.mark.requirement("FLOE-020")
def test_a_run_killed_at_any_point_leaves_committed_tables_and_the_next_run_converges(
    tmp_path: Path,
) -> None:
    """Round 1 publishes 2 orders. With 4 orders in the seed, runs are SIGKILLed after dbt's
    build, after the 2nd table's files are written but before its commit, and after the 3rd
    table's commit: each time every table loads and holds exactly its round-1 or its round-2
    rows (the tables published before the kill: round 2), each published table carries its
    run's tag in the same snapshot, the kill's unreferenced files stay as orphans for
    maintenance, the next run marks the killed run FAILURE, and `floe run --from-failure`
    ends with exactly the rows of a clean run (the incremental table without duplicates).
    Then `floe tables maintain <product> --older-than 0s` removes exactly the files the
    uncommitted publish left (its data file, manifests and manifest list: every file the kill
    added under stg_orders' location) and nothing from the other tables; the rows stay."""
    product = crash.product(tmp_path)
    home = product / ".floe"
    first = floe_cli("run", product)  # setup: in this process; the kills below are real ones
    assert first.code == 0, first.out + first.err
    catalog = crash.catalog(product / "manifest.yaml")
    before, after = crash.expected(ROUND1), crash.expected(ROUND2)
    assert crash.states(catalog) == before
    crash.seed(product, ROUND2)

    killed = crash.floe("run", product, env={KILL_ENV: "build"})
    assert killed.code == KILLED, killed.out + killed.err
    assert (home / "scratch" / "tiny.duckdb").is_file()  # left behind by the kill
    assert crash.states(catalog) == before

    stg_before = crash.stored(catalog, "tiny", "stg_orders")
    killed = crash.floe("run", product, env={KILL_ENV: "commit:2"})
    assert killed.code == KILLED, killed.out + killed.err
    assert "published tiny.raw_orders" in killed.out
    assert crash.states(catalog) == crash.mixed(before, after, published=1)
    orphans = crash.orphans(catalog, "tiny", "stg_orders")
    assert len(orphans) == 1  # the killed commit's data file: maintenance removes it
    left = crash.stored(catalog, "tiny", "stg_orders") - stg_before  # nothing of it committed
    assert set(orphans) < left  # with the manifests and manifest list written for the commit
    assert crash.orphans(catalog, "tiny", "raw_orders") == []

    killed = crash.floe("run", product, env={KILL_ENV: "publish:3"})
    assert killed.code == KILLED, killed.out + killed.err
    assert crash.states(catalog) == crash.mixed(before, after, published=3)
    third = {crash.run_tag_on_current(catalog, "tiny", t) for t in TABLES[:3]}
    assert len(third) == 1  # one run published them, each with its tag in the same commit
    runs = crash.runs(home)
    assert runs[third.pop()][0] == "STARTED"  # nobody told Dagster
    assert [s for s, _ in runs.values()].count("FAILURE") == 2  # marked by the next runs

    resumed = floe_cli("run", product, "--from-failure")
    assert resumed.code == 0, resumed.out + resumed.err
    assert "its process ended without finishing" in resumed.out
    assert crash.states(catalog) == after
    runs = crash.runs(home)
    statuses = sorted(s for s, _ in runs.values())
    assert statuses == ["FAILURE", "FAILURE", "FAILURE", "SUCCESS", "SUCCESS"]
    killed_messages = [m for s, m in runs.values() if s == "FAILURE"]
    assert all("ended without finishing (killed?)" in m for m in killed_messages)
    assert orphans == [o for o in crash.orphans(catalog, "tiny", "stg_orders") if o in orphans]

    maintained = floe_cli("tables", "maintain", product, "--older-than", "0s", "--json")
    assert maintained.code == 0, maintained.out + maintained.err
    removed = {r["identifier"]: r["orphans_removed"] for r in json.loads(maintained.out)}
    assert removed == {f"tiny.{t}": len(left) if t == "stg_orders" else 0 for t in TABLES}
    assert not left & crash.stored(catalog, "tiny", "stg_orders")
    assert crash.orphans(catalog, "tiny", "stg_orders") == []
    assert crash.states(catalog) == after


@pytest.mark.requirement("FLOE-021")
def test_two_runs_of_one_product_at_once_both_commit_one_after_the_other(tmp_path: Path) -> None:
    """Two `floe run` of the same product started together while a third run holds the
    product's lock: both say whose run they wait for, then both succeed, one after the other.
    Every replaced table has one snapshot per run (each tagged by its run) and the rows of a
    clean run; the incremental table appended the new orders once (the second run found it
    unchanged) — no row lost, none doubled."""
    product = crash.product(tmp_path)
    first = floe_cli("run", product)  # setup: in this process; the two contenders are processes
    assert first.code == 0, first.out + first.err
    crash.seed(product, ROUND2)
    with crash.holding(product / ".floe" / "scratch" / "tiny.lock", "run held-by-test (pid 1)"):
        procs = [crash.start("run", product) for _ in range(2)]
        for proc in procs:
            await_line(proc, b"waiting for run held-by-test (pid 1) of tiny", 180)
    outs = crash.await_all(procs)
    assert [p.returncode for p in procs] == [0, 0], outs
    catalog = crash.catalog(product / "manifest.yaml")
    assert crash.states(catalog) == crash.expected(ROUND2)
    for name in ("raw_orders", "stg_orders", "mart_revenue"):
        table = catalog.load_table(f"tiny.{name}")
        runs = [s.summary.additional_properties["floe.run_id"] for s in table.snapshots()]
        assert len(runs) == len(set(runs)) == 3
        assert {f"run-{r}" for r in runs} <= set(table.metadata.refs)
    incremental = catalog.load_table("tiny.int_orders")
    assert [s.summary.operation.value for s in incremental.snapshots()] == ["append", "append"]
    assert len([r for r in incremental.metadata.refs if r.startswith("run-")]) == 3
