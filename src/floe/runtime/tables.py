"""Read tables back through the catalog: `floe tables list|show|head`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from floe.errors import FloeError

if TYPE_CHECKING:
    import pyarrow as pa
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table

E_NO_TABLE = "E573"


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


def load(catalog: Catalog, identifier: str) -> Table:
    """The table, or E573 naming the namespace's tables when there is none."""
    from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

    try:
        return catalog.load_table(identifier)
    except (NoSuchTableError, NoSuchNamespaceError):
        namespace = identifier.rsplit(".", 1)[0]
        try:
            names = sorted(".".join(t) for t in catalog.list_tables(namespace))
        except NoSuchNamespaceError:
            names = []
        raise FloeError.single(
            E_NO_TABLE,
            f"no table {identifier} (in {namespace}: {', '.join(names) or 'none'})",
            field_path="table",
            hint="name it namespace.table as `floe tables list` shows it",
        ) from None


def partitions(table: Table, snapshot_id: int | None = None) -> list[dict[str, Any]]:
    """The data files of the snapshot (else the current one) per partition: the spec they
    were written with, the partition (``ts_day=2024-01-01/id_bucket_4=1``), files, records."""
    if table.current_snapshot() is None:
        return []
    groups: dict[tuple[int, str], list[int]] = {}
    specs, schema = table.specs(), table.schema()
    for task in table.scan(snapshot_id=snapshot_id).plan_files():
        f = task.file
        spec = specs[f.spec_id]
        path = spec.partition_to_path(f.partition, schema) if spec.fields else ""
        groups.setdefault((f.spec_id, path), []).append(f.record_count)
    return [
        {"spec_id": spec_id, "partition": path, "files": len(counts), "records": sum(counts)}
        for (spec_id, path), counts in sorted(groups.items())
    ]


def describe(catalog: Catalog, identifier: str, as_of: str | None = None) -> dict[str, Any]:
    """Schema (as of the snapshot ``as_of`` names, else current), partition spec and sort
    order, data files per partition, snapshots with their tags, and the rollback records."""
    from floe.runtime.layout import table_layout
    from floe.runtime.timetravel import resolve_as_of, rollbacks

    table = load(catalog, identifier)
    snapshot_id = resolve_as_of(table, as_of) if as_of is not None else None
    schema = table.schema()
    if snapshot_id is not None:
        schema_id = table.snapshot_by_id(snapshot_id).schema_id  # type: ignore[union-attr]
        schema = table.schemas().get(schema_id, schema) if schema_id is not None else schema
    tags: dict[int, list[str]] = {}
    for name, ref in sorted(table.metadata.refs.items()):
        tags.setdefault(ref.snapshot_id, []).append(name)
    current = table.current_snapshot()
    layout = table_layout(table)
    return {
        "identifier": identifier,
        "location": table.location(),
        "as_of": snapshot_id,
        "current_snapshot_id": current.snapshot_id if current else None,
        "partition_spec": {
            "spec_id": table.spec().spec_id,
            "fields": [f.text for f in layout.partition_by],
        },
        "sort_order": [f.text for f in layout.sort_by],
        "partitions": partitions(table, snapshot_id),
        "schema": [
            {"id": f.field_id, "name": f.name, "type": str(f.field_type), "required": f.required}
            for f in schema.fields
        ],
        "snapshots": [
            {
                "snapshot_id": s.snapshot_id,
                "parent_id": s.parent_snapshot_id,
                "timestamp_ms": s.timestamp_ms,
                "operation": s.summary.operation.value if s.summary else "",
                "total_records": s.summary.get("total-records") if s.summary else None,
                "refs": tags.get(s.snapshot_id, []),
                "properties": {
                    k: v
                    for k, v in (s.summary.additional_properties if s.summary else {}).items()
                    if k.startswith("floe.")
                },
            }
            for s in table.snapshots()
        ],
        "rollbacks": rollbacks(dict(table.properties)),
    }


def head(catalog: Catalog, identifier: str, limit: int = 10, as_of: str | None = None) -> pa.Table:
    """The first ``limit`` rows (of the snapshot ``as_of`` names: id, tag/branch, timestamp)."""
    from floe.runtime.timetravel import resolve_as_of

    table = load(catalog, identifier)
    if as_of is None:
        return table.scan(limit=limit).to_arrow()
    return table.scan(limit=limit, snapshot_id=resolve_as_of(table, as_of)).to_arrow()
