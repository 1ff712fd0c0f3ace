"""Spark's write–audit–publish over SQL, on a Spark Thrift Server (the ``thrift`` method).

floe starts no Spark here: dbt-spark (``thrift`` method) and floe each open sessions on the
server through PyHive. The server carries floe's Iceberg catalog under the name PyIceberg uses
(checked when the run connects: E585); dbt builds in the server's session catalog
(``spark_catalog``), as on the ``session`` method, and every step of
:mod:`floe.runtime.spark.runner` is a SQL statement — except one.

**Snapshot properties.** Iceberg 1.10's Spark writes take ``snapshot-property.*`` only from
DataFrame write options (``SparkWriteConf.extraSnapshotMetadata``) or from Java's
thread-local ``CommitMetadata``; Spark 3.5's SQL has no write options on ``INSERT`` and Iceberg
has no session setting or procedure for them. So Spark writes the rows to a **staging branch**
(``stage_<run id>``, started where the audit branch starts), and PyIceberg, on the same
catalog, commits the staged data files to the audit branch as one snapshot carrying
``floe.run_id``, ``floe.product``, ``floe.dbt_unique_id`` and ``floe.trace_id`` — no data is
rewritten or moved through floe — then the staging branch is dropped. dbt's tests read the
audit branch; ``main`` is fast-forwarded to exactly the snapshot they passed on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from floe.errors import FloeError, Location
from floe.plugins.builtin.compute_spark import THRIFT_SESSION, hiveconf
from floe.runtime.runner import NodeOutcome, RunSpec, _snapshot_props
from floe.runtime.spark.incremental import KeyedMerge
from floe.runtime.spark.wap import (
    Branch,
    SparkSql,
    audit_branch,
    branch_head,
    count_at,
    drop_branch,
    ensure_table,
    q,
    scalar,
    table_ref,
)

if TYPE_CHECKING:
    from pydantic import SecretStr
    from pyiceberg.catalog import Catalog
    from pyiceberg.manifest import DataFile
    from pyiceberg.table import Table

    from floe.runtime.dbt_graph import DbtNode

E_THRIFT_CONNECT = "E584"
E_THRIFT_CATALOG = "E585"
#: Settings of floe's own session on the server (dbt's sessions get the same from the profile).
SESSION = {**THRIFT_SESSION, "spark.sql.shuffle.partitions": "4"}
ROW_STATEMENTS = ("SELECT", "SHOW", "DESCRIBE", "SET")  # the statements whose rows floe reads
POLL = (0.05, 1.0)  # first and longest wait between polls of a running statement, seconds


@dataclass(frozen=True)
class ThriftServer:
    """The Spark Thrift Server of the ``thrift`` method; the password resolved at run time."""

    host: str
    port: int
    user: str
    auth: str  # NONE, NOSASL, LDAP, KERBEROS
    password: SecretStr | None = field(default=None, repr=False)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


class ThriftSql:
    """A PyHive connection to the server, as :class:`floe.runtime.spark.wap.SparkSql`: every
    statement runs asynchronously and is polled (a long statement is not cut off by the
    server's request timeout)."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def execute(self, sql: str) -> list[tuple[Any, ...]]:
        from TCLIService.ttypes import TOperationState

        running = (TOperationState.INITIALIZED_STATE, TOperationState.PENDING_STATE,
                   TOperationState.RUNNING_STATE)  # fmt: skip
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql, async_=True)
            wait = POLL[0]
            status = cursor.poll()
            while status.operationState in running:
                time.sleep(wait)
                wait = min(wait * 2, POLL[1])
                status = cursor.poll()
            if status.operationState != TOperationState.FINISHED_STATE:
                raise RuntimeError(status.errorMessage or f"statement ended {status}: {sql}")
            # a command's (DDL, INSERT, CALL) result set is none PyHive can fetch
            if not cursor.description or not sql.lstrip().upper().startswith(ROW_STATEMENTS):
                return []
            return [tuple(row) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def close(self) -> None:
        self.connection.close()


def connect(server: ThriftServer) -> ThriftSql:
    """A session on the server with floe's settings; E584 when it cannot be opened."""
    from pyhive import hive

    password = server.password.get_secret_value() if server.password is not None else None
    try:
        connection = hive.connect(host=server.host, port=server.port, username=server.user,
                                  auth=server.auth, password=password,
                                  configuration=hiveconf(SESSION))  # fmt: skip
    except Exception as exc:
        raise FloeError.single(
            E_THRIFT_CONNECT,
            f"cannot open a session on the Spark Thrift Server {server.address}: "
            f"{type(exc).__name__}: {exc}",
            Location("manifest.yaml"),
            field_path="compute_configs.spark.host",
            hint="check host, port, user and auth_method (on the cluster: sparkThrift.enabled, "
            "Service spark-thrift port 10000) and that the server is up",
        ) from exc
    return ThriftSql(connection)


def check_catalog(sql: SparkSql, catalog_name: str, namespace: str) -> None:
    """The server must see floe's Iceberg catalog as ``catalog_name``: the catalog answers and
    holds the product's namespace, which floe just claimed through PyIceberg (E585)."""
    try:
        rows = sql.execute(f"SHOW NAMESPACES IN {q(catalog_name)}")
    except Exception as exc:
        raise _not_floes(catalog_name, f"it has no catalog '{catalog_name}' ({exc})") from exc
    found = {str(row[0]).strip("`") for row in rows}
    if namespace.split(".", 1)[0] not in found:
        raise _not_floes(
            catalog_name,
            f"its catalog '{catalog_name}' has no namespace '{namespace}', which floe's "
            "catalog has: it is another catalog",
        )


def _not_floes(catalog_name: str, why: str) -> FloeError:
    return FloeError.single(
        E_THRIFT_CATALOG,
        f"the Spark Thrift Server does not see floe's Iceberg catalog: {why}",
        Location("manifest.yaml"),
        field_path="plugins.catalog",
        hint=f"configure the server's spark.sql.catalog.{catalog_name}.* as floe's catalog "
        "(on the cluster the chart does: sparkThrift.catalogName = the manifest's catalog name)",
    )


def open_backend(
    server: ThriftServer, catalog_name: str, namespace: str
) -> tuple[SparkSql, Callable[..., Branch], Callable[..., KeyedMerge | None], Callable[[], None]]:
    """The run's SQL session on the server (its catalog checked) and the thrift ways to write
    a branch and to merge by key."""
    sql = connect(server)
    try:
        check_catalog(sql, catalog_name, namespace)
    except BaseException:
        sql.close()
        raise

    def write(spec: RunSpec, catalog: Catalog, node: DbtNode, identifier: str,
              base: int | None, merged: KeyedMerge | None) -> Branch:  # fmt: skip
        return write_branch(sql, spec, catalog, catalog_name, node, identifier, base, merged)

    def merge(schema: str, identifier: str, base_source: str, keys: list[str]) -> KeyedMerge | None:
        return merge_by_key(sql, schema, identifier, base_source, keys)

    return sql, write, merge, sql.close


def describe(sql: SparkSql, query: str) -> list[tuple[str, str]]:
    """(column, Spark type) of a query's result."""
    return [(str(r[0]), str(r[1])) for r in sql.execute(f"DESCRIBE QUERY {query}")]


def write_branch(
    sql: SparkSql,
    spec: RunSpec,
    catalog: Catalog,
    catalog_name: str,
    node: DbtNode,
    identifier: str,
    base: int | None,
    merged: KeyedMerge | None,
) -> Branch:
    """The node's rows as one snapshot on the table's branch ``audit_<run id>`` carrying floe's
    properties (Spark writes them to a staging branch, PyIceberg commits them to the audit
    branch), checked (row count). As on the session method: an incremental model that only
    added rows to its ``base`` appends just those on a branch started at ``base``; else the
    rows replace the table's."""
    assert node.relation is not None
    relation = f"spark_catalog.{q(node.relation.schema)}.{q(node.relation.identifier)}"
    table = f"{q(catalog_name)}.{table_ref(identifier)}"
    branch, stage = audit_branch(spec.run_id), "stage_" + audit_branch(spec.run_id)[6:]
    columns = describe(sql, f"SELECT * FROM {relation}")  # noqa: S608  # nosec B608
    rows = int(scalar(sql, f"SELECT count(*) FROM {relation}"))  # noqa: S608  # nosec B608
    ensure_table(sql, table, columns)
    added = base is not None and _only_added(sql, table, relation, columns, base)
    at = f" AS OF VERSION {int(base)}" if added and base is not None else ""
    sql.execute(f"ALTER TABLE {table} CREATE OR REPLACE BRANCH {q(branch)}{at}")
    start = branch_head(sql, table, branch)
    sql.execute(f"ALTER TABLE {table} CREATE OR REPLACE BRANCH {q(stage)} AS OF VERSION {start}")
    try:
        select = _evolve(sql, table, relation, columns)
        staged = f"{table}.{q('branch_' + stage)}"
        if added:
            sql.execute(f"INSERT INTO {staged} {select} EXCEPT ALL "  # noqa: S608  # nosec B608
                        f"SELECT * FROM {table} VERSION AS OF {int(start)}")  # fmt: skip
        else:
            sql.execute(f"INSERT OVERWRITE {staged} {select}")
        built = NodeOutcome(node.unique_id, node.name, node.resource_type, "passed")
        snapshot = _commit_staged(catalog.load_table(identifier), stage, branch,
                                  _snapshot_props(spec, built))  # fmt: skip
    finally:
        drop_branch(sql, table, stage)
    on_branch = count_at(sql, table, branch)
    if on_branch != rows:
        raise RuntimeError(f"branch {branch} holds {on_branch} rows, dbt built {rows}")
    mode, written = "replace", rows
    if added and base is not None:
        mode, written = "append", rows - count_at(sql, table, int(base))
    elif merged is not None:
        mode, written = "merge", merged.batch
    return Branch(identifier, table, branch, snapshot, rows, columns, mode, written,
                  merged.replaced if merged is not None and not added else 0)  # fmt: skip


def _only_added(
    sql: SparkSql, table: str, relation: str, columns: list[tuple[str, str]], base: int
) -> bool:
    """Whether the built relation is the table at ``base`` plus rows (same columns)."""
    previous = f"SELECT * FROM {table} VERSION AS OF {int(base)}"  # noqa: S608  # nosec B608
    if [c for c, _ in describe(sql, previous)] != [c for c, _ in columns]:
        return False
    gone = scalar(sql, f"SELECT count(*) FROM ({previous} EXCEPT ALL SELECT * FROM {relation})")  # noqa: S608  # nosec B608
    return int(gone) == 0


def _evolve(sql: SparkSql, table: str, relation: str, columns: list[tuple[str, str]]) -> str:
    """The table's schema evolved by column name (the built relation's new columns added) and
    the SELECT of the relation's rows in the table's column order (a column the relation lacks
    is null)."""
    existing = describe(sql, f"SELECT * FROM {table}")  # noqa: S608  # nosec B608
    names = {c for c, _ in existing}
    new = [(c, t) for c, t in columns if c not in names]
    if new:
        body = ", ".join(f"{q(c)} {t}" for c, t in new)
        sql.execute(f"ALTER TABLE {table} ADD COLUMNS ({body})")
    built = {c for c, _ in columns}
    out = [q(c) if c in built else f"CAST(NULL AS {t}) AS {q(c)}" for c, t in existing + new]
    return f"SELECT {', '.join(out)} FROM {relation}"  # noqa: S608  # nosec B608


def _live(table: Table, snapshot_id: int) -> tuple[dict[str, DataFile], set[str]]:
    """The data files (by path) and delete files' paths live at a snapshot."""
    from pyiceberg.manifest import ManifestContent

    data: dict[str, DataFile] = {}
    deletes: set[str] = set()
    snapshot = table.snapshot_by_id(snapshot_id)
    assert snapshot is not None, snapshot_id
    for manifest in snapshot.manifests(table.io):
        for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True):
            if manifest.content == ManifestContent.DATA:
                data[entry.data_file.file_path] = entry.data_file
            else:
                deletes.add(entry.data_file.file_path)
    return data, deletes


def _commit_staged(table: Table, stage: str, branch: str, properties: dict[str, str]) -> int:
    """What Spark wrote to the staging branch (files added and removed since the audit branch's
    head), committed to the audit branch by PyIceberg as one snapshot with ``properties``; its
    id. The data files are Spark's, referenced, not rewritten."""
    refs = table.metadata.refs
    before, before_deletes = _live(table, refs[branch].snapshot_id)
    after, after_deletes = _live(table, refs[stage].snapshot_id)
    if before_deletes != after_deletes:
        raise RuntimeError(f"the staged write of {table.name()} changed delete files")
    added = [f for path, f in after.items() if path not in before]
    removed = [f for path, f in before.items() if path not in after]
    with table.transaction() as tx:
        update = tx.update_snapshot(snapshot_properties=properties, branch=branch)
        if removed:
            with update.overwrite() as overwrite:
                for data_file in removed:
                    overwrite.delete_data_file(data_file)
                for data_file in added:
                    overwrite.append_data_file(data_file)
        else:
            with update.fast_append() as append:
                for data_file in added:
                    append.append_data_file(data_file)
    return table.refresh().metadata.refs[branch].snapshot_id


def merge_by_key(
    sql: SparkSql, schema: str, identifier: str, base_source: str, keys: list[str]
) -> KeyedMerge | None:
    """:func:`floe.runtime.spark.incremental.merge_by_key` in SQL: the scratch relation (the
    published rows ``base_source`` plus what dbt appended) becomes the published rows without
    those whose key the appended batch has, plus the batch. None when dbt did not only append
    (left as built)."""
    relation = f"spark_catalog.{q(schema)}.{q(identifier)}"
    data = describe(sql, f"SELECT * FROM {relation}")  # noqa: S608  # nosec B608
    base = {c for c, _ in describe(sql, f"SELECT * FROM {base_source}")}  # noqa: S608  # nosec B608
    names = [c for c, _ in data]
    if not base <= set(names) or not set(keys) <= base:
        return None
    # a column dbt added (on_schema_change: append_new_columns) is null in the published rows
    projected = ", ".join(q(c) if c in base else f"CAST(NULL AS {t}) AS {q(c)}" for c, t in data)
    old = f"SELECT {projected} FROM {base_source}"  # noqa: S608  # nosec B608
    new = f"SELECT {', '.join(q(c) for c in names)} FROM {relation}"  # noqa: S608  # nosec B608
    if int(scalar(sql, f"SELECT count(*) FROM ({old} EXCEPT ALL {new})")):  # noqa: S608  # nosec B608
        return None
    batch = f"spark_catalog.{q(schema)}.{q(identifier + '__floe_batch')}"
    sql.execute(f"DROP TABLE IF EXISTS {batch}")
    sql.execute(f"CREATE TABLE {batch} USING parquet AS {new} EXCEPT ALL {old}")
    try:
        rows = int(scalar(sql, f"SELECT count(*) FROM {batch}"))  # noqa: S608  # nosec B608
        on = " AND ".join(f"o.{q(k)} = b.{q(k)}" for k in keys)
        batch_keys = f"SELECT DISTINCT {', '.join(q(k) for k in keys)} FROM {batch}"  # noqa: S608  # nosec B608
        kept = f"SELECT o.* FROM ({old}) o LEFT ANTI JOIN ({batch_keys}) b ON {on}"  # noqa: S608  # nosec B608
        total = int(scalar(sql, f"SELECT count(*) FROM ({old})"))  # noqa: S608  # nosec B608
        replaced = total - int(scalar(sql, f"SELECT count(*) FROM ({kept})"))  # noqa: S608  # nosec B608
        if replaced:
            staged = f"spark_catalog.{q(schema)}.{q(identifier + '__floe_merged')}"
            sql.execute(f"CREATE TABLE {staged} USING parquet AS "  # noqa: S608  # nosec B608
                        f"{kept} UNION ALL SELECT * FROM {batch}")  # fmt: skip
            sql.execute(f"DROP TABLE {relation}")
            sql.execute(f"ALTER TABLE {staged} RENAME TO {q(schema)}.{q(identifier)}")
    finally:
        sql.execute(f"DROP TABLE IF EXISTS {batch}")
    return KeyedMerge(rows, replaced)
