"""``floe tables list|show|head|rollback|maintain``."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from floe.app import tables
from floe.cli.output import console, human_bytes


def list_cmd(manifest: Path | None, as_json: bool, env: str = "dev") -> None:
    """Print every table."""
    from rich.table import Table

    rows = tables.list_tables(manifest, env)
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
    manifest: Path | None, identifier: str, limit: int, *, schema: bool, as_of: str | None = None,
    env: str = "dev",
) -> None:  # fmt: skip
    """Schema and snapshots (``schema=True``) and a sample as a table, as of ``as_of``."""
    from rich.table import Table

    view = tables.show(manifest, identifier, limit, schema=schema, as_of=as_of, env=env)
    out = console()
    data = view.rows
    label = identifier if as_of is None else f"{identifier} as of {as_of}"
    info = view.info
    if info is not None:
        cols = Table(title=f"{label} · schema", title_justify="left")
        for col in ("id", "column", "type", "required"):
            cols.add_column(col)
        for f in info["schema"]:
            cols.add_row(str(f["id"]), f["name"], f["type"], "yes" if f["required"] else "")
        out.print(cols)
        _print_layout(info, identifier)
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


def _print_layout(info: dict[str, Any], identifier: str) -> None:
    """Partition spec, sort order and the data files per partition."""
    from rich.table import Table

    out = console()
    spec = info["partition_spec"]
    out.print(f"partition spec {spec['spec_id']}: {', '.join(spec['fields']) or 'unpartitioned'}"
              f" · sort order: {', '.join(info['sort_order']) or 'unsorted'}")  # fmt: skip
    files = Table(title=f"{identifier} · data files per partition", title_justify="left")
    for col in ("spec", "partition", "files", "records"):
        files.add_column(col, justify="left" if col == "partition" else "right")
    for p in info["partitions"]:
        files.add_row(str(p["spec_id"]), p["partition"] or "(unpartitioned)", str(p["files"]),
                      str(p["records"]))  # fmt: skip
    out.print(files)


def rollback_cmd(
    manifest: Path | None, target: str, to: str, reason: str, env: str = "dev"
) -> None:
    """Roll a table (namespace.table) or every table of a product directory back."""
    for r in tables.rollback(manifest, target, to, reason, env):
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

    out = console()
    with out.status("maintenance …") as status:
        done = tables.maintain(
            manifest, targets, env, target_size=target_size, older_than=older_than, wait=wait,
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
