"""Run one data product on Spark: ``dbt build`` with dbt-spark, audited, published through an
Iceberg audit branch per table (write–audit–publish the Iceberg way).

The same run as on DuckDB (:mod:`floe.runtime.runner`, whose graph, inputs, audit and
namespace claim this module reuses), on a Spark session floe starts:

1. **Scratch.** dbt's relations live in Spark's session catalog (``spark_catalog``), named as
   dbt's manifest names them; every published node this run does not build and every source is
   a view over its Iceberg table in floe's catalog (read straight from the catalog, at a
   ``floe_as_of`` snapshot when the source asks for one); incremental models and snapshots
   about to be built are copied in.
2. **Build.** One ``dbt build --select <nodes>`` (dbt-spark, ``session`` method): models and
   their tests; dbt skips what is downstream of a failure.
3. **Audit.** The node passed when dbt built it and its own tests passed (as on DuckDB).
4. **Write–audit–publish.** For each passed node: the built rows are written as one snapshot
   (summary: ``floe.run_id``, ``floe.product``, ``floe.dbt_unique_id``, ``floe.trace_id``) to
   the branch ``audit_<run id>`` of its Iceberg table (created when missing, schema evolved by
   name), the branch is checked (row count equals what dbt built and tested), ``main`` is
   fast-forwarded to it (Iceberg's ``fast_forward`` procedure), the branch dropped and the
   snapshot tagged ``run-<run id>``. A node that failed its tests is never written; a failure
   while publishing leaves ``main`` as it was and the branch for inspection.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from floe.errors import FloeError, Location
from floe.runtime import progress
from floe.runtime.dbt_graph import DbtNode
from floe.runtime.publish import PublishResult
from floe.runtime.runner import (
    DbtInvoke,
    NodeOutcome,
    RunReport,
    RunSpec,
    _audit,
    _identifier,
    _inputs,
    _product_lock,
    _read_results,
    _seed_partial_parse,
    _snapshot_props,
    claim_namespace,
    is_transient,
)
from floe.runtime.scratch import ScratchInput
from floe.runtime.spark.session import drop_scratch, run_session
from floe.runtime.timetravel import tag_run

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyspark.sql import DataFrame, SparkSession

    from floe.runtime.resolved import ResolvedPlugins

MAIN = "main"
E_THRIFT_RUN = "E582"


@dataclass(frozen=True)
class SparkTarget:
    """Where a Spark run runs: the master, extra Spark settings, and floe's Iceberg catalog
    (its name and PyIceberg properties, secrets resolved)."""

    master: str
    catalog_name: str
    catalog_props: Mapping[str, str]
    conf: Mapping[str, str]


def audit_branch(run_id: str) -> str:
    """The audit branch of a run (``audit_<run id>``, a plain SQL identifier)."""
    return "audit_" + "".join(c if c.isalnum() else "_" for c in run_id)


def run_product_spark(
    spec: RunSpec, catalog: Catalog, invoke: DbtInvoke, target: SparkTarget
) -> RunReport:
    """Build, audit and publish the selected nodes on Spark."""
    with _product_lock(spec):
        return _run_locked(spec, catalog, invoke, target)


def _run_locked(
    spec: RunSpec, catalog: Catalog, invoke: DbtInvoke, target: SparkTarget
) -> RunReport:
    assert spec.graph is not None, "RunSpec.graph: the dbt manifest of the product"
    graph = spec.graph
    report = RunReport(spec.run_id)
    building = graph.in_build_order(n for n in graph.published() if n.unique_id in spec.selected)
    if not building:
        return report
    bases: dict[str, int] = {}  # Spark rebuilds incrementals whole: no difference to check
    inputs = _inputs(spec, catalog, graph, {n.unique_id for n in building}, bases)
    meta = spec.artifacts.metadata
    claim_namespace(catalog, meta.namespace, meta.product, meta.owner)
    with spec.observer.phase("spark.session", **{"spark.master": target.master}):
        session = run_session(target.master, target.catalog_name, target.catalog_props,
                              target.conf)  # fmt: skip
    schemas = {n.relation.schema for n in graph.nodes.values() if n.relation is not None}
    schemas |= {s.relation.schema for s in graph.sources.values()}
    drop_scratch(session, schemas)
    try:
        _prepare(session, target.catalog_name, inputs, schemas)
        args = ["build", "--select", " ".join(sorted(n.name for n in building)), *spec.dbt_args]
        if spec.full_refresh:
            args.append("--full-refresh")
        dbt_target = spec.home.runs / spec.run_id / "dbt"
        _seed_partial_parse(spec.parse_dir, dbt_target)
        with spec.observer.phase("build"):
            invoke(args, spec.scratch, dbt_target)
        results, manifest = _read_results(dbt_target)
        report.outcomes = _audit(results, manifest, building)
        nodes = {n.unique_id: n for n in building}
        with spec.observer.phase("publish"):
            for outcome in report.outcomes:
                if outcome.status == "passed":
                    _publish(spec, catalog, session, target, outcome, nodes[outcome.unique_id])
        spec.observer.dbt_results(results, manifest, report.outcomes)
    finally:
        drop_scratch(session, schemas)
    return report


def _prepare(
    session: SparkSession, catalog_name: str, inputs: list[ScratchInput], schemas: set[str]
) -> None:
    """dbt's schemas in the session catalog; a view over (or, ``copy``, a copy of) each Iceberg
    table the build reads, under the name dbt gives it."""
    for schema in sorted(schemas):
        session.sql(f"CREATE DATABASE IF NOT EXISTS spark_catalog.{_q(schema)}")
    for item in inputs:
        source = f"{_q(catalog_name)}.{_table_ref(item.table)}"
        if item.snapshot_id is not None:
            source += f" VERSION AS OF {int(item.snapshot_id)}"
        kind = "TABLE" if item.copy else "VIEW"
        relation = f"spark_catalog.{_q(item.schema)}.{_q(item.identifier)}"
        # identifiers quoted by _q, the snapshot an int: no text of a user reaches the SQL raw
        session.sql(f"CREATE {kind} {relation} AS SELECT * FROM {source}")  # noqa: S608  # nosec B608


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _table_ref(identifier: str) -> str:
    namespace, name = identifier.rsplit(".", 1)
    return f"{_q(namespace)}.{_q(name)}"


def _publish(
    spec: RunSpec,
    catalog: Catalog,
    session: SparkSession,
    target: SparkTarget,
    outcome: NodeOutcome,
    node: DbtNode,
) -> None:
    identifier = _identifier(spec, node)
    assert node.relation is not None
    rel = node.relation
    progress.report(f"publishing {node.resource_type} {node.name} → {identifier}")
    data = session.table(f"spark_catalog.{_q(rel.schema)}.{_q(rel.identifier)}")
    try:
        with spec.observer.phase("iceberg.publish", **{"iceberg.table": identifier}):
            outcome.publish = _write_audit_publish(spec, session, target, identifier, data,
                                                   outcome)  # fmt: skip
            assert outcome.publish.snapshot_id is not None
            tag_run(catalog.load_table(identifier), outcome.publish.snapshot_id, spec.run_id)
            outcome.status = "published"
    except Exception as exc:  # one table's failure must not hide what else was published
        outcome.status = "error"
        outcome.message = f"publishing {identifier} failed: {exc}"
        outcome.transient = is_transient(exc)
        progress.report(f"ERROR publishing {identifier}: {exc}")
        return
    pub = outcome.publish
    progress.report(
        f"published {identifier}: {pub.mode} through branch {audit_branch(spec.run_id)}, "
        f"{pub.rows_written} rows written, snapshot {pub.snapshot_id}"
    )
    spec.observer.published(outcome, [(f.name, f.dataType.simpleString()) for f in data.schema])


def _write_audit_publish(
    spec: RunSpec,
    session: SparkSession,
    target: SparkTarget,
    identifier: str,
    data: DataFrame,
    outcome: NodeOutcome,
) -> PublishResult:
    """Write ``data`` to the table's audit branch, check it, fast-forward ``main`` to it."""
    from pyspark.sql.functions import lit

    table = f"{_q(target.catalog_name)}.{_table_ref(identifier)}"
    branch = audit_branch(spec.run_id)
    rows = data.count()
    _ensure_table(session, table, data)
    session.sql(f"ALTER TABLE {table} CREATE OR REPLACE BRANCH {_q(branch)}")
    writer = data.writeTo(f"{table}.{_q('branch_' + branch)}").option("mergeSchema", "true")
    for key, value in _snapshot_props(spec, outcome).items():
        writer = writer.option(f"snapshot-property.{key}", value)
    writer.overwrite(lit(True))
    counted = f"SELECT count(*) FROM {table} VERSION AS OF '{branch}'"  # noqa: S608  # nosec B608
    on_branch = session.sql(counted).first()  # branch: letters, digits, _ (audit_branch)
    if on_branch is None or on_branch[0] != rows:  # the audit of the branch before publishing
        raise RuntimeError(f"branch {branch} holds {on_branch} rows, dbt built {rows}")
    snapshot = _branch_head(session, table, branch)
    namespace, name = identifier.rsplit(".", 1)
    session.sql(
        f"CALL {_q(target.catalog_name)}.system.fast_forward("
        f"table => '{namespace}.{name}', branch => '{MAIN}', to => '{branch}')"
    )
    session.sql(f"ALTER TABLE {table} DROP BRANCH {_q(branch)}")
    return PublishResult(identifier, "replace", rows, rows, snapshot)


def _ensure_table(session: SparkSession, table: str, data: DataFrame) -> None:
    """Create the Iceberg table with the built relation's columns (no snapshot) when missing;
    let writes evolve its schema by column name."""
    columns = ", ".join(f"{_q(f.name)} {f.dataType.simpleString()}" for f in data.schema)
    session.sql(
        f"CREATE TABLE IF NOT EXISTS {table} ({columns}) USING iceberg "
        "TBLPROPERTIES ('format-version' = '2')"
    )
    session.sql(f"ALTER TABLE {table} SET TBLPROPERTIES ('write.spark.accept-any-schema' = 'true')")


def _branch_head(session: SparkSession, table: str, branch: str) -> int:
    query = f"SELECT snapshot_id FROM {table}.refs WHERE name = '{branch}'"  # noqa: S608  # nosec B608
    row = session.sql(query).first()
    assert row is not None, f"branch {branch} of {table}"
    return int(row[0])


def spark_target(plugins: ResolvedPlugins) -> SparkTarget:
    """The Spark run settings of the run's plugins: the compute plugin's master and Spark
    settings, floe's catalog plugin's properties (secrets resolved here, at run time)."""
    from floe.plugins.base import PluginType
    from floe.plugins.builtin.compute_spark import SparkComputePlugin

    plugin = plugins.plugin(PluginType.COMPUTE)
    assert isinstance(plugin, SparkComputePlugin)
    if plugin.config.method != "session":
        raise FloeError.single(
            E_THRIFT_RUN,
            "floe run on a Spark Thrift Server is not supported yet (the profile is written; "
            "dbt can run it, floe's write-audit-publish needs the session method)",
            Location("manifest.yaml"),
            field_path="compute_configs.spark.method",
            hint="use method: session with a local[*], spark:// or k8s:// master",
        )
    props = plugins.catalog_properties()
    name = str(props.pop("name", "floe"))
    return SparkTarget(plugin.config.master, name, props, plugin.session_conf())


#: ``run_product`` or its Spark twin: (spec, catalog, invoke) → report.
ProductRunner = Callable[[RunSpec, "Catalog", DbtInvoke], RunReport]


def product_runner(artifacts: Any, plugins: ResolvedPlugins) -> ProductRunner:
    """How the product's compute runs it: on Spark for the spark compute, else on DuckDB
    (:func:`floe.runtime.runner.run_product`)."""
    from floe.runtime.runner import run_product

    if artifacts.plugins["compute"].type != "spark":
        return run_product
    target = spark_target(plugins)

    def run(spec: RunSpec, catalog: Catalog, invoke: DbtInvoke) -> RunReport:
        return run_product_spark(spec, catalog, invoke, target)

    return run
