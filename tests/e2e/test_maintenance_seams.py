"""Maintenance meeting the rest of the table lifecycle (issue 12): compaction of a partitioned
table built by `floe run` and the runs after it; run tags through compaction and snapshot
expiry. (Kills then maintenance: test_crash_safety.py; a compaction racing a publish:
test_concurrent_writers.py.)"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from floe.app.run import run
from floe.runtime.platform import catalog_for_manifest
from floe.runtime.tables import partitions
from tests.conftest import TINY_MANIFEST, TINY_SPEC, floe_cli, write_tiny

#: Incremental (append), partitioned by region, sorted by id: each run adds the new ids as
#: one small data file per region.
SALES_SQL = """\
{{ config(materialized='incremental', partition_by=['region'], sort_by=['id']) }}
select id, region, amount from {{ ref('raw_sales') }}
{% if is_incremental() %} where id > (select max(id) from {{ this }}) {% endif %}
"""
REGIONS = ("eu", "us")


def _product(root: Path, manifest: str = TINY_MANIFEST) -> Path:
    spec = TINY_SPEC + "  - name: sales\n    tier: silver\n"
    product = write_tiny(root, spec=spec, manifest=manifest)
    (product / "dbt_project.yml").write_text(
        (product / "dbt_project.yml").read_text()
        + "    raw_sales:\n      +column_types: {id: bigint, region: varchar, amount: bigint}\n"
    )
    (product / "models" / "sales.sql").write_text(SALES_SQL)
    return product


def _sales(ids: int) -> list[tuple[int, str, int]]:
    """Sales 1..ids, alternating regions, amount 10 × id."""
    return [(i, REGIONS[i % 2], 10 * i) for i in range(1, ids + 1)]


def _run(product: Path, ids: int) -> str:
    """One real run with sales 1..ids; its run id."""
    lines = "".join(f"{i},{r},{a}\n" for i, r, a in _sales(ids))
    (product / "seeds" / "raw_sales.csv").write_text("id,region,amount\n" + lines)
    summary = run(product)
    assert summary.success, summary.failure
    return summary.run_id


def _rows(table: object, snapshot_id: int | None = None) -> list[tuple[int, str, int]]:
    scan = table.scan(snapshot_id=snapshot_id)  # type: ignore[attr-defined]
    return sorted((r["id"], r["region"], r["amount"]) for r in scan.to_arrow().to_pylist())


@pytest.mark.requirement("FLOE-008")
def test_compaction_of_a_partitioned_table_built_by_runs_keeps_partitions_and_the_next_run(
    tmp_path: Path,
) -> None:
    """Three runs of an incremental model partitioned by region append 2 sales per run (one
    per region): 3 small files per partition. `floe tables maintain tiny.sales` compacts each
    partition on its own into one file: 6 → 2 data files, every file of one region, the same
    rows; `floe tables show` lists one file per region with its records. The next run appends
    to the compacted state under the same partition spec (no new spec): one more file per
    region, every sale once."""
    product, runs = _product(tmp_path / "tiny"), 3
    for k in range(1, runs + 1):
        _run(product, 2 * k)
    manifest = product / "manifest.yaml"
    catalog = catalog_for_manifest(manifest)
    table = catalog.load_table("tiny.sales")
    spec_id, specs, rows = table.spec().spec_id, table.specs(), _rows(table)
    assert rows == _sales(2 * runs)
    per_region = Counter(r for _, r, _ in rows)
    assert {p["partition"]: p["files"] for p in partitions(table)} == {
        f"region={r}": runs for r in REGIONS
    }

    done = floe_cli("tables", "maintain", "tiny.sales", "-m", manifest, "--json")
    assert done.code == 0, done.out + done.err
    [report] = json.loads(done.out)
    assert (report["data_files_before"], report["files_compacted"]) == (2 * runs, 2 * runs)
    assert report["data_files_after"] == report["files_written"] == len(REGIONS)
    table = catalog.load_table("tiny.sales")
    assert _rows(table) == rows
    assert table.spec().spec_id == spec_id
    assert [
        (p["spec_id"], p["partition"], p["files"], p["records"]) for p in partitions(table)
    ] == [(spec_id, f"region={r}", 1, per_region[r]) for r in REGIONS]
    for task in table.scan().plan_files():  # one region per file, rows in sort_by order
        assert {r["region"] for r in _file_rows(table, task)} == {task.file.partition[0]}
        ids = [r["id"] for r in _file_rows(table, task)]
        assert ids == sorted(ids)
    shown = floe_cli("tables", "show", "tiny.sales", "-m", manifest)
    assert shown.code == 0, shown.err
    for region in REGIONS:
        assert f"{spec_id} │ region={region} │     1 │       {per_region[region]} │" in shown.out

    _run(product, 2 * runs + 2)
    table = catalog.load_table("tiny.sales")
    assert _rows(table) == _sales(2 * runs + 2)
    assert (table.spec().spec_id, table.specs()) == (spec_id, specs)  # no spec evolved
    assert [(p["partition"], p["files"]) for p in partitions(table)] == [
        (f"region={r}", 2) for r in REGIONS
    ]
    newest = table.current_snapshot()
    assert newest.summary["floe.rows_added"] == "2"
    assert newest.summary.operation.value == "append"


def _file_rows(table: object, task: object) -> list[dict[str, object]]:
    import pyarrow.parquet as pq

    path = task.file.file_path  # type: ignore[attr-defined]
    with table.io.new_input(path).open() as handle:  # type: ignore[attr-defined]
        return pq.read_table(handle).to_pylist()  # type: ignore[no-any-return]


@pytest.mark.requirement("FLOE-009")
def test_run_tags_after_compaction_and_expiry_resolve_or_fail_clearly(tmp_path: Path) -> None:
    """Three runs append to tiny.sales (each snapshot tagged `run-<id>`); with
    `snapshot_keep_last: 2`, `floe tables maintain <product>` compacts (a 4th snapshot) and
    expires the two oldest. The first run's tag went with its snapshot: `show|head --as-of
    run-<first>` and a timestamp when only its snapshot existed are E570/E571 (exit 2, no
    traceback) saying the snapshot was expired; the last run's tag still names its kept
    snapshot and reads exactly that run's rows, and the current state reads the same rows."""
    manifest_text = TINY_MANIFEST.replace("governance:\n", "governance:\n  snapshot_keep_last: 2\n")
    product = _product(tmp_path / "tiny", manifest_text)
    first, _, last = (_run(product, 2 * k) for k in range(1, 4))
    manifest = product / "manifest.yaml"
    catalog = catalog_for_manifest(manifest)
    table = catalog.load_table("tiny.sales")
    kept = table.metadata.refs[f"run-{last}"].snapshot_id
    moment = table.snapshot_by_id(table.metadata.refs[f"run-{first}"].snapshot_id).timestamp_ms

    done = floe_cli("tables", "maintain", product, "--json")
    assert done.code == 0, done.out + done.err
    report = {r["identifier"]: r for r in json.loads(done.out)}["tiny.sales"]
    assert (report["files_compacted"], report["snapshots_expired"]) == (6, 2)
    table = catalog.load_table("tiny.sales")
    assert [s.snapshot_id for s in table.snapshots()] == [kept, report["compaction_snapshot"]]
    assert sorted(r for r in table.metadata.refs if r.startswith("run-")) == [f"run-{last}"]

    from datetime import UTC, datetime

    stamp = datetime.fromtimestamp(moment / 1000, UTC).isoformat()
    for command, as_of, code in (("show", f"run-{first}", "E570"), ("head", f"run-{first}", "E570"),
                                 ("show", stamp, "E571")):  # fmt: skip
        gone = floe_cli("tables", command, "tiny.sales", "-m", manifest, "--as-of", as_of)
        assert gone.code == 2, gone.out + gone.err
        assert f"error[{code}]" in gone.err
        assert "older snapshots were expired" in gone.err
        assert "Traceback" not in gone.out + gone.err
    head = floe_cli("tables", "head", "tiny.sales", "-m", manifest, "--as-of", f"run-{last}")
    assert head.code == 0, head.err
    assert _rows(table, kept) == _rows(table) == _sales(6)
    cells = [[c.strip() for c in line.strip().strip("│").split("│")]
             for line in head.out.splitlines() if line.startswith("│")]  # fmt: skip
    assert sorted((int(i), r, int(a)) for i, r, a in cells) == _sales(6)
    shown = floe_cli("tables", "show", "tiny.sales", "-m", manifest, "--as-of", f"run-{last}")
    assert shown.code == 0, shown.err
    assert f"│ {kept} *" in shown.out
