"""Publish audited data to Iceberg: one atomic snapshot per table per run.

* ``replace`` (dbt ``table``/``view`` models, seeds): every current data file is removed and the
  new data added in **one** OVERWRITE snapshot (APPEND when the table is new).
* ``sync`` (dbt ``incremental`` models and snapshots, whose full new state dbt built from the
  published rows): only the difference is written. Rows only added → one APPEND snapshot;
  rows changed or deleted → one OVERWRITE snapshot that rewrites just the data files holding
  them (copy-on-write).

Every snapshot summary carries the ``floe.*`` properties given (run id, product, dbt unique id,
trace id), and the run tag given goes into the **same** catalog commit as the snapshot. Additive
schema changes evolve the table in place first (older snapshots still read), and so does a
changed partition spec or sort order (``shape``, from the model's dbt config
``partition_by``/``sort_by``; :mod:`floe.runtime.layout`): files keep the spec they were written
with, new files are partitioned by the new one and their rows sorted by ``sort_by``.

Concurrent writers (Iceberg's optimistic commit): a commit lands only on the snapshot it was
computed from. When another writer committed first, a ``replace`` is re-applied on the new
state (it does not depend on it), up to ``ATTEMPTS`` times; a ``sync`` is re-applied only when
the table's rows did not move (a metadata-only commit such as snapshot expiry), otherwise it
fails with :class:`CommitConflict` and publishes nothing — never a difference applied to rows it
was not computed from. A failed attempt deletes the files it wrote.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from floe.runtime import layout as table_layout
from floe.runtime.adapters.pyiceberg_writer import commit_once, write_rows
from floe.runtime.crashpoint import crashpoint

if TYPE_CHECKING:
    import pyarrow as pa
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table

    from floe.errors import Location
    from floe.runtime.scratch import Diff
    from floe.spec.partitioning import Layout


_log = logging.getLogger(__name__)

#: Commit attempts of one publish when other writers commit to the same table meanwhile.
ATTEMPTS = 10
E_CONFLICT = "E547"


class CommitConflict(Exception):
    """Another writer changed the table's rows after this run read them: the difference this
    run computed is not re-applied (nothing was published to the table)."""

    code = E_CONFLICT


#: Column changes accepted by ``--allow-breaking``: old name → new name (rename) or None (drop).
Accepted = Mapping[str, str | None]


@dataclass(frozen=True)
class PublishResult:
    """What a publish did."""

    identifier: str
    mode: str
    rows_written: int
    rows_total: int
    snapshot_id: int | None
    rows_inserted: int = 0
    rows_updated: int = 0


@dataclass(frozen=True)
class Shape:
    """The partition spec and sort order a table should have (None: leave them as they are)
    and where they are configured (for errors)."""

    layout: Layout | None = None
    where: Location | None = None


def _load_or_create(
    catalog: Catalog,
    identifier: str,
    schema: pa.Schema,
    accepted: Accepted | None = None,
    shape: Shape | None = None,
) -> Table:
    from pyiceberg.exceptions import NoSuchTableError

    layout = shape.layout if shape else None
    where = shape.where if shape else None
    if layout is not None:
        table_layout.check(layout, schema.names, identifier, where)
    namespace = identifier.rsplit(".", 1)[0]
    catalog.create_namespace_if_not_exists(namespace)
    try:
        table = catalog.load_table(identifier)
    except NoSuchTableError:
        if layout is None or not (layout.partition_by or layout.sort_by):
            return catalog.create_table(identifier, schema=schema)
        create = catalog.create_table_transaction(identifier, schema=schema)
        table_layout.apply(create, layout, identifier, where)
        create.commit_transaction()
        return catalog.load_table(identifier)
    if accepted:
        _apply_accepted(table, accepted)
    _evolve(table, schema)
    if layout is not None:
        with table.transaction() as tx:
            table_layout.apply(tx, layout, identifier, where)
    return table


def _apply_accepted(table: Table, accepted: Accepted) -> None:
    """Breaking changes accepted by ``--allow-breaking``: renames (metadata only: history keeps
    its data under the new name) and drops (older snapshots still read the column)."""
    names = {f.name for f in table.schema().fields}
    todo = {old: new for old, new in accepted.items() if old in names}
    if not todo:
        return
    with table.update_schema() as update:
        for old, new in sorted(todo.items()):
            if new:
                update.rename_column(old, new)
            else:
                update.delete_column(old)


def _evolve(table: Table, schema: pa.Schema) -> None:
    """Add new columns and widen types (int→long, float→double, wider decimals) so the new
    data fits; never drops a column or narrows a type."""
    from pyiceberg.io.pyarrow import schema_to_pyarrow

    current = {f.name: f.type for f in schema_to_pyarrow(table.schema(), include_field_ids=False)}
    if any(f.name not in current or _wider(current[f.name], f.type) for f in schema):
        with table.update_schema() as update:
            update.union_by_name(schema)


def _wider(old: pa.DataType, new: pa.DataType) -> bool:
    import pyarrow as pa

    if (old, new) in ((pa.int32(), pa.int64()), (pa.float32(), pa.float64())):
        return True
    return bool(
        pa.types.is_decimal(old) and pa.types.is_decimal(new)
        and new.scale == old.scale and new.precision > old.precision
    )  # fmt: skip


def _data_files(table: Table) -> list[object]:
    snapshot = table.current_snapshot()
    if snapshot is None:
        return []
    return [task.file for task in table.scan().plan_files()]


def _align(df: pa.Table, table: Table) -> pa.Table:
    """Order columns as the table schema (missing ones as nulls) and cast to its types."""
    import pyarrow as pa
    from pyiceberg.io.pyarrow import schema_to_pyarrow

    target = schema_to_pyarrow(table.schema(), include_field_ids=False)
    columns = []
    for field in target:
        if field.name in df.column_names:
            columns.append(df.column(field.name).cast(field.type))
        else:
            columns.append(pa.nulls(df.num_rows, type=field.type))
    return pa.Table.from_arrays(columns, schema=target)


def replace(
    catalog: Catalog,
    identifier: str,
    df: pa.Table,
    properties: dict[str, str],
    accepted: Accepted | None = None,
    *,
    tag: str | None = None,
    shape: Shape | None = None,
    table_properties: Mapping[str, str] | None = None,
) -> PublishResult:
    """Replace the table's content with ``df`` in one snapshot (``accepted``: column
    renames/drops the breaking-change gate's override accepted, old name → new name or None;
    ``tag``: a tag set on the new snapshot in the same commit; ``table_properties``: set on
    the table in that commit too). Re-applied on the new state when another writer commits
    first: the result does not depend on the rows it replaces."""

    def attempt() -> int:
        table = _load_or_create(catalog, identifier, df.schema, accepted, shape)
        rows = _sorted(_align(df, table), shape)
        return _commit(table, properties, tag, _data_files(table), rows,
                       table_properties=table_properties)  # fmt: skip

    snapshot_id = _retrying(identifier, attempt)
    return PublishResult(identifier, "replace", df.num_rows, df.num_rows, snapshot_id)


def _retrying(identifier: str, attempt: Callable[[], int]) -> int:
    """``attempt()`` until a commit lands, at most ``ATTEMPTS`` times."""
    for number in range(1, ATTEMPTS + 1):
        try:
            return attempt()
        except Exception as exc:
            if number == ATTEMPTS or not _lost_race(exc):
                raise
            _log.warning("%s: another writer committed first (%s); attempt %d of %d",
                         identifier, exc, number + 1, ATTEMPTS)  # fmt: skip
            pause = min(2.0, 0.05 * 2**number)  # exponential back-off with full jitter
            time.sleep(random.uniform(0, pause))  # noqa: S311  # nosec B311
    raise AssertionError("unreachable")  # pragma: no cover


def _lost_race(exc: BaseException) -> bool:
    """Another writer committed first (nothing of this attempt landed): PyIceberg's
    ``CommitFailedException``, a table another writer just created, or SQLite's lock held by
    another process's commit (SQLAlchemy's ``OperationalError``)."""
    from pyiceberg.exceptions import CommitFailedException, TableAlreadyExistsError

    if isinstance(exc, CommitFailedException | TableAlreadyExistsError):
        return True
    return type(exc).__name__ == "OperationalError" and "database is locked" in str(exc)


def _commit(
    table: Table,
    properties: dict[str, str],
    tag: str | None,
    deletes: list[object],
    rows: pa.Table | None,
    *,
    append: bool = False,
    table_properties: Mapping[str, str] | None = None,
) -> int:
    """One catalog commit: a snapshot deleting ``deletes`` and adding ``rows`` (an APPEND or an
    OVERWRITE), with ``tag`` on it. Lands only on the table's current snapshot; when it does
    not, the files written for it are deleted and the error raised."""
    from pyiceberg.table.update.snapshot import ManageSnapshots

    tx = table.transaction()
    update = tx.update_snapshot(snapshot_properties=properties)
    producer = update.fast_append() if append else update.overwrite()
    written: list[str] = []
    committing = False
    try:
        with producer:
            for old in deletes:
                producer.delete_data_file(old)  # type: ignore[arg-type]
            if rows is not None and rows.num_rows:
                written = write_rows(tx, producer, table.io, rows)
        if tag is not None:
            ManageSnapshots(tx).create_tag(producer.snapshot_id, tag).commit()
        if table_properties:
            tx.set_properties(dict(table_properties))
        crashpoint("commit")
        committing = True
        commit_once(tx)
    except Exception as exc:
        if not committing or _lost_race(exc):  # surely not referenced by a committed snapshot
            for path in written:
                table.io.delete(path)
        raise
    return producer.snapshot_id


def sync(
    catalog: Catalog,
    identifier: str,
    df: pa.Table,
    properties: dict[str, str],
    accepted: Accepted | None = None,
    *,
    drop_missing: bool = False,
    diff: Diff | None = None,
    tag: str | None = None,
    base: int | None = None,
    shape: Shape | None = None,
    table_properties: Mapping[str, str] | None = None,
) -> PublishResult:
    """Make the table equal to ``df`` (the full state dbt built for an incremental model or a
    snapshot) writing only the difference, in one snapshot. ``diff``: the difference already
    computed where the data is (the scratch DuckDB; ``df`` then only gives the schema);
    ``base``: the snapshot the run read the table at (its rows must still be current);
    ``tag``: set on the new snapshot in the same commit.

    ``added`` = new rows except the current ones, ``removed`` = current rows except the new ones
    (as multisets). Nothing removed → one APPEND of ``added``; otherwise the data files holding a
    removed row are rewritten without it, plus ``added`` (one OVERWRITE, copy-on-write).
    ``drop_missing`` (dbt ``on_schema_change: sync_all_columns``) deletes table columns that
    ``df`` no longer has. Another writer's commit of new rows in between is a
    :class:`CommitConflict`; one that left the rows as they were (e.g. snapshot expiry) is not.
    """
    table = _load_or_create(catalog, identifier, df.schema, accepted, shape)
    if drop_missing:
        table = _drop_missing(table, df.schema)
    current = table.current_snapshot()
    if base is None:
        base = current.snapshot_id if current else None
    if base is None and current is None:  # a new (or still empty) table
        result = replace(catalog, identifier, df, properties, tag=tag, shape=shape,
                         table_properties=table_properties)  # fmt: skip
        return PublishResult(
            identifier, "append", result.rows_written, result.rows_total, result.snapshot_id,
            rows_inserted=result.rows_written,
        )  # fmt: skip
    _check_base(table, base)
    if diff is not None:
        added, removed, new_rows = diff.added, diff.removed, diff.rows
    else:
        added, removed, new_rows = _difference(_align(df, table), table)
    props = {
        **properties,
        "floe.rows_added": str(added.num_rows),
        "floe.rows_removed": str(removed.num_rows),
        "floe.rows_inserted": str(max(0, added.num_rows - removed.num_rows)),
        "floe.rows_updated": str(min(added.num_rows, removed.num_rows)),
    }
    if added.num_rows == 0 and removed.num_rows == 0:
        return PublishResult(identifier, "unchanged", 0, new_rows, base)
    affected = _files_with_rows(table, _data_files(table), removed)

    def attempt() -> int:
        now = catalog.load_table(identifier)
        _check_base(now, base)
        data = _align(added, now)
        if affected:
            import pyarrow as pa

            data = pa.concat_tables([_rows_except(now, affected, removed), data])
        return _commit(now, props, tag, affected, _sorted(data, shape), append=not affected,
                       table_properties=table_properties)  # fmt: skip

    snapshot_id = _retrying(identifier, attempt)
    return PublishResult(
        identifier,
        "merge" if affected else "append",
        added.num_rows,
        new_rows,
        snapshot_id,
        rows_inserted=max(0, added.num_rows - removed.num_rows),
        rows_updated=min(added.num_rows, removed.num_rows),
    )


def _check_base(table: Table, base: int | None) -> None:
    """The table's current snapshot is still ``base`` (the rows the run computed against)."""
    current = table.current_snapshot()
    now = current.snapshot_id if current else None
    if now != base:
        name = ".".join(table.name())
        raise CommitConflict(
            f"error[{E_CONFLICT}]: {name} changed while this run built it (snapshot {base} → "
            f"{now}, committed by another writer); its incremental change was computed against "
            f"{base} and is not re-applied, nothing was published to {name}. "
            "hint: run the product again (it starts from the new state)"
        )


def _sorted(data: pa.Table, shape: Shape | None) -> pa.Table:
    layout = shape.layout if shape else None
    return table_layout.sort_rows(data, layout) if layout else data


def _difference(new: pa.Table, table: Table) -> tuple[pa.Table, pa.Table, int]:
    """Rows added and removed (multisets) from the table's current content to ``new``."""
    import duckdb

    current = _align(table.scan().to_arrow(), table)
    con = duckdb.connect()
    try:
        con.register("new_rows", new)
        con.register("old_rows", current)
        added = con.execute(
            "select * from new_rows except all select * from old_rows"
        ).to_arrow_table()
        removed = con.execute(
            "select * from old_rows except all select * from new_rows"
        ).to_arrow_table()
    finally:
        con.close()
    return added, removed, new.num_rows


def _drop_missing(table: Table, schema: pa.Schema) -> Table:
    """Delete the table's columns that ``schema`` no longer has (older snapshots keep them)."""
    gone = [f.name for f in table.schema().fields if f.name not in schema.names]
    if gone:
        with table.update_schema() as update:
            for name in gone:
                update.delete_column(name)
    return table


def _read_file(table: Table, data_file: object) -> pa.Table:
    import pyarrow.parquet as pq

    path = str(data_file.file_path)  # type: ignore[attr-defined]
    with table.io.new_input(path).open() as handle:
        return pq.read_table(handle)


def _files_with_rows(table: Table, files: list[object], rows: pa.Table) -> list[object]:
    """The data files holding at least one of ``rows`` (compared on every column)."""
    if rows.num_rows == 0:
        return []
    import duckdb

    out = []
    con = duckdb.connect()
    try:
        con.register("wanted", rows)
        for data_file in files:
            con.register("f", _align(_read_file(table, data_file), table))
            hit = con.execute(
                "select 1 from (select * from f intersect select * from wanted) limit 1"
            )
            if hit.fetchone():
                out.append(data_file)
    finally:
        con.close()
    return out


def _rows_except(table: Table, files: list[object], rows: pa.Table) -> pa.Table:
    """The rows of ``files`` without ``rows`` (multiset difference)."""
    import duckdb
    import pyarrow as pa

    con = duckdb.connect()
    try:
        con.register("removed", rows)
        con.register("f", pa.concat_tables([_align(_read_file(table, f), table) for f in files]))
        kept = con.execute("select * from f except all select * from removed").to_arrow_table()
    finally:
        con.close()
    return _align(kept, table)
