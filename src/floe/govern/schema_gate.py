"""The breaking-change gate (FR-094): compare the SQL's output schemas with the live tables.

Dropped and renamed columns and narrowing or incompatible type changes are breaking; added
columns and Iceberg's allowed promotions (int→long, float→double, wider decimals) are not —
the next run evolves the table in place. So is a changed partition spec or sort order (a
model's ``partition_by``/``sort_by``): reported, never breaking (FR-091).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from floe.errors import Location
from floe.govern.finding import Finding
from floe.govern.schema_derive import Columns, DeriveCache, derive_columns
from floe.govern.schema_types import canonical, is_narrowing, is_widening
from floe.spec.artifacts import SchemaChange, SchemaGate
from floe.spec.dbt_project import DbtProject
from floe.spec.partitioning import Layout

LiveSchema = Mapping[str, Sequence[tuple[str, str]]]


@dataclass(frozen=True)
class LiveState:
    """The product's live tables as the gate reads them: ``{table: [(column, type)]}`` and
    each table's partition spec and sort order."""

    tables: LiveSchema
    layouts: Mapping[str, Layout] = field(default_factory=dict)


def live_schema_hash(live: LiveSchema) -> str:
    """sha256 over the live schema as canonical JSON (the recorded input)."""
    data = {t: [list(c) for c in cols] for t, cols in sorted(live.items())}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _type_change(table: str, col: str, old: str | None, new: str | None) -> SchemaChange | None:
    if old is None or new is None or old == new:
        return None
    if is_widening(old, new):
        return SchemaChange(table=table, column=col, change="type_widened", old=old, new=new,
                            breaking=False)  # fmt: skip
    kind = "type_narrowed" if is_narrowing(old, new) else "type_changed"
    return SchemaChange(table=table, column=col, change=kind, old=old, new=new, breaking=True)


def compare_table(table: str, live: Sequence[tuple[str, str]], new: Columns) -> list[SchemaChange]:
    """Changes from ``live`` (Iceberg) to ``new`` (derived) for one table."""
    old = [(c, canonical(t) or t) for c, t in live]
    old_types, new_types = dict(old), dict(new)
    added = [c for c, _ in new if c not in old_types]
    out: list[SchemaChange] = []
    for index, (col, old_type) in enumerate(old):
        if col in new_types:
            change = _type_change(table, col, old_type, new_types[col])
            out += [change] if change else []
            continue
        successor, new_type = new[index] if index < len(new) else (None, None)
        if successor in added and new_type in (old_type, None):  # same place, same/unknown type
            out.append(SchemaChange(table=table, column=col, change="renamed", old=col,
                                    new=successor, breaking=True))  # fmt: skip
            added.remove(successor)
        else:
            out.append(SchemaChange(table=table, column=col, change="dropped", old=old_type,
                                    breaking=True))  # fmt: skip
    out += [
        SchemaChange(table=table, column=c, change="added", new=new_types[c], breaking=False)
        for c in added
    ]
    return out


def evaluate(
    project: DbtProject,
    models: Sequence[str],
    live: LiveSchema | None,
    reason: str | None,
    cache: DeriveCache | None = None,
    layouts: Mapping[str, Layout] | None = None,
) -> SchemaGate:
    """Derive the output schemas and compare every table that exists in the catalog (and,
    given the live ``layouts``, each model's partition spec and sort order)."""
    if live is None:
        return SchemaGate(override_reason=reason)
    tables = [t for t in [*sorted(project.seeds), *models] if t in live]
    derived = derive_columns(project, models, live, cache) if tables else {}
    compared, blind, changes = [], [], []
    for table in tables:
        new = derived.get(table)
        if new is None:
            blind.append(table)
            continue
        compared.append(table)
        found = compare_table(table, live[table], new)
        changes += _synced(found) if _syncs_columns(project, table) else found
    changes += layout_changes(project, models, layouts or {})
    return SchemaGate(
        checked=True,
        live_schema_sha256=live_schema_hash(live),
        tables_compared=compared,
        tables_not_derived=blind,
        changes=changes,
        override_reason=reason,
    )


def layout_changes(
    project: DbtProject, models: Sequence[str], live: Mapping[str, Layout]
) -> list[SchemaChange]:
    """A model whose configured partition spec or sort order differs from its live table's:
    the next run evolves the table in place (old files keep their spec), so never breaking.
    A layout set through Jinja (unknown without dbt) is not compared."""
    out: list[SchemaChange] = []
    for name in models:
        model, current = project.models.get(name), live.get(name)
        wanted = model.layout() if model is not None else None
        if wanted is None or current is None:
            continue
        if not wanted.same_partitioning(current):
            out.append(SchemaChange(table=name, column=", ".join(
                dict.fromkeys(f.column for f in (*current.partition_by, *wanted.partition_by))
            ), change="partition_spec", old=current.partition_text, new=wanted.partition_text,
                breaking=False))  # fmt: skip
        if wanted.sort_by != current.sort_by:
            out.append(SchemaChange(table=name, column=", ".join(
                dict.fromkeys(f.column for f in (*current.sort_by, *wanted.sort_by))
            ), change="sort_order", old=current.sort_text, new=wanted.sort_text,
                breaking=False))  # fmt: skip
    return out


def describe_layout_change(c: SchemaChange) -> str | None:
    """``partition spec of orders: day(order_ts) → month(order_ts)`` (None: not a layout
    change)."""
    what = {"partition_spec": "partition spec", "sort_order": "sort order"}.get(c.change)
    return f"{what} of {c.table}: {c.old} → {c.new}" if what else None


def _syncs_columns(project: DbtProject, table: str) -> bool:
    """An incremental model with ``on_schema_change: sync_all_columns``: dbt itself drops the
    columns the SQL no longer has, and so does the run's publish."""
    model = project.models.get(table)
    return bool(
        model and model.materialization == "incremental"
        and model.on_schema_change == "sync_all_columns"
    )  # fmt: skip


def _synced(changes: list[SchemaChange]) -> list[SchemaChange]:
    """Drops are intended (not breaking); a "rename" is a drop and an add, as dbt applies it."""
    out: list[SchemaChange] = []
    for c in changes:
        if c.change == "dropped":
            out.append(c.model_copy(update={"breaking": False}))
        elif c.change == "renamed":
            out.append(SchemaChange(table=c.table, column=c.column, change="dropped",
                                    breaking=False))  # fmt: skip
            out.append(SchemaChange(table=c.table, column=str(c.new), change="added",
                                    breaking=False))  # fmt: skip
        else:
            out.append(c)
    return out


def accepted_changes(gate: SchemaGate, table: str) -> dict[str, str | None]:
    """Renames (old → new) and drops (old → None) of ``table`` accepted by an override; what a
    run applies to the Iceberg schema so the next compile sees no breaking change."""
    if not gate.override_reason:
        return {}
    return {
        c.column: c.new if c.change == "renamed" else None
        for c in gate.changes
        if c.table == table and c.change in ("renamed", "dropped")
    }


def _describe(c: SchemaChange) -> str:
    if c.change == "dropped":
        return f"column '{c.column}' ({c.old}) was dropped"
    if c.change == "renamed":
        return f"column '{c.column}' was renamed to '{c.new}'"
    verb = "narrowed" if c.change == "type_narrowed" else "changed"
    return f"column '{c.column}' type {verb}: {c.old} → {c.new}"


def findings(gate: SchemaGate, project: DbtProject) -> list[Finding]:
    """One P470 finding per breaking change, located at the model's SQL file (or seed CSV)."""
    out = []
    for c in gate.changes:
        if not c.breaking:
            continue
        path = project.models[c.table].path if c.table in project.models else (
            project.seeds[c.table].path if c.table in project.seeds else c.table
        )  # fmt: skip
        keep = f"cast(null as {c.old}) as {c.column}" if c.change == "dropped" else c.column
        out.append(
            Finding(
                "P470",
                "breaking_change",
                f"breaking schema change in table '{c.table}': {_describe(c)}",
                Location(str(project.root / path), 1, 1),
                f"keep the column compatible (e.g. select {keep}), or accept the change with "
                "floe compile --allow-breaking --reason '...'",
                c.table,
            )
        )
    return out
