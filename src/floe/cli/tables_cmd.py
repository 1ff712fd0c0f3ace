"""``floe tables list|show|head|rollback|maintain``."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from floe.cli.output import console, human_bytes
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


def show_cmd(
    manifest: Path | None, identifier: str, limit: int, *, schema: bool, as_of: str | None = None
) -> None:
    """Schema and snapshots (``schema=True``) and a sample as a table, as of ``as_of``."""
    from rich.table import Table

    from floe.runtime.tables import describe, head

    catalog = _catalog(manifest)
    out = console()
    data = head(catalog, identifier, limit, as_of)
    label = identifier if as_of is None else f"{identifier} as of {as_of}"
    if schema:
        info = describe(catalog, identifier, as_of)
        cols = Table(title=f"{label} · schema", title_justify="left")
        for col in ("id", "column", "type", "required"):
            cols.add_column(col)
        for f in info["schema"]:
            cols.add_row(str(f["id"]), f["name"], f["type"], "yes" if f["required"] else "")
        out.print(cols)
        snaps = Table(title=f"{identifier} · snapshots", title_justify="left")
        for col in ("snapshot", "operation", "records", "floe.run_id", "refs"):
            snaps.add_column(col)
        for s in info["snapshots"]:
            mark = " *" if s["snapshot_id"] == info["as_of"] else ""
            floe_op = s["properties"].get("floe.operation")  # compact, retention
            operation = f"{s['operation']} ({floe_op})" if floe_op else s["operation"]
            snaps.add_row(str(s["snapshot_id"]) + mark, operation, str(s["total_records"]),
                          s["properties"].get("floe.run_id", ""), " ".join(s["refs"]))  # fmt: skip
        out.print(snaps)
        for record in info["rollbacks"]:
            out.print(f"rolled back {record['at']} by {record['who']}: {record['from']} → "
                      f"{record['to']} ({record['as']}) — {record['why']}")  # fmt: skip
    sample = Table(title=f"{label} · first {data.num_rows} rows", title_justify="left")
    for name in data.column_names:
        sample.add_column(name)
    for row in data.to_pylist():
        sample.add_row(*("" if v is None else str(v) for v in row.values()))
    out.print(sample)


def rollback_cmd(
    manifest: Path | None, target: str, to: str, reason: str, env: str = "dev"
) -> None:
    """Roll a table (namespace.table) or every table of a product directory back."""
    from floe.runtime.rollback import product_tables, rollback_product, rollback_tables

    path = Path(target)
    if path.is_dir() or path.name == "floe.yaml":
        catalog, tables = product_tables(path, manifest, env)
        done = rollback_product(catalog, tables, to, reason)
    else:
        done = rollback_tables(_catalog(manifest), [target], to, reason)
    for r in done:
        print(f"rolled back {r.identifier}: snapshot {r.from_snapshot} → {r.to_snapshot} "
              f"({to}), recorded as {r.record_key}")  # fmt: skip


def maintain_cmd(
    manifest: Path | None,
    targets: list[str],
    env: str,
    target_size: str | None,
    older_than: str | None,
    wait: float,
    as_json: bool,
) -> None:
    """Maintain the tables the targets name; one row per table."""
    from rich.table import Table

    from floe.runtime.maintenance import maintain
    from floe.runtime.maintenance_targets import overrides, resolve

    options = overrides(target_size, older_than)
    out = console()
    done = []
    for platform in resolve(targets, manifest, env, options):
        with out.status("maintenance …") as status:
            done += maintain(
                platform.catalog, platform.home, platform.work, wait_seconds=wait,
                on_table=lambda r: status.update(f"maintenance … {r.identifier} done"),
            )  # fmt: skip
    if as_json:
        print(json.dumps([asdict(r) for r in done], indent=2))
        return
    table = Table(title="floe tables maintain", title_justify="left")
    for col in ("table", "data files", "data size", "compacted", "snapshots expired",
                "orphans removed", "storage files", "storage size"):  # fmt: skip
        table.add_column(col, justify="left" if col == "table" else "right")
    for r in done:
        table.add_row(
            r.identifier,
            f"{r.data_files_before} → {r.data_files_after}",
            f"{human_bytes(r.data_bytes_before)} → {human_bytes(r.data_bytes_after)}",
            f"{r.files_compacted} → {r.files_written}" if r.files_compacted else "-",
            str(r.snapshots_expired),
            f"{r.orphans_removed} ({human_bytes(r.orphan_bytes_removed)})",
            f"{r.storage_files_before} → {r.storage_files_after}",
            f"{human_bytes(r.storage_bytes_before)} → {human_bytes(r.storage_bytes_after)}",
        )
    out.print(table)
