"""Run one data product on Spark: ``dbt build`` with dbt-spark, audited, published through an
Iceberg audit branch per table (write–audit–publish the Iceberg way).

The same run as on DuckDB (:mod:`floe.runtime.runner`, whose graph, inputs, audit and
namespace claim this module reuses), on a Spark session floe starts (``session``) or on a
Spark Thrift Server over SQL (``thrift``: :mod:`floe.runtime.spark.thrift`), the statements
shared in :mod:`floe.runtime.spark.wap`:

1. **Scratch.** dbt's relations live in Spark's session catalog (``spark_catalog``), named as
   dbt's manifest names them; every published node this run does not build and every source is
   a view over its Iceberg table in floe's catalog (read straight from the catalog, at a
   ``floe_as_of`` snapshot when the source asks for one); incremental models and snapshots
   about to be built are copied in.
2. **Build.** On the ``session`` method the seeds floe reproduces exactly are loaded by floe
   (:mod:`floe.runtime.spark.seeds`), then one ``dbt build --select <nodes>
   --exclude-resource-type test`` (dbt-spark, ``session`` or ``thrift`` method) of the rest:
   models, unit tests, seeds left to dbt.
3. **Write.** Each built node's rows as one snapshot (summary: ``floe.run_id``,
   ``floe.product``, ``floe.dbt_unique_id``, ``floe.trace_id``) on the branch
   ``audit_<run id>`` of its Iceberg table (created when missing, schema evolved by name),
   checked (row count equals what dbt built); dbt's relation becomes a view over the branch.
4. **Audit.** One ``dbt test --select <nodes>``: the data tests read the branches. A node
   passed when dbt built it and its own tests passed (as on DuckDB); one built on a node that
   did not is held back (as ``dbt build`` skips it).
5. **Publish.** ``main`` fast-forwarded to the branch of each passed node (Iceberg's
   ``fast_forward`` procedure), the branch dropped, the snapshot tagged ``run-<run id>``. A
   node that failed its tests keeps ``main`` as it was and its branch for inspection.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from floe.runtime import progress
from floe.runtime.dbt_graph import DbtGraph, DbtNode
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
    selected_nodes,
)
from floe.runtime.scratch import ScratchInput
from floe.runtime.spark.incremental import KeyedMerge, ancestors, merge_by_key, unique_key, waves
from floe.runtime.spark.quality import validate_branches
from floe.runtime.spark.seeds import SeedLoad, load_seeds
from floe.runtime.spark.session import prepare_sqlite, run_session
from floe.runtime.spark.thrift import ThriftServer
from floe.runtime.spark.wap import (
    Branch,
    SessionSql,
    SparkSql,
    audit_branch,
    branch_head,
    count_at,
    drop_branch,
    drop_scratch,
    ensure_table,
    fast_forward,
    point_at_branch,
    q,
    table_ref,
)
from floe.runtime.timetravel import tag_run

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyspark.sql import DataFrame, SparkSession

    from floe.runtime.resolved import ResolvedPlugins

NO_UNIT = ("--exclude-resource-type", "unit_test")  # run by the build, before the model


@dataclass(frozen=True)
class SparkTarget:
    """Where a Spark run runs: the master and extra Spark settings (``session``) or the Thrift
    server (``thrift``), and floe's Iceberg catalog (its name and PyIceberg properties,
    secrets resolved)."""

    master: str
    catalog_name: str
    catalog_props: Mapping[str, str] = field(repr=False)
    conf: Mapping[str, str]
    thrift: ThriftServer | None = None


#: (spec, catalog, node, identifier, base snapshot, merge) → the node's audit branch
WriteBranch = Callable[
    [RunSpec, "Catalog", DbtNode, str, "int | None", "KeyedMerge | None"], Branch
]
#: (scratch schema, relation name, base source, key columns) → the merge by key, if any
MergeByKey = Callable[[str, str, str, list[str]], "KeyedMerge | None"]
#: (the build's seeds, the dbt project) → the seeds floe loaded itself (session method only)
LoadSeeds = Callable[[Sequence[DbtNode], "Path | None"], SeedLoad]


@dataclass(frozen=True)
class Backend:
    """How one run talks to Spark: its SQL, and the two steps that differ between a session
    floe started (DataFrame writes carrying floe's snapshot properties) and a Thrift server
    (SQL writes, floe's properties committed by PyIceberg: :mod:`floe.runtime.spark.thrift`)."""

    sql: SparkSql
    write_branch: WriteBranch
    merge: MergeByKey
    close: Callable[[], None] = lambda: None
    #: None: dbt-spark loads every seed (a Thrift server: floe has no DataFrame writer there)
    load_seeds: LoadSeeds | None = None


def run_product_spark(
    spec: RunSpec, catalog: Catalog, invoke: DbtInvoke, target: SparkTarget
) -> RunReport:
    """Build, audit and publish the selected nodes on Spark."""
    with _product_lock(spec):
        return _run_locked(spec, catalog, invoke, target)


def _run_locked(
    spec: RunSpec, catalog: Catalog, invoke: DbtInvoke, target: SparkTarget
) -> RunReport:
    report = RunReport(spec.run_id)
    graph, building = selected_nodes(spec)
    if not building:
        return report
    bases: dict[str, int] = {}  # table → the snapshot an incremental model's copy was taken at
    inputs = _inputs(spec, catalog, graph, {n.unique_id for n in building}, bases)
    meta = spec.artifacts.metadata
    claim_namespace(catalog, meta.namespace, meta.product, meta.owner)
    backend = _open(spec, target)
    schemas = {n.relation.schema for n in graph.nodes.values() if n.relation is not None}
    schemas |= {s.relation.schema for s in graph.sources.values()}
    try:
        drop_scratch(backend.sql, schemas)
        try:
            _prepare(backend.sql, target.catalog_name, inputs, schemas)
            report.outcomes = _build_audit_publish(spec, catalog, invoke, backend, target,
                                                   building, bases)  # fmt: skip
        finally:
            drop_scratch(backend.sql, schemas)
    finally:
        backend.close()
    return report


def _open(spec: RunSpec, target: SparkTarget) -> Backend:
    """The run's Spark: a new session of the process's Spark, or a connection to the Thrift
    server (whose catalog is checked to be floe's)."""
    if target.thrift is not None:
        from floe.runtime.spark.thrift import open_backend

        server = target.thrift
        prepare_sqlite(target.catalog_name, target.catalog_props)  # a server may share the file
        with spec.observer.phase("spark.thrift", **{"spark.thrift": server.address}):
            opened = open_backend(server, target.catalog_name, spec.artifacts.metadata.namespace)
        return Backend(*opened)
    with spec.observer.phase("spark.session", **{"spark.master": target.master}):
        session = run_session(target.master, target.catalog_name, target.catalog_props,
                              target.conf)  # fmt: skip

    def write(spec: RunSpec, catalog: Catalog, node: DbtNode, identifier: str,
              base: int | None, merged: KeyedMerge | None) -> Branch:  # fmt: skip
        return _write_branch(spec, session, target, node, identifier, base, merged)

    def merge(schema: str, identifier: str, base_source: str, keys: list[str]) -> KeyedMerge | None:
        return merge_by_key(session, schema, identifier, base_source, keys)

    def seeds(nodes: Sequence[DbtNode], project_dir: Path | None) -> SeedLoad:
        return load_seeds(session, nodes, project_dir)

    return Backend(SessionSql(session), write, merge, load_seeds=seeds)


def _build_audit_publish(
    spec: RunSpec,
    catalog: Catalog,
    invoke: DbtInvoke,
    backend: Backend,
    target: SparkTarget,
    building: list[DbtNode],
    bases: Mapping[str, int],
) -> list[NodeOutcome]:
    """Build without the data tests, write every built node to its audit branch, run the data
    tests on the branches, fast-forward ``main`` of the nodes that passed."""
    assert spec.graph is not None
    select = ["--select", " ".join(sorted(n.name for n in building)), *spec.dbt_args]
    runs = spec.home.runs / spec.run_id
    with spec.observer.phase("build"):
        results, manifest, merges = _build(spec, invoke, backend, target, building, bases)
    built = {r["unique_id"] for r in results if r.get("status") == "success"}
    nodes = {n.unique_id: n for n in building}
    branches: dict[str, Branch | str] = {}
    with spec.observer.phase("audit"):
        for node in building:
            if node.unique_id in built:
                base = bases.get(_identifier(spec, node)) if node.keeps_state else None
                branches[node.unique_id] = _to_branch(spec, catalog, backend, node, base,
                                                      merges.get(node.unique_id))  # fmt: skip
        test_args = ["test", *select, *NO_UNIT]
        tested, tests_manifest = (_invoke(invoke, spec, test_args, runs / "dbt-test")
                                  if branches else ([], {}))  # fmt: skip
    manifest = manifest or tests_manifest  # no dbt build when floe loaded every node (seeds)
    outcomes = _audit(results + tested, manifest, building)
    validate_branches(spec, catalog, outcomes, nodes, {
        uid: (b.identifier, b.snapshot_id) for uid, b in branches.items() if isinstance(b, Branch)
    })  # fmt: skip
    _hold_back(outcomes, branches, spec.graph)
    with spec.observer.phase("publish"):
        for outcome in outcomes:
            branch = branches.get(outcome.unique_id)
            if outcome.status == "passed" and isinstance(branch, Branch):
                _publish(spec, catalog, backend.sql, target, outcome, nodes[outcome.unique_id],
                         branch)  # fmt: skip
            elif isinstance(branch, Branch) and outcome.status != "test_failed":
                drop_branch(backend.sql, branch.table, branch.name)  # kept where its tests failed
    spec.observer.dbt_results(results + tested, manifest, outcomes)
    return outcomes


def _build(
    spec: RunSpec,
    invoke: DbtInvoke,
    backend: Backend,
    target: SparkTarget,
    building: list[DbtNode],
    bases: Mapping[str, int],
) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, KeyedMerge]]:
    """``dbt build`` of the nodes without their data tests, in waves around the incremental
    models whose ``unique_key`` floe applies (:mod:`floe.runtime.spark.incremental`): each one
    merged by key before what reads it is built; the seeds floe loads itself first
    (:mod:`floe.runtime.spark.seeds`). dbt's results, manifest and the merges."""
    assert spec.graph is not None
    keys = {} if spec.full_refresh else {
        n.unique_id: k for n in building
        if (k := unique_key(n)) and _identifier(spec, n) in bases
    }  # fmt: skip
    ancestors_of = ancestors(spec.graph, [n.unique_id for n in building])
    results: list[dict[str, Any]] = []
    manifest: dict[str, Any] = {}
    merges: dict[str, KeyedMerge] = {}
    failed: set[str] = set()
    runs = spec.home.runs / spec.run_id
    seeds = [n for n in building if n.resource_type == "seed"]
    seeded = backend.load_seeds(seeds, spec.project_dir) if backend.load_seeds else SeedLoad()
    results += seeded.results
    failed |= seeded.failed
    by_dbt = [n for n in building if n.unique_id not in seeded.handled]
    for number, wave in enumerate(waves(spec.graph, by_dbt, set(keys))):
        held = [n for n in wave if ancestors_of[n.unique_id] & failed]
        results += [{"unique_id": n.unique_id, "status": "skipped"} for n in held]
        failed |= {n.unique_id for n in held}
        wave = [n for n in wave if n not in held]
        if not wave:
            continue
        args = ["build", "--select", " ".join(sorted(n.name for n in wave)), *spec.dbt_args,
                "--exclude-resource-type", "test"]  # fmt: skip
        if spec.full_refresh:
            args.append("--full-refresh")
        done, manifest = _invoke(invoke, spec, args, runs / ("dbt" if not number else
                                                             f"dbt-{number + 1}"))  # fmt: skip
        results += done
        ok = {r["unique_id"] for r in done if r.get("status") == "success"}
        failed |= {n.unique_id for n in wave if n.unique_id not in ok}
        for node in wave:
            if node.unique_id in keys and node.unique_id in ok:
                merged = _merge(spec, backend, target, node, bases, keys[node.unique_id])
                if merged is not None:
                    merges[node.unique_id] = merged
    return results, manifest, merges


def _merge(
    spec: RunSpec,
    backend: Backend,
    target: SparkTarget,
    node: DbtNode,
    bases: Mapping[str, int],
    keys: list[str],
) -> KeyedMerge | None:
    identifier = _identifier(spec, node)
    assert node.relation is not None
    table = f"{q(target.catalog_name)}.{table_ref(identifier)}"
    progress.report(f"merging {node.name} by {', '.join(keys)} (dbt-duckdb's delete+insert)")
    return backend.merge(node.relation.schema, node.relation.identifier,
                         f"{table} VERSION AS OF {int(bases[identifier])}", keys)  # fmt: skip


def _invoke(
    invoke: DbtInvoke, spec: RunSpec, args: list[str], dbt_target: Path
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One dbt invocation into its own target directory; its results and manifest."""
    _seed_partial_parse(spec.parse_dir, dbt_target)
    invoke(args, spec.scratch, dbt_target)
    return _read_results(dbt_target)


def _prepare(
    sql: SparkSql, catalog_name: str, inputs: list[ScratchInput], schemas: set[str]
) -> None:
    """dbt's schemas in the session catalog; a view over (or, ``copy``, a copy of) each Iceberg
    table the build reads, under the name dbt gives it."""
    for schema in sorted(schemas):
        sql.execute(f"CREATE DATABASE IF NOT EXISTS spark_catalog.{q(schema)}")
    for item in inputs:
        source = f"{q(catalog_name)}.{table_ref(item.table)}"
        if item.snapshot_id is not None:
            source += f" VERSION AS OF {int(item.snapshot_id)}"
        kind = "TABLE" if item.copy else "VIEW"
        relation = f"spark_catalog.{q(item.schema)}.{q(item.identifier)}"
        # identifiers quoted by q, the snapshot an int: no text of a user reaches the SQL raw
        sql.execute(f"CREATE {kind} {relation} AS SELECT * FROM {source}")  # noqa: S608  # nosec B608


def _to_branch(
    spec: RunSpec,
    catalog: Catalog,
    backend: Backend,
    node: DbtNode,
    base: int | None,
    merged: KeyedMerge | None = None,
) -> Branch | str:
    """Write the node's built rows to the audit branch of its Iceberg table and point dbt's
    relation at the branch (a view), so that its data tests read the branch. The branch, or
    why it could not be written."""
    identifier = _identifier(spec, node)
    assert node.relation is not None
    relation = f"spark_catalog.{q(node.relation.schema)}.{q(node.relation.identifier)}"
    progress.report(f"writing {node.resource_type} {node.name} → {identifier} (audit branch)")
    try:
        with spec.observer.phase("iceberg.branch", **{"iceberg.table": identifier}):
            branch = backend.write_branch(spec, catalog, node, identifier, base, merged)
            kind = "VIEW" if node.materialization == "view" else "TABLE"
            point_at_branch(backend.sql, relation, kind, branch)
    except Exception as exc:  # one table's failure must not hide the others
        progress.report(f"ERROR writing {identifier} to its audit branch: {exc}")
        return f"writing {identifier} to its audit branch failed: {exc}"
    return branch


def _write_branch(
    spec: RunSpec,
    session: SparkSession,
    target: SparkTarget,
    node: DbtNode,
    identifier: str,
    base: int | None,
    merged: KeyedMerge | None = None,
) -> Branch:
    """Write the node's rows as one snapshot (run id, trace id … in its summary) to the table's
    branch ``audit_<run id>`` and check the branch holds what dbt built. An incremental model
    whose build only added rows to its ``base`` snapshot appends just those (the branch starts
    at ``base``: a ``main`` moved since cannot be fast-forwarded); else the rows replace."""
    from pyspark.sql.functions import lit

    assert node.relation is not None
    relation = f"spark_catalog.{q(node.relation.schema)}.{q(node.relation.identifier)}"
    data = session.table(relation)
    sql = SessionSql(session)
    table = f"{q(target.catalog_name)}.{table_ref(identifier)}"
    branch = audit_branch(spec.run_id)
    rows = data.count()
    columns = [(f.name, f.dataType.simpleString()) for f in data.schema]
    ensure_table(sql, table, columns)
    added = _added_only(session, table, data, base) if base is not None else None
    at = f" AS OF VERSION {int(base)}" if added is not None and base is not None else ""
    sql.execute(f"ALTER TABLE {table} CREATE OR REPLACE BRANCH {q(branch)}{at}")
    rows_out = added if added is not None else data
    writer = rows_out.writeTo(f"{table}.{q('branch_' + branch)}").option("mergeSchema", "true")
    built = NodeOutcome(node.unique_id, node.name, node.resource_type, "passed")
    for key, value in _snapshot_props(spec, built).items():
        writer = writer.option(f"snapshot-property.{key}", value)
    if added is not None:
        writer.append()
    else:
        writer.overwrite(lit(True))
    on_branch = count_at(sql, table, branch)
    if on_branch != rows:
        raise RuntimeError(f"branch {branch} holds {on_branch} rows, dbt built {rows}")
    snapshot = branch_head(sql, table, branch)
    mode, written = "replace", rows
    if added is not None and base is not None:
        mode, written = "append", rows - count_at(sql, table, int(base))
    elif merged is not None:
        mode, written = "merge", merged.batch
    return Branch(identifier, table, branch, snapshot, rows, columns, mode, written,
                  merged.replaced if merged is not None and added is None else 0)  # fmt: skip


def _added_only(session: SparkSession, table: str, data: DataFrame, base: int) -> DataFrame | None:
    """The rows ``data`` has beyond the table at snapshot ``base``, when it only added rows
    to it (same columns, every row of ``base`` still there); else None."""
    previous = session.sql(f"SELECT * FROM {table} VERSION AS OF {int(base)}")  # noqa: S608  # nosec B608
    if [f.name for f in previous.schema] != [f.name for f in data.schema]:
        return None
    if not previous.exceptAll(data).isEmpty():
        return None
    return data.exceptAll(previous)


def _hold_back(
    outcomes: list[NodeOutcome], branches: Mapping[str, Branch | str], graph: DbtGraph
) -> None:
    """A node whose branch could not be written is an error; a node built on one that is not
    published is held back (as dbt build skips what is downstream of a failed test)."""
    blocked: set[str] = set()
    for outcome in outcomes:  # build order: parents first
        branch = branches.get(outcome.unique_id)
        if isinstance(branch, str) and outcome.status == "passed":
            outcome.status, outcome.message = "error", branch
        upstream = blocked & graph.inputs_of([outcome.unique_id])
        if upstream and outcome.status == "passed":
            outcome.status = "skipped"
            outcome.message = "an upstream node or test failed"
        if outcome.status != "passed":
            blocked.add(outcome.unique_id)


def _publish(
    spec: RunSpec,
    catalog: Catalog,
    sql: SparkSql,
    target: SparkTarget,
    outcome: NodeOutcome,
    node: DbtNode,
    branch: Branch,
) -> None:
    """Fast-forward ``main`` to the audited branch, drop the branch, tag the run."""
    identifier = branch.identifier
    progress.report(f"publishing {node.resource_type} {node.name} → {identifier}")
    try:
        with spec.observer.phase("iceberg.publish", **{"iceberg.table": identifier}):
            fast_forward(sql, target.catalog_name, identifier, branch.name)
            drop_branch(sql, branch.table, branch.name)
            tag_run(catalog.load_table(identifier), branch.snapshot_id, spec.run_id)
            outcome.publish = PublishResult(
                identifier,
                branch.mode,
                branch.written,
                branch.rows,
                branch.snapshot_id,
                rows_inserted=branch.written - branch.replaced if branch.mode != "replace" else 0,
                rows_updated=branch.replaced,
            )
            outcome.status = "published"
    except Exception as exc:  # one table's failure must not hide what else was published
        outcome.status = "error"
        outcome.message = f"publishing {identifier} failed: {exc}"
        outcome.transient = is_transient(exc)
        progress.report(f"ERROR publishing {identifier}: {exc}")
        return
    progress.report(
        f"published {identifier}: {branch.mode} through branch {branch.name}, "
        f"{branch.written} rows written, snapshot {branch.snapshot_id}"
    )
    spec.observer.published(outcome, branch.columns)


def spark_target(plugins: ResolvedPlugins) -> SparkTarget:
    """The Spark run settings of the run's plugins: the compute plugin's master and Spark
    settings or its Thrift server, floe's catalog plugin's properties (secrets resolved here,
    at run time)."""
    from floe.plugins.base import PluginType
    from floe.plugins.builtin.compute_spark import SparkComputePlugin

    plugin = plugins.plugin(PluginType.COMPUTE)
    assert isinstance(plugin, SparkComputePlugin)
    props = plugins.catalog_properties()
    name = str(props.pop("name", "floe"))
    thrift = None
    if plugin.config.method == "thrift":
        cfg = plugin.config
        password = plugins.resolve(cfg.password) if cfg.password is not None else None
        thrift = ThriftServer(str(cfg.host), cfg.port, plugin.thrift_user(),
                              cfg.auth_method or "NONE", password)  # fmt: skip
    return SparkTarget(plugin.config.master, name, props, plugin.session_conf(), thrift)


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
