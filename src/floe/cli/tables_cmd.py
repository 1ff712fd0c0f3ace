"""``floe tables list|show|head``."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from floe.cli.output import console
from floe.runtime.home import find_manifest

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog


def _catalog(manifest: Path | None) -> Catalog:
    from floe.runtime.platform import catalog_for_manifest

    return catalog_for_manifest(find_manifest(manifest))


def list_cmd(manifest: Path | None, as_json: bool) -> None:
    """Print every table."""
    from rich.table import Table

    from floe.runtime.tables import list_tables

    rows = list_tables(_catalog(manifest))
    if as_json:
        print(json.dumps([asdict(r) for r in rows], indent=2))
        return
    table = Table(title="Iceberg tables", title_justify="left")
    for col in ("table", "rows", "snapshot", "snapshots"):
        table.add_column(col, justify="left" if col == "table" else "right")
    for r in rows:
        table.add_row(r.identifier, str(r.row_count), str(r.snapshot_id), str(r.snapshot_count))
    console().print(table)


def show_cmd(manifest: Path | None, identifier: str, limit: int, *, schema: bool) -> None:
    """Schema and snapshots (``schema=True``) and a sample as a table."""
    from rich.table import Table

    from floe.runtime.tables import describe, head

    catalog = _catalog(manifest)
    out = console()
    if schema:
        info = describe(catalog, identifier)
        cols = Table(title=f"{identifier} · schema", title_justify="left")
        for col in ("id", "column", "type", "required"):
            cols.add_column(col)
        for f in info["schema"]:
            cols.add_row(str(f["id"]), f["name"], f["type"], "yes" if f["required"] else "")
        out.print(cols)
        snaps = Table(title=f"{identifier} · snapshots", title_justify="left")
        for col in ("snapshot", "operation", "records", "floe.run_id"):
            snaps.add_column(col)
        for s in info["snapshots"]:
            snaps.add_row(str(s["snapshot_id"]), s["operation"], str(s["total_records"]),
                          s["properties"].get("floe.run_id", ""))  # fmt: skip
        out.print(snaps)
    data = head(catalog, identifier, limit)
    sample = Table(title=f"{identifier} · first {data.num_rows} rows", title_justify="left")
    for name in data.column_names:
        sample.add_column(name)
    for row in data.to_pylist():
        sample.add_row(*("" if v is None else str(v) for v in row.values()))
    out.print(sample)
