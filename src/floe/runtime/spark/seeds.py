"""Seeds on Spark without dbt-spark's per-cell path: the table ``dbt seed`` gives, loaded fast.

dbt-spark 1.11 loads a seed through ``spark__load_csv_rows``: for every cell a Jinja
``cast(%s as <type>)`` and a type conversion, the values bound into the SQL text in Python,
then Spark's parser on one ``INSERT … VALUES`` per 10,000 rows — a 1 M-row seed takes well
over ten minutes. floe loads each seed it can reproduce exactly itself and leaves it out of
the ``dbt build`` (its tests still run on the audit branch):

1. the CSV read by dbt's own code (:mod:`floe.runtime.adapters.dbt_seed`: agate with dbt's
   type tester, the seed's ``delimiter``, its ``column_types`` columns read as text — so the
   same values, nulls, booleans, dates and timestamps as ``dbt seed``);
2. the table created as dbt-spark's ``create_csv_table`` creates it: the same name (dbt's
   relation in the scratch catalog), the same column names, each typed by ``column_types`` or
   else dbt-spark's ``convert_type`` of agate's inference;
3. the rows written through one Parquet file in the session's scratch warehouse, each column
   cast to its type by Spark (``CAST(value AS <type>)``, as dbt-spark's ``cast(… as <type>)``:
   a ``column_types`` column is cast from its text, as dbt-spark casts it) and inserted.

A seed floe cannot reproduce exactly goes through dbt's own path (:func:`fallback_reason`):
hooks, grants, a non-Parquet ``file_format``, partitioning/bucketing/location, a seed of a
package, unquoted column names that are not plain identifiers, timezone-aware timestamps,
integers beyond 64 bits, non-finite numbers, a scratch warehouse that is not a local folder.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from floe.runtime import progress
from floe.runtime.adapters.dbt_seed import (
    agate_kinds,
    quotes_seed_columns,
    read_seed,
    spark_column_types,
)
from floe.runtime.dbt_graph import DbtNode

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import SparkSession

#: seed configs whose effect floe does not reproduce: such a seed is left to dbt
DBT_ONLY = ("pre-hook", "post-hook", "partition_by", "clustered_by", "buckets", "location_root",
            "grants")  # fmt: skip
PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
INT64 = (-(2**63), 2**63 - 1)


@dataclass
class SeedLoad:
    """What floe did with the build's seeds: dbt-style run results of those it loaded (or
    failed to load) and why the others were left to dbt."""

    results: list[dict[str, Any]] = field(default_factory=list)
    left_to_dbt: dict[str, str] = field(default_factory=dict)  # unique id → why

    @property
    def handled(self) -> set[str]:
        """Unique ids floe loaded or tried to (not to be built by dbt)."""
        return {str(r["unique_id"]) for r in self.results}

    @property
    def failed(self) -> set[str]:
        """Unique ids whose load failed."""
        return {str(r["unique_id"]) for r in self.results if r["status"] != "success"}


class _DbtOnly(Exception):
    """The seed has something floe does not reproduce: dbt loads it."""


def fallback_reason(node: DbtNode, project_dir: Path | None, project: str | None) -> str | None:
    """Why dbt, not floe, must load this seed (None: floe loads it)."""
    config = node.config
    if project_dir is None or node.relation is None:
        return "no project folder"
    if project is None or node.package != project:
        return f"a seed of the package {node.package}"
    for key in DBT_ONLY:
        if config.get(key):
            return f"its {key} config"
    if str(config.get("file_format") or "parquet").lower() != "parquet":
        return f"file_format {config.get('file_format')}"
    if not (project_dir / node.path).is_file():
        return f"{node.path} not found"
    return None


def load_seeds(
    session: SparkSession, seeds: Sequence[DbtNode], project_dir: Path | None
) -> SeedLoad:
    """Load every seed floe can reproduce exactly into dbt's scratch relation."""
    out = SeedLoad()
    if not seeds:
        return out
    project = _project_name(project_dir)
    warehouse = _local_warehouse(session)
    for node in seeds:
        reason = fallback_reason(node, project_dir, project)
        if reason is None and warehouse is None:
            reason = "the scratch warehouse is not a local folder"
        if reason is None:
            assert project_dir is not None
            assert warehouse is not None
            try:
                out.results.append(_load(session, node, project_dir / node.path, warehouse))
                continue
            except _DbtOnly as exc:
                reason = str(exc)
        out.left_to_dbt[node.unique_id] = reason
        progress.report(f"seed {node.name}: loaded by dbt-spark ({reason})")
    return out


def _project_name(project_dir: Path | None) -> str | None:
    import yaml

    try:
        data = yaml.safe_load((project_dir or Path()).joinpath("dbt_project.yml").read_text())
    except (OSError, yaml.YAMLError):
        return None
    return str(data.get("name")) if isinstance(data, dict) and data.get("name") else None


def _local_warehouse(session: SparkSession) -> Path | None:
    location = str(session.conf.get("spark.sql.warehouse.dir", "") or "")
    path = Path(location.removeprefix("file:")) if "://" not in location else None
    return path if path is not None and path.is_dir() else None


def _load(session: SparkSession, node: DbtNode, csv: Path, warehouse: Path) -> dict[str, Any]:
    """One seed into ``spark_catalog.<schema>.<alias>``; its dbt-style run result."""
    assert node.relation is not None
    started = datetime.now(UTC)
    begin = time.perf_counter()
    relation = f"spark_catalog.{_q(node.relation.schema)}.{_q(node.relation.identifier)}"
    progress.report(f"seed {node.name}: loading {csv.name} into Spark (floe)")
    try:
        column_types = seed_types(node)
        table = read_seed(csv, column_types, str(node.config.get("delimiter") or ","))
        names = [str(n) for n in table.column_names]
        if not quotes_seed_columns(node.config.get("quote_columns")):
            odd = [n for n in names if not PLAIN_NAME.match(n)]
            if odd:
                raise _DbtOnly(f"unquoted column names {odd}")
        types = spark_column_types(table, column_types)
        data = _arrow(table, types)
        rows = len(table.rows)
        session.sql(f"DROP TABLE IF EXISTS {relation}")
        columns = ", ".join(f"{_q(n)} {t}" for n, t in zip(names, types, strict=True))
        session.sql(f"CREATE TABLE {relation} ({columns})")
        if rows:
            _insert(session, relation, data, types, warehouse)
    except _DbtOnly:
        raise
    except Exception as exc:  # as dbt: the seed is an error, the run goes on
        progress.report(f"ERROR seed {node.name}: {exc}")
        return _result(node, "error", str(exc), started, begin, 0)
    return _result(node, "success", f"INSERT {rows}", started, begin, rows)


def _insert(
    session: SparkSession, relation: str, data: pa.Table, types: Sequence[str], warehouse: Path
) -> None:
    """The rows through one Parquet file in the scratch warehouse, cast to the column types."""
    import pyarrow.parquet as pq

    folder = Path(tempfile.mkdtemp(prefix=f"floe-seed-{uuid.uuid4().hex[:8]}-", dir=warehouse))
    try:
        pq.write_table(data, folder / "rows.parquet")
        frame = session.read.parquet(str(folder))
        casts = [f"CAST({_q(f'c{i}')} AS {t})" for i, t in enumerate(types)]
        frame.selectExpr(*casts).write.insertInto(relation)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _arrow(table: Any, types: Sequence[str]) -> pa.Table:
    """The agate table's values as Arrow columns ``c0…cN`` of the type agate inferred."""
    import pyarrow as pa

    arrays = [_array(kind, list(table.columns[i].values()), types[i])
              for i, kind in enumerate(agate_kinds(table))]  # fmt: skip
    return pa.table(arrays, names=[f"c{i}" for i in range(len(types))])


def _array(kind: str, values: list[Any], spark_type: str) -> pa.Array:
    import pyarrow as pa

    if kind in ("text", "boolean"):
        return pa.array(values, pa.string() if kind == "text" else pa.bool_())
    if kind == "datetime":
        if any(v is not None and v.tzinfo is not None for v in values):
            raise _DbtOnly("timestamps with a time zone")
        return pa.array(values, pa.timestamp("us"))
    if kind == "date":
        return pa.array([_date(v) for v in values], pa.date32())
    if kind != "number":
        raise _DbtOnly(f"agate type {kind}")
    if any(isinstance(v, Decimal) and not v.is_finite() for v in values):
        raise _DbtOnly("a non-finite number")
    if spark_type == "bigint":
        ints = [None if v is None else int(v) for v in values]
        if any(v is not None and not INT64[0] <= v <= INT64[1] for v in ints):
            raise _DbtOnly("an integer beyond 64 bits")
        return pa.array(ints, pa.int64())
    return pa.array([None if v is None else float(v) for v in values], pa.float64())


def _date(value: date | datetime | None) -> date | None:
    return value.date() if isinstance(value, datetime) else value


def _result(
    node: DbtNode, status: str, message: str, started: datetime, begin: float, rows: int
) -> dict[str, Any]:
    """A run result as dbt's run_results.json has it (what floe's audit and observer read)."""
    stamp = "%Y-%m-%dT%H:%M:%S.%fZ"
    done = datetime.now(UTC)
    timing = {"name": "execute", "started_at": started.strftime(stamp),
              "completed_at": done.strftime(stamp)}  # fmt: skip
    return {
        "unique_id": node.unique_id,
        "status": status,
        "message": message,
        "execution_time": time.perf_counter() - begin,
        "timing": [timing],
        "adapter_response": {"_message": message, "rows_affected": rows, "loaded_by": "floe"},
        "thread_id": "floe-seeds",
        "failures": None,
    }


def seed_types(node: DbtNode) -> Mapping[str, str]:
    """The seed's ``column_types`` config."""
    return {str(k): str(v) for k, v in (node.config.get("column_types") or {}).items()}


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"
