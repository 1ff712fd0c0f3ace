"""Benchmark: compaction of a table of 1,000 small data files (issue 12 point 4).

Setup (not timed): a PyIceberg SQL catalog on SQLite and a local warehouse, as the platform
home's embedded catalog; one table built by 1,000 appends of 100 rows each (1,000 snapshots,
1,000 manifests, 1,000 data files of a few KiB). Timed: `compact` with the default 128 MiB
target (one snapshot), then the rest of maintenance on the compacted table — snapshot expiry
down to 5 snapshots and orphan removal (window 0, nothing is an orphan). Printed: the times,
data files and bytes before → after, storage files before → after, and a check that the rows
are the same (md5 of the sorted rows).
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from floe.runtime.compaction import compact
from floe.runtime.maintenance import expire_snapshots, remove_orphans
from floe.runtime.table_files import data_usage, storage_usage, stored_files

FILES = 1000
ROWS = 100
TARGET = 128 * 1024 * 1024


def build(folder: Path):  # type: ignore[no-untyped-def]
    """The table after ``FILES`` appends of ``ROWS`` rows."""
    from pyiceberg.catalog.sql import SqlCatalog

    (folder / "warehouse").mkdir()
    catalog = SqlCatalog(
        "floe", uri=f"sqlite:///{folder / 'catalog.db'}", warehouse=f"file://{folder}/warehouse"
    )
    catalog.create_namespace("bench")
    schema = pa.schema([("id", pa.int64()), ("ts", pa.timestamp("us")), ("amount", pa.float64()),
                        ("name", pa.string())])  # fmt: skip
    table = catalog.create_table("bench.events", schema=schema)
    start = datetime(2026, 1, 1)
    for batch in range(FILES):
        ids = range(batch * ROWS, (batch + 1) * ROWS)
        table.append(pa.table({
            "id": pa.array(ids, pa.int64()),
            "ts": pa.array([start + timedelta(seconds=i) for i in ids], pa.timestamp("us")),
            "amount": pa.array([i * 0.5 for i in ids], pa.float64()),
            "name": [f"event-{i % 97}" for i in ids],
        }))  # fmt: skip
    return catalog.load_table("bench.events")


def checksum(table) -> str:  # type: ignore[no-untyped-def]
    rows = table.scan().to_arrow().sort_by("id")
    return hashlib.md5(str(rows.to_pydict()).encode(), usedforsecurity=False).hexdigest()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        setup = time.perf_counter()
        table = build(Path(tmp))
        print(f"setup: {FILES} appends of {ROWS} rows in {time.perf_counter() - setup:.1f} s")
        before, stored, rows = (
            data_usage(table),
            storage_usage(stored_files(table)),
            checksum(table),
        )

        start = time.perf_counter()
        done = compact(table, TARGET)
        compaction_s = time.perf_counter() - start
        after = data_usage(table)
        assert checksum(table) == rows, "compaction changed the rows"
        assert after.files == done.files_written == 1, after

        start = time.perf_counter()
        expired, _, removed = expire_snapshots(table, 5)
        orphans = remove_orphans(table, timedelta(0), datetime.now(UTC))
        rest_s = time.perf_counter() - start
        stored_after = storage_usage(stored_files(table))
        assert checksum(table) == rows

        print(f"compaction ({TARGET // 2**20} MiB target): {compaction_s:.2f} s, data files "
              f"{before.files} → {after.files}, {before.bytes / 2**20:.2f} → "
              f"{after.bytes / 2**20:.2f} MiB, one snapshot ({done.snapshot_id})")  # fmt: skip
        print(f"expiry + orphans: {rest_s:.2f} s, {expired} snapshots expired, {removed} files "
              f"deleted, {orphans.files} orphans; storage files {stored.files} → "
              f"{stored_after.files}, {stored.bytes / 2**20:.2f} → "
              f"{stored_after.bytes / 2**20:.2f} MiB")  # fmt: skip


if __name__ == "__main__":
    main()
