"""Compaction: a table's small data files rewritten into target-size files, rows unchanged, in
ONE snapshot.

* **Which files.** The data files of the current snapshot smaller than 3/4 of the target
  (``small``), grouped by partition (spec id + partition values): a file never joins files of
  another partition. An unpartitioned table is one group.
* **Into what.** Per group, the small files are packed first-fit-decreasing into bins of at
  most ``target`` bytes (their Parquet sizes); every bin of two or more files is read (with
  PyIceberg's schema projection, so older files get the current schema) and written as one
  file per partition of the table's current spec, sorted by the table's sort order when it has
  one. Bins of one file stay as they are, so compacting a compacted table changes nothing.
* **One snapshot.** Every bin's old files are deleted and the new files added by one
  OVERWRITE; its summary says ``floe.operation=compact`` (plus ``floe.files_rewritten``,
  ``floe.files_written``) and ``total-records`` is unchanged. Time travel, run tags and the
  next incremental run are unaffected: the snapshot holds the same rows.
* **Concurrency.** Iceberg's optimistic commit: when another writer committed to the table
  since the compaction read it, PyIceberg retries on the new state and refuses if the new
  state conflicts (a rewritten file gone, files added — serializable isolation); floe then
  deletes the files it wrote and reports E577. Nothing of the other commit is lost.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from floe.errors import FloeError
from floe.runtime.adapters.pyiceberg_writer import write_unsplit

if TYPE_CHECKING:
    import pyarrow as pa
    from pyiceberg.table import FileScanTask, Table

E_CONCURRENT = "E577"
#: A data file under this fraction of the target size is small (a compaction candidate).
SMALL_FRACTION = 0.75
COMPACT = "compact"


@dataclass(frozen=True)
class Compaction:
    """What a compaction did to one table."""

    files_rewritten: int
    bytes_rewritten: int
    files_written: int
    bytes_written: int
    snapshot_id: int | None  # the compaction snapshot; None: nothing to compact


def plan_bins(tasks: Iterable[FileScanTask], target_bytes: int) -> list[list[FileScanTask]]:
    """The bins to rewrite: per partition, the small files packed first-fit-decreasing into
    bins of at most ``target_bytes``; only bins of two or more files."""
    small = int(target_bytes * SMALL_FRACTION)
    groups: dict[tuple[int, tuple[Any, ...]], list[FileScanTask]] = {}
    for task in tasks:
        data = task.file
        if data.file_size_in_bytes < small and not task.delete_files:
            groups.setdefault(_partition_key(task), []).append(task)
    bins: list[list[FileScanTask]] = []
    for key in sorted(groups, key=repr):
        bins += [b for b in _first_fit_decreasing(groups[key], target_bytes) if len(b) > 1]
    return bins


def _partition_key(task: FileScanTask) -> tuple[int, tuple[Any, ...]]:
    part = task.file.partition
    return task.file.spec_id, tuple(part[i] for i in range(len(part)))


def _first_fit_decreasing(tasks: list[FileScanTask], capacity: int) -> list[list[FileScanTask]]:
    ordered = sorted(tasks, key=lambda t: (-t.file.file_size_in_bytes, t.file.file_path))
    bins: list[list[FileScanTask]] = []
    room: list[int] = []
    for task in ordered:
        size = task.file.file_size_in_bytes
        slot = next((i for i, free in enumerate(room) if size <= free), None)
        if slot is None:
            bins.append([task])
            room.append(capacity - size)
        else:
            bins[slot].append(task)
            room[slot] -= size
    return bins


def compact(
    table: Table, target_bytes: int, properties: dict[str, str] | None = None
) -> Compaction:
    """Rewrite the table's small files (see the module docstring) in one snapshot."""
    from pyiceberg.exceptions import CommitFailedException, ValidationException

    if table.current_snapshot() is None:
        return Compaction(0, 0, 0, 0, None)
    bins = plan_bins(table.scan().plan_files(), target_bytes)
    if not bins:
        return Compaction(0, 0, 0, 0, None)
    rewritten = [t.file for b in bins for t in b]
    props = {
        **(properties or {}),
        "floe.operation": COMPACT,
        "floe.files_rewritten": str(len(rewritten)),
    }
    written: list[Any] = []
    tx = table.transaction()
    try:  # nothing is committed before commit_transaction: what was written may go
        producer = tx.update_snapshot(snapshot_properties=props).overwrite()
        counter = itertools.count(0)
        for group in bins:
            rows = _read(table, group)
            for task in group:
                producer.delete_data_file(task.file)
            written += write_unsplit(tx, producer, table.io, rows, counter)
        _check_rows(rewritten, written)
        producer.snapshot_properties["floe.files_written"] = str(len(written))
        producer.commit()  # stages the snapshot in the transaction
    except BaseException:
        _delete(table, written)
        raise
    try:
        tx.commit_transaction()
    except (CommitFailedException, ValidationException) as exc:  # the commit did not land
        _delete(table, written)
        raise _concurrent(table, exc) from None
    snap = table.current_snapshot()
    return Compaction(
        len(rewritten),
        sum(f.file_size_in_bytes for f in rewritten),
        len(written),
        sum(f.file_size_in_bytes for f in written),
        snap.snapshot_id if snap else None,
    )


def _check_rows(rewritten: list[Any], written: list[Any]) -> None:
    """Never commit a rewrite whose files hold other row counts or share a path."""
    before = sum(f.record_count for f in rewritten)
    after = sum(f.record_count for f in written)
    paths = {f.file_path for f in written}
    if before != after or len(paths) != len(written):
        raise RuntimeError(
            f"compaction wrote {after} rows in {len(paths)} distinct of {len(written)} files "
            f"for {before} rows: nothing committed"
        )


def _delete(table: Table, files: list[Any]) -> None:
    """Delete data files written for a commit that did not happen."""
    for data_file in files:
        table.io.delete(data_file.file_path)


def _read(table: Table, tasks: list[FileScanTask]) -> pa.Table:
    """The rows of ``tasks`` in the table's current schema (sorted by its sort order)."""
    from pyiceberg.expressions import AlwaysTrue
    from pyiceberg.io.pyarrow import ArrowScan

    rows = ArrowScan(table.metadata, table.io, table.schema(), AlwaysTrue()).to_table(tasks)
    expected = sum(t.file.record_count for t in tasks)
    if rows.num_rows != expected:  # never commit a rewrite that lost or invented rows
        raise RuntimeError(f"compaction read {rows.num_rows} rows of {expected}")
    return _sorted(table, rows)


def _sorted(table: Table, rows: pa.Table) -> pa.Table:
    """``rows`` in the table's sort order (its identity fields), else as read."""
    from pyiceberg.transforms import IdentityTransform

    keys = []
    for field in table.sort_order().fields:
        if not isinstance(field.transform, IdentityTransform):
            break
        name = table.schema().find_column_name(field.source_id)
        if name is None:
            break
        order = "ascending" if field.direction.value == "asc" else "descending"
        keys.append((name, order))
    return rows.sort_by(keys) if keys else rows


def _concurrent(table: Table, exc: Exception) -> FloeError:
    name = ".".join(table.name())
    return FloeError.single(
        E_CONCURRENT,
        f"{name} changed while it was being compacted (another writer committed: "
        f"{type(exc).__name__}: {exc}); the compaction was refused and the table is as that "
        "writer left it",
        field_path="compaction",
        hint="run the maintenance again; a run of the product and its maintenance should not "
        "overlap (they share the product's lock)",
    )
