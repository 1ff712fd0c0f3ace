"""Ingestion, write–audit–publish: each resource of floe.yaml ``ingestion:`` is loaded by the
ingestion plugin into a scratch DuckDB, audited by floe, then published to the product's raw
Iceberg table ``<namespace>.<resource>`` through the same publish path as dbt's models.

* **write** — the plugin loads the rows new since the last published cursor (all rows on a
  first run, or for a resource that is not incremental) into an empty scratch database;
* **audit** — a first load or a ``replace`` must bring rows; primary-key columns are never
  null and unique within the load; the loaded columns' types must not break the published
  table's (the schema gate of models: a changed or narrowed type blocks, new columns and
  Iceberg's promotions evolve the table);
* **publish** — ``replace`` overwrites the table, ``append`` adds the rows, ``merge``
  replaces the published rows of the same primary key (copy-on-write), each one snapshot
  carrying the run id (and trace id) and tagged with the run.

State: the incremental cursors are Iceberg's, not a local file's. Every publish sets the
table property ``floe.ingest.cursors`` (JSON, cursor → last value) in the **same** commit as
the rows it describes, so the rows and the cursor never disagree and a fresh machine with
the catalog resumes where the last run stopped (docs/ingestion.md).
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from floe.errors import FloeError
from floe.govern.schema_gate import compare_table
from floe.govern.schema_types import canonical
from floe.plugins.abcs import IngestionPlugin
from floe.plugins.base import SecretResolver
from floe.plugins.records import IngestionLoad, IngestionRequest
from floe.runtime import progress, scratch
from floe.runtime.home import PlatformHome
from floe.runtime.hooks import NullObserver, Observer
from floe.runtime.product_lock import product_lock
from floe.runtime.publish import PublishResult, replace, sync
from floe.runtime.runner import NodeOutcome, claim_namespace, is_transient
from floe.runtime.scratch import Diff
from floe.runtime.timetravel import run_tag, tag_run
from floe.spec.artifacts import CompiledArtifacts
from floe.spec.ingestion import IngestionSource

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table

CURSORS = "floe.ingest.cursors"
DLT_COLUMNS = ("_dlt_load_id", "_dlt_id")
E_LOAD = "E676"
E_AUDIT = "E677"
E_SCHEMA = "E678"
KIND = "ingestion"


@dataclass(frozen=True)
class IngestSpec:
    """One run's ingestion: which resources (None: all), where, under which run."""

    artifacts: CompiledArtifacts
    home: PlatformHome
    run_id: str
    product_dir: Path
    resolve: SecretResolver
    selected: frozenset[str] | None = None
    trace_id: str | None = None
    scratch_setup: tuple[str, ...] = ()
    observer: Observer = field(default_factory=NullObserver, compare=False)


def resource_id(source: str, resource: str) -> str:
    """The unique id of a resource's outcome (``ingestion.<source>.<resource>``)."""
    return f"{KIND}.{source}.{resource}"


def ingest(spec: IngestSpec, catalog: Catalog, plugin: IngestionPlugin) -> list[NodeOutcome]:
    """Load, audit and publish every selected resource; one outcome per resource."""
    meta = spec.artifacts.metadata
    todo = [
        (source, res.name)
        for source in spec.artifacts.ingestion_sources()
        for res in source.resources
        if spec.selected is None or res.name in spec.selected
    ]
    if not todo:
        return []
    db = spec.home.scratch(f"{meta.namespace}__ingest")
    db.parent.mkdir(parents=True, exist_ok=True)
    with product_lock(spec.home.product_lock(meta.namespace), holder=f"ingest {spec.run_id}"):
        claim_namespace(catalog, meta.namespace, meta.product, meta.owner)
        scratch.discard(db)
        try:
            return [_observed(spec, catalog, plugin, db, source, name) for source, name in todo]
        finally:
            scratch.discard(db)


def _observed(
    spec: IngestSpec,
    catalog: Catalog,
    plugin: IngestionPlugin,
    db: Path,
    source: IngestionSource,
    name: str,
) -> NodeOutcome:
    """One resource inside a span of its own (``floe.ingest.resource``)."""
    table = f"{spec.artifacts.metadata.namespace}.{name}"
    attrs = {"floe.ingestion": f"{source.type}:{source.name}.{name}", "iceberg.table": table}
    with spec.observer.phase("resource", **attrs):
        return _one(spec, catalog, plugin, db, source, name)


def _one(
    spec: IngestSpec,
    catalog: Catalog,
    plugin: IngestionPlugin,
    db: Path,
    source: IngestionSource,
    name: str,
) -> NodeOutcome:
    identifier = f"{spec.artifacts.metadata.namespace}.{name}"
    outcome = NodeOutcome(resource_id(source.name, name), name, KIND, "error")
    table = _table(catalog, identifier)
    cursors = read_cursors(table)
    progress.report(f"ingesting {source.type} {source.name}.{name} → {identifier}")
    try:
        with tempfile.TemporaryDirectory(prefix="floe-ingest-") as work:
            load = plugin.load(IngestionRequest(
                source=source, resource=name, database=db, dataset=source.name,
                workdir=Path(work), base_dir=spec.product_dir, resolve=spec.resolve,
                cursors=cursors,
            ))  # fmt: skip
    except FloeError:
        raise
    except Exception as exc:
        outcome.message = f"error[{E_LOAD}]: loading {source.name}.{name} failed: {exc}"
        outcome.transient = is_transient(exc)
        progress.report(f"ERROR {outcome.message}")
        return outcome
    con = scratch.connect(db, spec.scratch_setup)
    try:
        data = _loaded(con, source.name, load)
        columns = loaded_columns(con, source.name, load.relation) if data is not None else []
        problems = audit(source, name, data, table, columns)
        if problems:
            outcome.status, outcome.message = "test_failed", "; ".join(problems)
            outcome.failed_tests = problems
            progress.report(f"AUDIT FAILED {identifier}: {outcome.message}")
            return outcome
        _publish(spec, catalog, con, outcome, source, name, data, table, load)
    finally:
        con.close()
    return outcome


def _table(catalog: Catalog, identifier: str) -> Table | None:
    from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

    try:
        return catalog.load_table(identifier)
    except (NoSuchTableError, NoSuchNamespaceError):
        return None


def read_cursors(table: Table | None) -> dict[str, Any]:
    """The incremental cursors published with the table's rows (empty: none yet)."""
    if table is None or table.current_snapshot() is None:
        return {}
    raw = table.properties.get(CURSORS)
    return {k: _decode(v) for k, v in json.loads(raw).items()} if raw else {}


def _encode(value: Any) -> Any:
    """A cursor value as JSON keeping its type (datetimes and decimals as tagged text)."""
    if isinstance(value, dt.datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        ((kind, text),) = value.items()
        parse: dict[str, Callable[[str], Any]] = {
            "datetime": dt.datetime.fromisoformat,
            "date": dt.date.fromisoformat,
            "decimal": Decimal,
        }
        if kind in parse:
            return parse[kind](text)
    return value


def cursor_property(cursors: Mapping[str, Any]) -> str:
    """The ``floe.ingest.cursors`` property value (canonical JSON)."""
    return json.dumps({k: _encode(v) for k, v in sorted(cursors.items())}, sort_keys=True)


def _loaded(con: duckdb.DuckDBPyConnection, dataset: str, load: IngestionLoad) -> pa.Table | None:
    """The loaded rows without dlt's bookkeeping columns (None: the load made no table)."""
    try:
        columns = scratch.column_names(con, dataset, load.relation)
    except Exception:  # no rows at all: dlt creates no table
        return None
    keep = ", ".join(scratch.quote_ident(c) for c in columns if c not in DLT_COLUMNS)
    relation = f"{scratch.quote_ident(dataset)}.{scratch.quote_ident(load.relation)}"
    return con.execute(f"select {keep} from {relation}").to_arrow_table()  # noqa: S608  # nosec B608


def audit(
    source: IngestionSource,
    name: str,
    data: pa.Table | None,
    table: Table | None,
    columns: list[tuple[str, str | None]],
) -> list[str]:
    """Why the loaded rows (``columns``: their names and types) may not be published (empty:
    they may)."""
    res = next(r for r in source.resources if r.name == name)
    rows = data.num_rows if data is not None else 0
    first = table is None or table.current_snapshot() is None
    if rows == 0:
        if first or res.write_disposition == "replace":
            why = "a first load" if first else "write_disposition replace"
            return [f"error[{E_AUDIT}]: {source.name}.{name} loaded no rows ({why} must bring "
                    "rows; the source returned none)"]  # fmt: skip
        return []
    assert data is not None
    problems = _key_problems(source.name, name, data, list(res.primary_key))
    if table is not None:
        problems += _schema_problems(source.name, name, columns, table)
    return problems


def _key_problems(source: str, name: str, data: pa.Table, key: list[str]) -> list[str]:
    import duckdb

    if not key:
        return []
    missing = [k for k in key if k not in data.column_names]
    if missing:
        return [f"error[{E_AUDIT}]: {source}.{name}: primary key column(s) "
                f"{', '.join(missing)} not in the loaded rows"]  # fmt: skip
    cols = ", ".join(scratch.quote_ident(k) for k in key)
    nulls = " or ".join(f"{scratch.quote_ident(k)} is null" for k in key)
    con = duckdb.connect()
    try:
        con.register("loaded", data)
        null_rows = con.execute(f"select count(*) from loaded where {nulls}").fetchone()  # noqa: S608  # nosec B608
        dupes = con.execute(
            f"select count(*) from (select {cols} from loaded group by all having count(*) > 1)"  # noqa: S608  # nosec B608
        ).fetchone()
    finally:
        con.close()
    out = []
    if null_rows and null_rows[0]:
        out.append(f"error[{E_AUDIT}]: {source}.{name}: {null_rows[0]} loaded row(s) with a "
                   f"null primary key ({', '.join(key)})")  # fmt: skip
    if dupes and dupes[0]:
        out.append(f"error[{E_AUDIT}]: {source}.{name}: {dupes[0]} primary key value(s) "
                   f"loaded more than once ({', '.join(key)})")  # fmt: skip
    return out


def _schema_problems(
    source: str, name: str, loaded: list[tuple[str, str | None]], table: Table
) -> list[str]:
    """Type changes of published columns that Iceberg cannot apply in place (a missing column
    is not one: a batch of an API may lack an optional field; it is null)."""
    live = [(f.name, str(f.field_type)) for f in table.schema().fields]
    changes = compare_table(name, live, loaded)
    return [
        f"error[{E_SCHEMA}]: {source}.{name}: column {c.column} changes type {c.old} → {c.new}; "
        "the published table cannot take it (fix the source, or drop the raw table to reload "
        "it from scratch)"
        for c in changes
        if c.breaking and c.change.startswith("type_")
    ]


def loaded_columns(
    con: duckdb.DuckDBPyConnection, dataset: str, relation: str
) -> list[tuple[str, str | None]]:
    """The loaded table's columns (dlt's aside) with their types spelled as the gate does."""
    relation_sql = f"{scratch.quote_ident(dataset)}.{scratch.quote_ident(relation)}"
    described = con.execute(f"select column_name, column_type from (describe {relation_sql})")  # noqa: S608  # nosec B608
    return [
        (str(n), canonical(str(t)) or str(t).lower())
        for n, t in described.fetchall()
        if n not in DLT_COLUMNS
    ]


def _publish(
    spec: IngestSpec,
    catalog: Catalog,
    con: duckdb.DuckDBPyConnection,
    outcome: NodeOutcome,
    source: IngestionSource,
    name: str,
    data: pa.Table | None,
    table: Table | None,
    load: IngestionLoad,
) -> None:
    identifier = f"{spec.artifacts.metadata.namespace}.{name}"
    res = next(r for r in source.resources if r.name == name)
    props = {
        "floe.run_id": spec.run_id,
        "floe.product": spec.artifacts.metadata.product,
        "floe.ingestion": f"{source.type}:{source.name}.{name}",
    }
    if spec.trace_id:
        props["floe.trace_id"] = spec.trace_id
    state = {CURSORS: cursor_property(load.cursors)}
    props[CURSORS] = state[CURSORS]
    tag = run_tag(spec.run_id)
    try:
        if data is None or data.num_rows == 0:
            assert table is not None
            snap = table.current_snapshot()
            assert snap is not None
            outcome.publish = PublishResult(
                identifier, "unchanged", 0, _total(table), snap.snapshot_id
            )
        elif (
            table is None or table.current_snapshot() is None or res.write_disposition == "replace"
        ):
            outcome.publish = replace(catalog, identifier, data, props, tag=tag,
                                      table_properties=state)  # fmt: skip
        else:
            diff = _difference(con, table, data, list(res.primary_key), res.write_disposition)
            snap = table.current_snapshot()
            outcome.publish = sync(catalog, identifier, data, props, diff=diff, tag=tag,
                                   base=snap.snapshot_id if snap else None,
                                   table_properties=state)  # fmt: skip
    except Exception as exc:
        outcome.status, outcome.message = "error", f"publishing {identifier} failed: {exc}"
        outcome.transient = is_transient(exc)
        progress.report(f"ERROR {outcome.message}")
        return
    pub = outcome.publish
    if pub.mode == "unchanged" and pub.snapshot_id is not None:  # "as of this run" too
        tag_run(catalog.load_table(identifier), pub.snapshot_id, spec.run_id)
    outcome.status = "published"
    progress.report(f"published {identifier}: {pub.mode}, {pub.rows_written} rows written, "
                    f"{pub.rows_total} rows, snapshot {pub.snapshot_id}")  # fmt: skip


def _total(table: Table) -> int:
    """The rows of the table's current snapshot (its summary's ``total-records``)."""
    snap = table.current_snapshot()
    summary = snap.summary if snap is not None else None
    return int(summary["total-records"] or 0) if summary is not None else 0


def _difference(
    con: duckdb.DuckDBPyConnection, table: Table, data: pa.Table, key: list[str], how: str
) -> Diff:
    """append: the loaded rows are added; merge: they replace the published rows with the
    same primary key (those are removed, copy-on-write)."""
    total = _total(table)
    empty = data.slice(0, 0)
    if how != "merge" or not key:
        return Diff(added=data, removed=empty, rows=total + data.num_rows)
    meta = str(table.metadata_location).removeprefix("file://").replace("'", "''")
    cols = ", ".join(scratch.quote_ident(k) for k in key)
    con.register("floe_loaded", data)
    try:
        removed = con.execute(
            f"select * from iceberg_scan('{meta}') where ({cols}) in "  # noqa: S608  # nosec B608
            f"(select ({cols}) from floe_loaded)"
        ).to_arrow_table()
    finally:
        con.unregister("floe_loaded")
    return Diff(added=data, removed=removed, rows=total - removed.num_rows + data.num_rows)
