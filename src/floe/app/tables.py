"""`floe tables list|show|head|rollback`: the platform's Iceberg tables, read through the
catalog its plugins open (once per command)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from floe.app.platform import open_platform
from floe.runtime.maintenance import TableMaintenance
from floe.runtime.rollback import Rollback
from floe.runtime.tables import TableInfo

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["Rollback", "TableInfo", "TableView", "list_tables", "rollback", "show"]


def list_tables(manifest: Path | None, env: str = "dev") -> list[TableInfo]:
    """Every table of the environment's catalog with its rows and snapshots."""
    from floe.runtime.tables import list_tables as listed

    return listed(open_platform(manifest, env).plugins.catalog())


@dataclass(frozen=True)
class TableView:
    """A table's first rows and (when asked) its schema, snapshots and rollbacks."""

    rows: pa.Table
    info: dict[str, Any] | None


def show(
    manifest: Path | None, identifier: str, limit: int, *, schema: bool, as_of: str | None,
    env: str = "dev",
) -> TableView:  # fmt: skip
    """The first ``limit`` rows of ``identifier`` in ``env``'s catalog as of ``as_of`` (and
    with ``schema`` its schema, snapshots and rollbacks)."""
    from floe.runtime.tables import describe, head

    catalog = open_platform(manifest, env).plugins.catalog()
    rows = head(catalog, identifier, limit, as_of)
    return TableView(rows, describe(catalog, identifier, as_of) if schema else None)


def rollback(
    manifest: Path | None, target: str, to: str, reason: str, env: str = "dev"
) -> list[Rollback]:
    """Roll a table (``namespace.table``) or every table of a product directory back."""
    from floe.runtime.rollback import product_tables, rollback_product, rollback_tables

    path = Path(target)
    if path.is_dir() or path.name == "floe.yaml":
        plugins, tables = product_tables(path, manifest, env)
        who = plugins.principal()
        return rollback_product(plugins.catalog(), tables, to, reason, who=who)
    plugins = open_platform(manifest, env).plugins
    return rollback_tables(plugins.catalog(), [target], to, reason,
                           who=plugins.principal())  # fmt: skip


def maintain(
    manifest: Path | None,
    targets: list[str],
    env: str,
    *,
    target_size: str | None,
    older_than: str | None,
    wait: float,
    on_table: Callable[[TableMaintenance], None] = lambda _: None,
) -> list[TableMaintenance]:
    """Compact, expire and remove orphans of the tables ``targets`` name (product directories,
    ``namespace.table``, or every table); everything is resolved before the first table
    changes; ``on_table`` hears of each table done."""
    from floe.runtime.maintenance import maintain as run
    from floe.runtime.maintenance_targets import overrides, resolve

    options = overrides(target_size, older_than)
    done: list[TableMaintenance] = []
    for platform in resolve(targets, manifest, env, options):
        done += run(platform.catalog, platform.home, platform.work, wait_seconds=wait,
                    on_table=on_table)  # fmt: skip
    return done
