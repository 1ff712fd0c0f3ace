"""Roll Iceberg tables back to an earlier snapshot, recorded with who and why.

A rollback moves the table's ``main`` branch to the snapshot ``--to`` names (Iceberg's
set-current-snapshot: no data is written, no snapshot is created) and, in the **same** commit,
records it as the table property ``floe.rollback.<UTC time>`` = JSON
``{"from", "to", "as", "who", "why", "at"}``. The next run reads and builds on that state.

A product is rolled back table by table to the snapshot each table has under the run tag (or
at the timestamp); every target is resolved before the first table is changed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from floe.errors import FloeError
from floe.runtime.timetravel import ROLLBACK_PREFIX, is_run_tag, parse_timestamp, resolve_as_of

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

    from floe.runtime.resolved import ResolvedPlugins

E_PRODUCT_TARGET = "E572"


@dataclass(frozen=True)
class Rollback:
    """One table rolled back."""

    identifier: str
    from_snapshot: int | None
    to_snapshot: int
    record_key: str
    record: dict[str, object]


def rollback_tables(
    catalog: Catalog, identifiers: list[str], to: str, reason: str, *, who: str
) -> list[Rollback]:
    """Roll every table back to the snapshot ``to`` names in it (resolved for all first)."""
    from floe.runtime.tables import load

    targets = {i: resolve_as_of(load(catalog, i), to, field_path="--to") for i in identifiers}
    return [_apply(catalog, i, sid, to, reason, who) for i, sid in targets.items()]


def _apply(catalog: Catalog, identifier: str, to_id: int, to: str, why: str, who: str) -> Rollback:
    from pyiceberg.table.update.snapshot import ManageSnapshots

    table = catalog.load_table(identifier)
    current = table.current_snapshot()
    now = datetime.now(UTC)
    key = ROLLBACK_PREFIX + now.strftime("%Y%m%dT%H%M%S.%fZ")
    record: dict[str, object] = {
        "from": current.snapshot_id if current else None,
        "to": to_id,
        "as": to,
        "who": who,
        "why": why,
        "at": now.isoformat(),
    }
    with table.transaction() as tx:
        ManageSnapshots(tx).set_current_snapshot(snapshot_id=to_id)
        tx.set_properties({key: json.dumps(record, sort_keys=True)})
    return Rollback(identifier, record["from"], to_id, key, record)  # type: ignore[arg-type]


def product_tables(
    product_dir: Path, manifest: Path | None, env: str
) -> tuple[ResolvedPlugins, list[str]]:
    """The plugins of the product's platform (its manifest found as `floe run` finds it) and
    the tables of its namespace."""
    from floe.compile.context import CompileContext, CompileOptions
    from floe.compile.stages.build import namespace_of
    from floe.compile.stages.load import LoadStage
    from floe.plugins.registry import default_registry
    from floe.runtime.live_schema import plugins_of_loaded

    ctx = CompileContext(CompileOptions(Path(product_dir), manifest, env), default_registry())
    LoadStage().run(ctx)
    namespace = namespace_of(ctx.need_spec().metadata.name)
    plugins = plugins_of_loaded(ctx)
    tables = sorted(".".join(t) for t in plugins.catalog().list_tables(namespace))
    return plugins, tables


def rollback_product(
    catalog: Catalog, identifiers: list[str], to: str, reason: str, *, who: str
) -> list[Rollback]:
    """Roll a product's tables back to a run tag (every table must carry it) or a timestamp."""
    if not is_run_tag(to) and parse_timestamp(to) is None:
        raise FloeError.single(
            E_PRODUCT_TARGET,
            f"a product is rolled back to a run tag or a timestamp, not '{to}'",
            field_path="--to",
            hint="pass --to run-<run id> (floe tables show lists the run ids) or an ISO "
            "timestamp; roll back a single table to a snapshot id",
        )
    if is_run_tag(to):
        lacking = [i for i in identifiers if to not in catalog.load_table(i).metadata.refs]
        if lacking or not identifiers:
            raise FloeError.single(
                E_PRODUCT_TARGET,
                f"tables without the tag {to}: {', '.join(lacking) or 'the product has none'}",
                field_path="--to",
                hint="that run did not publish them (a --select run, or newer tables): roll "
                "back with a timestamp, or table by table",
            )
    return rollback_tables(catalog, identifiers, to, reason, who=who)
