"""Maintenance of Iceberg tables: compaction, snapshot expiry, orphan-file removal.

Per table, in this order (each its own Iceberg commit, each safe to repeat):

1. **compaction** of small data files into target-size files, one snapshot
   (``runtime/compaction.py``);
2. **snapshot expiry**: keep the newest ``keep_last`` snapshots (and every branch/tag head
   except the ``run-<id>`` tags), expire the others and delete the files only they referenced
   — the same function the retention job calls;
3. **orphan removal**: delete the files under the table's location that no metadata file,
   manifest list, manifest or data file of any snapshot names, once they are older than the
   safety window (a crashed run's uncommitted files, expired metadata). A file younger than
   the window, or referenced by any snapshot, is never deleted.

The tables of one product are maintained under the product's lock (the lock a ``floe run`` of
the product holds), so maintenance never interleaves with a run on this platform; any other
concurrent writer meets Iceberg's optimistic commit (E577, nothing lost).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from floe.runtime.compaction import compact
from floe.runtime.product_lock import product_lock
from floe.runtime.table_files import (
    Usage,
    data_usage,
    location_filesystem,
    referenced_files,
    snapshot_files,
    storage_usage,
    stored_files,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table

    from floe.runtime.home import PlatformHome

DEFAULT_TARGET_BYTES = 128 * 1024 * 1024
DEFAULT_ORPHAN_AGE = timedelta(days=3)
#: How long maintenance waits for a run of the product to release the product's lock.
DEFAULT_WAIT_SECONDS = 300.0


@dataclass(frozen=True)
class MaintenancePolicy:
    """Compaction target, snapshots kept, and the age from which an orphan file may go."""

    target_file_bytes: int = DEFAULT_TARGET_BYTES
    keep_last: int = 5
    orphan_older_than: timedelta = DEFAULT_ORPHAN_AGE


@dataclass(frozen=True)
class TableMaintenance:
    """What maintenance did to one table: data files (current snapshot) and storage (every
    file under the table's location) before and after, and what each step removed."""

    identifier: str
    data_files_before: int
    data_files_after: int
    data_bytes_before: int
    data_bytes_after: int
    files_compacted: int
    files_written: int
    compaction_snapshot: int | None
    snapshots_expired: int
    expired_files_removed: int
    orphans_removed: int
    orphan_bytes_removed: int
    storage_files_before: int
    storage_files_after: int
    storage_bytes_before: int
    storage_bytes_after: int


def maintain(
    catalog: Catalog,
    home: PlatformHome,
    work: Iterable[tuple[str, MaintenancePolicy]],
    *,
    run_id: str | None = None,
    wait_seconds: float | None = DEFAULT_WAIT_SECONDS,
    now: Callable[[], datetime] | None = None,
    on_table: Callable[[TableMaintenance], None] | None = None,
) -> list[TableMaintenance]:
    """Maintain each (table, policy) in turn, holding its product's lock (per namespace) while
    its tables are maintained; ``on_table`` hears of each table when it is done."""
    by_namespace: dict[str, list[tuple[str, MaintenancePolicy]]] = {}
    for identifier, policy in work:
        by_namespace.setdefault(identifier.rsplit(".", 1)[0], []).append((identifier, policy))
    out: list[TableMaintenance] = []
    for namespace, items in by_namespace.items():
        lock = home.product_lock(namespace)
        with product_lock(lock, wait_seconds=wait_seconds, what=f"maintenance of {namespace}",
                          holder=f"maintenance of {namespace} (pid {os.getpid()})"):  # fmt: skip
            for identifier, policy in items:
                moment = (now or _utcnow)()
                done = maintain_table(catalog.load_table(identifier), policy, run_id, moment)
                out.append(done)
                if on_table is not None:
                    on_table(done)
    return out


def _utcnow() -> datetime:
    return datetime.now(UTC)


def maintain_table(
    table: Table, policy: MaintenancePolicy, run_id: str | None, now: datetime
) -> TableMaintenance:
    """Compact, expire snapshots, remove orphans; the figures before and after."""
    identifier = ".".join(table.name())
    data_before, stored_before = data_usage(table), storage_usage(stored_files(table))
    props = {"floe.run_id": run_id} if run_id else {}
    compaction = compact(table, policy.target_file_bytes, props)
    expired, _, expired_files = expire_snapshots(table, policy.keep_last)
    orphans = remove_orphans(table, policy.orphan_older_than, now)
    data_after, stored_after = data_usage(table), storage_usage(stored_files(table))
    return TableMaintenance(
        identifier,
        data_before.files, data_after.files, data_before.bytes, data_after.bytes,
        compaction.files_rewritten, compaction.files_written, compaction.snapshot_id,
        expired, expired_files,
        orphans.files, orphans.bytes,
        stored_before.files, stored_after.files, stored_before.bytes, stored_after.bytes,
    )  # fmt: skip


def expire_snapshots(table: Table, keep_last: int) -> tuple[int, int, int]:
    """Keep the newest ``keep_last`` snapshots (and every branch/tag head except run tags);
    expire the rest — dropping the ``run-<id>`` tags on them — and delete files no kept
    snapshot references. Returns (expired, kept, files removed)."""
    from floe.runtime.timetravel import is_run_tag

    snapshots = sorted(table.snapshots(), key=lambda s: (s.timestamp_ms, s.sequence_number or 0))
    refs = table.metadata.refs
    protected = {ref.snapshot_id for name, ref in refs.items() if not is_run_tag(name)}
    keep = {s.snapshot_id for s in snapshots[-keep_last:]} | protected
    expire = [s for s in snapshots if s.snapshot_id not in keep]
    if not expire:
        return 0, len(snapshots), 0
    stale = sorted(n for n, r in refs.items() if is_run_tag(n) and r.snapshot_id not in keep)
    if stale:
        with table.manage_snapshots() as manage:
            for name in stale:
                manage.remove_tag(name)
    kept = [s for s in snapshots if s.snapshot_id in keep]
    doomed = snapshot_files(table, expire, live_only=False) - snapshot_files(
        table, kept, live_only=True
    )
    table.maintenance.expire_snapshots().by_ids([s.snapshot_id for s in expire]).commit()
    for path in sorted(doomed):
        table.io.delete(path)
    return len(expire), len(snapshots) - len(expire), len(doomed)


def remove_orphans(table: Table, older_than: timedelta, now: datetime) -> Usage:
    """Delete the files under the table's location that nothing of the table references and
    that were last modified before ``now - older_than``; how many, how many bytes."""
    cutoff = now - older_than
    table.refresh()  # whatever was committed meanwhile is referenced too
    referenced = referenced_files(table)
    doomed = [f for f in stored_files(table) if f.path not in referenced and f.modified < cutoff]
    if doomed:
        fs, _ = location_filesystem(table)
        for stored in doomed:
            fs.delete_file(stored.path)
    return storage_usage(doomed)
