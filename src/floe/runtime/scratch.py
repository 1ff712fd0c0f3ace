"""The scratch DuckDB of one run phase: empty at start, inputs read from Iceberg, then deleted.

Before dbt runs, every input that this phase does not build is created as a view over its
Iceberg table (``iceberg_scan`` of the current metadata), and every incremental model about to
be built incrementally is copied from Iceberg into a real table so that dbt's
``is_incremental()`` sees the published state — never a leftover from an earlier run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

EXTENSIONS = ["httpfs", "avro", "iceberg"]


def connect(path: Path, setup: Sequence[str] = ()) -> duckdb.DuckDBPyConnection:
    """Open ``path`` with extensions loaded by path and downloads disabled, then run ``setup``
    (e.g. the temporary secret that reads the warehouse on S3)."""
    import duckdb

    from floe.runtime.duckdb_extensions import load_extensions

    con = duckdb.connect(
        str(path),
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False},
    )
    try:
        load_extensions(con, EXTENSIONS, duckdb.__version__)
        for statement in setup:
            con.execute(statement)
    except Exception:
        con.close()  # an open connection would keep the file's database alive in-process
        raise
    return con


def create_secret_sql(name: str, params: dict[str, str]) -> str:
    """``create or replace temporary secret <name> (type …, key 'value', …)``."""
    items = [f"type {params['type']}"] + [
        f"{key} {_literal(value)}" for key, value in params.items() if key != "type"
    ]
    return f"create or replace temporary secret {quote_ident(name)} ({', '.join(items)})"


def _local(location: str) -> str:
    return location.removeprefix("file://")


def quote_ident(name: str) -> str:
    """A double-quoted SQL identifier (embedded quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class ScratchInput:
    """A relation of the scratch database read from Iceberg: a view over the table's current
    metadata, or (``copy``) a real table dbt may change (incremental models, snapshots)."""

    schema: str
    identifier: str
    location: str
    copy: bool = False
    snapshot_id: int | None = None  # read this snapshot instead of the current one
    table: str = ""  # the Iceberg table (namespace.name), for engines that read it by name

    def sql(self) -> str:
        """``create view|table "schema"."identifier" as select * from iceberg_scan(…)``."""
        meta = _local(self.location).replace("'", "''")
        kind = "table" if self.copy else "view"
        relation = f"{quote_ident(self.schema)}.{quote_ident(self.identifier)}"
        at = "" if self.snapshot_id is None else f", snapshot_from_id => {int(self.snapshot_id)}"
        return f"create {kind} {relation} as select * from iceberg_scan('{meta}'{at})"  # noqa: S608  # nosec B608


#: schema of the views over the published state of the tables dbt may change (``copy``)
PREVIOUS = "floe_previous"


def previous(schema: str, identifier: str) -> str:
    """The view over the published state of the copied relation ``schema.identifier``."""
    return f"{quote_ident(PREVIOUS)}.{quote_ident(schema + '.' + identifier)}"


@dataclass(frozen=True)
class Diff:
    """What dbt changed in a copied relation: rows added and removed (multisets)."""

    added: pa.Table
    removed: pa.Table
    rows: int


def diff_previous(con: duckdb.DuckDBPyConnection, schema: str, identifier: str) -> Diff | None:
    """The change of a copied relation against its published state, computed in DuckDB; None
    when the columns changed (then the publish compares the whole table itself)."""
    relation = f"{quote_ident(schema)}.{quote_ident(identifier)}"
    before = previous(schema, identifier)
    columns = "select column_name, column_type from (describe {})"  # identifiers are quoted
    try:
        now = con.execute(columns.format(relation)).fetchall()
        then = con.execute(columns.format(before)).fetchall()
    except Exception:  # no published state (a first run) or no such relation
        return None
    if now != then:
        return None
    signature = "select count(*), sum(hash(t)::hugeint) from {} t"  # order-free row digest
    same = con.execute(signature.format(relation)).fetchone()
    if same is not None and same == con.execute(signature.format(before)).fetchone():
        empty = con.execute(f"from {relation} limit 0").to_arrow_table()  # nosec B608
        return Diff(empty, empty, int(same[0]))  # unchanged: no row-by-row comparison needed
    added = con.execute(f"from {relation} except all from {before}").to_arrow_table()  # nosec B608
    removed = con.execute(f"from {before} except all from {relation}").to_arrow_table()  # nosec B608
    count = con.execute(f"select count(*) from {relation}").fetchone()  # noqa: S608  # nosec B608
    return Diff(added, removed, int(count[0]) if count else 0)


def prepare(path: Path, inputs: Sequence[ScratchInput], setup: Sequence[str] = ()) -> None:
    """Create an empty scratch file holding ``inputs`` under the relation names dbt uses."""
    path.parent.mkdir(parents=True, exist_ok=True)
    discard(path)
    con = connect(path, setup)
    try:
        for schema in sorted({i.schema for i in inputs}):
            con.execute(f"create schema if not exists {quote_ident(schema)}")
        for item in sorted(inputs, key=lambda i: (i.schema, i.identifier)):
            con.execute(item.sql())
            if item.copy:  # the published state, to diff against after dbt changed the copy
                meta = _local(item.location).replace("'", "''")
                con.execute(f"create schema if not exists {quote_ident(PREVIOUS)}")
                con.execute(
                    f"create view {previous(item.schema, item.identifier)} as "  # noqa: S608  # nosec B608
                    f"select * from iceberg_scan('{meta}')"
                )
    finally:
        con.close()


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def read_relation(con: duckdb.DuckDBPyConnection, schema: str, identifier: str) -> pa.Table:
    """The content of ``"schema"."identifier"`` of the scratch connection ``con`` as Arrow
    (one connection for every relation a run publishes: loading the extensions costs more
    than reading a small table)."""
    relation = f"{quote_ident(schema)}.{quote_ident(identifier)}"
    sql = f"select * from {relation}"  # noqa: S608  # nosec B608 - quoted
    return con.execute(sql).to_arrow_table()


def column_names(con: duckdb.DuckDBPyConnection, schema: str, identifier: str) -> list[str]:
    """The column names of ``"schema"."identifier"`` (no rows read)."""
    relation = f"{quote_ident(schema)}.{quote_ident(identifier)}"
    return [str(d[0]) for d in con.execute(f"select * from {relation} limit 0").description]  # noqa: S608  # nosec B608


def discard(path: Path) -> None:
    """Delete the scratch database: DuckDB keeps no state between runs."""
    for leftover in (path, path.with_suffix(path.suffix + ".wal")):
        leftover.unlink(missing_ok=True)
