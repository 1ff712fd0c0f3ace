"""Read tables back through the catalog: `floe tables list|show|head`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa
    from pyiceberg.catalog import Catalog


@dataclass(frozen=True)
class TableInfo:
    """One Iceberg table as `floe tables list` shows it."""

    identifier: str
    row_count: int
    snapshot_id: int | None
    snapshot_count: int


def list_tables(catalog: Catalog) -> list[TableInfo]:
    """Every table of every namespace, with row count from the current snapshot summary."""
    out: list[TableInfo] = []
    for ns in sorted(catalog.list_namespaces()):
        for ident in sorted(catalog.list_tables(ns)):
            table = catalog.load_table(ident)
            snap = table.current_snapshot()
            rows = int(snap.summary.get("total-records", "0")) if snap and snap.summary else 0
            out.append(
                TableInfo(
                    ".".join(ident),
                    rows,
                    snap.snapshot_id if snap else None,
                    len(table.snapshots()),
                )
            )
    return out


def describe(catalog: Catalog, identifier: str) -> dict[str, Any]:
    """Schema and snapshots of one table."""
    table = catalog.load_table(identifier)
    return {
        "identifier": identifier,
        "location": table.location(),
        "schema": [
            {"id": f.field_id, "name": f.name, "type": str(f.field_type), "required": f.required}
            for f in table.schema().fields
        ],
        "snapshots": [
            {
                "snapshot_id": s.snapshot_id,
                "parent_id": s.parent_snapshot_id,
                "timestamp_ms": s.timestamp_ms,
                "operation": s.summary.operation.value if s.summary else "",
                "total_records": s.summary.get("total-records") if s.summary else None,
                "properties": {
                    k: v
                    for k, v in (s.summary.additional_properties if s.summary else {}).items()
                    if k.startswith("floe.")
                },
            }
            for s in table.snapshots()
        ],
    }


def head(catalog: Catalog, identifier: str, limit: int = 10) -> pa.Table:
    """The first ``limit`` rows."""
    return catalog.load_table(identifier).scan(limit=limit).to_arrow()
