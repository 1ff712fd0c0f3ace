"""The SQL of Spark's write–audit–publish, shared by the ``session`` and ``thrift`` methods.

Every statement here goes through :class:`SparkSql` — a SparkSession floe started
(:class:`SessionSql`) or a connection to a Spark Thrift Server
(:class:`floe.runtime.spark.thrift.ThriftSql`): the same SQL on both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

MAIN = "main"


class SparkSql(Protocol):
    """Where floe's Spark SQL runs: one statement at a time, its rows as tuples."""

    def execute(self, sql: str) -> list[tuple[Any, ...]]: ...


class SessionSql:
    """A SparkSession floe started, as :class:`SparkSql`."""

    def __init__(self, session: SparkSession) -> None:
        self.session = session

    def execute(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.session.sql(sql).collect()]


@dataclass(frozen=True)
class Branch:
    """A node's rows written to its table's audit branch."""

    identifier: str  # namespace.table in floe's catalog
    table: str  # the same, quoted, in Spark's catalog
    name: str  # audit_<run id>
    snapshot_id: int
    rows: int
    columns: list[tuple[str, str]]
    mode: str  # replace | append (only the rows an incremental model added) | merge (by key)
    written: int
    replaced: int = 0  # merge: published rows whose key the batch had


def audit_branch(run_id: str) -> str:
    """The audit branch of a run (``audit_<run id>``, a plain SQL identifier)."""
    return "audit_" + "".join(c if c.isalnum() else "_" for c in run_id)


def q(name: str) -> str:
    """``name`` as a quoted Spark SQL identifier."""
    return "`" + name.replace("`", "``") + "`"


def table_ref(identifier: str) -> str:
    """``namespace.table`` quoted."""
    namespace, name = identifier.rsplit(".", 1)
    return f"{q(namespace)}.{q(name)}"


def scalar(sql: SparkSql, query: str) -> Any:
    """The first column of the first row of ``query`` (None when there is no row)."""
    rows = sql.execute(query)
    return rows[0][0] if rows else None


def ensure_table(sql: SparkSql, table: str, columns: list[tuple[str, str]]) -> None:
    """Create the Iceberg table with ``columns`` (name, Spark type; no snapshot) when missing;
    let writes evolve its schema by column name."""
    body = ", ".join(f"{q(name)} {kind}" for name, kind in columns)
    sql.execute(
        f"CREATE TABLE IF NOT EXISTS {table} ({body}) USING iceberg "
        "TBLPROPERTIES ('format-version' = '2')"
    )
    sql.execute(f"ALTER TABLE {table} SET TBLPROPERTIES ('write.spark.accept-any-schema' = 'true')")


def branch_head(sql: SparkSql, table: str, branch: str) -> int:
    """The snapshot a branch (letters, digits, ``_``) of ``table`` points at."""
    query = f"SELECT snapshot_id FROM {table}.refs WHERE name = '{branch}'"  # noqa: S608  # nosec B608
    head = scalar(sql, query)
    assert head is not None, f"branch {branch} of {table}"
    return int(head)


def count_at(sql: SparkSql, table: str, version: int | str) -> int:
    """Rows of ``table`` at a snapshot id or a branch name (letters, digits, ``_``)."""
    at = str(int(version)) if isinstance(version, int) else f"'{version}'"
    return int(scalar(sql, f"SELECT count(*) FROM {table} VERSION AS OF {at}") or 0)  # noqa: S608  # nosec B608


def fast_forward(sql: SparkSql, catalog_name: str, identifier: str, branch: str) -> None:
    """``main`` of ``identifier`` fast-forwarded to ``branch`` (Iceberg's procedure)."""
    namespace, name = identifier.rsplit(".", 1)
    sql.execute(
        f"CALL {q(catalog_name)}.system.fast_forward("
        f"table => '{namespace}.{name}', branch => '{MAIN}', to => '{branch}')"
    )


def drop_branch(sql: SparkSql, table: str, branch: str) -> None:
    sql.execute(f"ALTER TABLE {table} DROP BRANCH IF EXISTS {q(branch)}")


def drop_scratch(sql: SparkSql, schemas: set[str]) -> None:
    """Drop dbt's scratch schemas (and everything in them) from the session catalog."""
    for schema in sorted(schemas):
        sql.execute(f"DROP DATABASE IF EXISTS spark_catalog.{q(schema)} CASCADE")


def point_at_branch(sql: SparkSql, relation: str, kind: str, branch: Branch) -> None:
    """dbt's relation (a ``kind``, TABLE or VIEW) replaced by a view over the audit branch,
    so that dbt's tests read the branch."""
    sql.execute(f"DROP {kind} {relation}")
    on_branch = f"{branch.table}.{q('branch_' + branch.name)}"
    sql.execute(f"CREATE VIEW {relation} AS SELECT * FROM {on_branch}")  # noqa: S608  # nosec B608
