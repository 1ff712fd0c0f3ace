"""Retention of a product's Iceberg tables (FR-031, FR-032).

Two housekeeping steps per table, both through the catalog:

* **rows**: delete every row whose timestamp/date ``column`` is older than ``now - window``
  (one DELETE/OVERWRITE snapshot, tagged with the run id);
* **snapshots**: keep the newest ``keep_last`` snapshots, expire the others, then delete the
  files only expired snapshots referenced (manifest lists, manifests, data files) — so storage
  stops growing, not just the metadata. The expiry is the maintenance job's
  (``runtime/maintenance.py``): one implementation for both jobs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from floe.runtime.maintenance import expire_snapshots

if TYPE_CHECKING:
    from collections.abc import Iterable

    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table


@dataclass(frozen=True)
class RetentionPolicy:
    """What to clean: the age column (optional), the window and how many snapshots to keep."""

    column: str | None
    window_hours: float | None
    keep_last: int


@dataclass(frozen=True)
class TableRetention:
    """What retention did to one table."""

    identifier: str
    rows_deleted: int
    rows_left: int
    snapshots_expired: int
    snapshots_kept: int
    files_removed: int
    note: str = ""


def apply_retention(
    catalog: Catalog,
    identifiers: Iterable[str],
    policy: RetentionPolicy,
    *,
    run_id: str,
    now: datetime | None = None,
) -> list[TableRetention]:
    """Apply ``policy`` to every existing table among ``identifiers`` (missing ones are skipped)."""
    from pyiceberg.exceptions import NoSuchTableError

    moment = now or datetime.now(UTC)
    out: list[TableRetention] = []
    for identifier in identifiers:
        try:
            table = catalog.load_table(identifier)
        except NoSuchTableError:
            continue
        deleted, note = _delete_old_rows(table, policy, moment, run_id)
        table = catalog.load_table(identifier)
        expired, kept, removed = expire_snapshots(table, policy.keep_last)
        left = _rows(catalog.load_table(identifier))
        out.append(TableRetention(identifier, deleted, left, expired, kept, removed, note))
    return out


def _rows(table: Table) -> int:
    snap = table.current_snapshot()
    return int(snap.summary.get("total-records", "0")) if snap and snap.summary else 0


def _delete_old_rows(
    table: Table, policy: RetentionPolicy, now: datetime, run_id: str
) -> tuple[int, str]:
    """Delete rows older than the window; (rows deleted, note why nothing was done)."""
    from pyiceberg.expressions import LessThan

    if policy.column is None or policy.window_hours is None:
        return 0, "no retention column/window: rows kept"
    literal = _cutoff_literal(table, policy.column, now - timedelta(hours=policy.window_hours))
    if literal is None:
        return 0, f"no timestamp/date column '{policy.column}': rows kept"
    condition = LessThan(term=policy.column, value=literal)
    old = table.scan(row_filter=condition).count()
    if old:
        table.delete(condition, snapshot_properties={"floe.run_id": run_id,
                                                     "floe.operation": "retention"})  # fmt: skip
    return old, ""


def _cutoff_literal(table: Table, column: str, cutoff: datetime) -> str | None:
    """The cutoff as an ISO literal of the column's type, or None if it holds no time."""
    from pyiceberg.types import DateType, TimestampType, TimestamptzType

    try:
        field = table.schema().find_field(column)
    except ValueError:
        return None
    utc = cutoff.astimezone(UTC)
    if isinstance(field.field_type, TimestamptzType):
        return utc.isoformat()
    if isinstance(field.field_type, TimestampType):
        return utc.replace(tzinfo=None).isoformat()
    if isinstance(field.field_type, DateType):
        return utc.date().isoformat()
    return None
