"""Incremental models with a ``unique_key`` on Spark: the rows DuckDB's default gives.

dbt-duckdb's default strategy for an incremental model with a ``unique_key`` is
``delete+insert`` (the published rows whose key the new batch has are replaced by the batch);
dbt-spark's default is ``append`` whatever the key (and it has no ``delete+insert``; its
``merge`` needs an Iceberg/Delta/Hudi ``file_format`` in the session catalog). So that a
project gives the same tables on both engines, floe applies the key on Spark itself:

1. dbt builds the model with its own (``append``) strategy on the scratch copy of the
   published table (``is_incremental()`` and ``{{ this }}`` as dbt has them): copy + batch;
2. floe takes the batch (the built rows except the copy's, as multisets), deletes from the
   copy the rows whose key the batch has and inserts the batch — dbt-duckdb's
   ``delete+insert`` — and the result replaces the model's scratch relation;
3. the models built on it are built **after** that (the build runs in *waves*: a wave stops
   before the nodes downstream of a keyed incremental model that has published rows).

The audit branch then receives the merged rows (only the batch when no key was replaced).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from floe.runtime.dbt_graph import DbtGraph, DbtNode

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@dataclass(frozen=True)
class KeyedMerge:
    """What applying the key did to a model's scratch relation."""

    batch: int  # rows dbt's incremental query selected
    replaced: int  # published rows whose key the batch had (deleted, then re-inserted)

    @property
    def inserted(self) -> int:
        return self.batch - self.replaced


def unique_key(node: DbtNode) -> list[str]:
    """The columns floe merges ``node`` by on Spark: its ``unique_key`` when it is an
    incremental model on dbt's default strategy (which is ``delete+insert`` on DuckDB); else
    none (an explicit ``append`` ignores the key on both engines)."""
    if node.materialization != "incremental" or node.config.get("incremental_strategy"):
        return []
    key = node.config.get("unique_key")
    if not key:
        return []
    return [str(k) for k in key] if isinstance(key, list | tuple) else [str(key)]


def waves(graph: DbtGraph, building: Sequence[DbtNode], keyed: set[str]) -> list[list[DbtNode]]:
    """``building`` split so that no node is built in the same dbt invocation as a keyed
    incremental model it reads (directly or not); one wave when there is none."""
    ancestors_of = ancestors(graph, [n.unique_id for n in building])
    out: list[list[DbtNode]] = []
    remaining = list(building)
    while remaining:
        ids = {n.unique_id for n in remaining}
        later = {n.unique_id for n in remaining if ancestors_of[n.unique_id] & keyed & ids}
        out.append([n for n in remaining if n.unique_id not in later])
        remaining = [n for n in remaining if n.unique_id in later]
    return out


def ancestors(graph: DbtGraph, unique_ids: Iterable[str]) -> Mapping[str, set[str]]:
    """Every node and source each of ``unique_ids`` reads, directly or not."""
    memo: dict[str, set[str]] = {}

    def of(uid: str) -> set[str]:
        if uid not in memo:
            memo[uid] = set()
            parents = graph.inputs_of([uid])
            memo[uid] = set(parents).union(*(of(p) for p in parents))
        return memo[uid]

    return {uid: of(uid) for uid in unique_ids}


def merge_by_key(
    session: SparkSession, schema: str, identifier: str, base_source: str, keys: Sequence[str]
) -> KeyedMerge | None:
    """Make the scratch ``relation`` (the published rows ``base_source`` plus what dbt
    appended) the published rows without those whose key the appended batch has, plus the
    batch. None when dbt did not only append (other columns, rows removed): left as built."""
    from pyspark.sql.functions import col, lit

    relation = f"spark_catalog.{_q(schema)}.{_q(identifier)}"
    data = session.table(relation)
    base = session.sql(f"SELECT * FROM {base_source}")  # noqa: S608  # nosec B608
    if not set(base.columns) <= set(data.columns) or not set(keys) <= set(base.columns):
        return None
    # a column dbt added (on_schema_change: append_new_columns) is null in the published rows
    types = {f.name: f.dataType for f in data.schema}
    base = base.select(*[
        col(c) if c in base.columns else lit(None).cast(types[c]).alias(c) for c in data.columns
    ])  # fmt: skip
    if not base.exceptAll(data).isEmpty():
        return None
    batch = data.exceptAll(base).localCheckpoint()
    batch_keys = batch.select(*keys).distinct()
    kept = base.join(batch_keys, on=list(keys), how="left_anti").select(*data.columns)
    replaced = base.count() - kept.count()
    if replaced:
        merged = kept.unionByName(batch).localCheckpoint()
        staged = f"spark_catalog.{_q(schema)}.{_q(identifier + '__floe_merged')}"
        merged.write.format("parquet").saveAsTable(staged)
        session.sql(f"DROP TABLE {relation}")
        session.sql(f"ALTER TABLE {staged} RENAME TO {_q(schema)}.{_q(identifier)}")
    return KeyedMerge(batch.count(), replaced)


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"
