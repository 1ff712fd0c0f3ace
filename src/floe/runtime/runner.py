"""Run one data product: ``dbt build`` on a scratch DuckDB, audited, then published to Iceberg.

dbt is the specification. One ``dbt build`` of the selected seeds, models and snapshots runs on
a fresh, empty scratch database in which every relation is named exactly as dbt's manifest
names it (custom schemas, aliases, the project's ``generate_schema_name``):

* every published node that this run does not build is a view over its Iceberg table, and
  every ``sources:`` table resolves to its Iceberg table the same way;
* every incremental model and snapshot about to be built is copied in from Iceberg as a real
  table, so ``is_incremental()``, the incremental strategies, ``on_schema_change`` and snapshot
  history see the published state — as in a persistent dbt database.

Then each node that dbt built and whose own tests passed (``severity: warn`` does not block), and
whose declared quality checks pass on its scratch table (the quality plugin, e.g. Great
Expectations), is published; nothing else is (write–audit–publish). A failing test or check
keeps the previous snapshot.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from floe.errors import FloeError, Location
from floe.govern.schema_gate import accepted_changes
from floe.plugins.abcs import QualityPlugin
from floe.plugins.records import CheckResult, QualityCheck
from floe.runtime import progress, scratch
from floe.runtime.crashpoint import crashpoint
from floe.runtime.dbt_graph import DbtGraph, DbtNode, DbtSource
from floe.runtime.home import PlatformHome
from floe.runtime.hooks import NullObserver, Observer
from floe.runtime.product_lock import product_lock
from floe.runtime.publish import CommitConflict, PublishResult, Shape, replace, sync
from floe.runtime.timetravel import resolve_as_of, run_tag, tag_run
from floe.spec.artifacts import CompiledArtifacts
from floe.spec.partitioning import Layout, LayoutError, layout_of

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

#: ``invoke(args, scratch_db, target_dir)`` runs dbt and returns when it has finished.
DbtInvoke = Callable[[list[str], Path, Path], None]

PASSING = {"success", "pass", "warn"}
E_SOURCE_MISSING = "E545"


class TransientError(Exception):
    """A failure that may pass when retried (catalog commit conflict, I/O, network)."""


@dataclass
class NodeOutcome:
    """What happened to one seed or model."""

    unique_id: str
    name: str
    kind: str
    status: str  # published | test_failed | error | skipped | not_run
    message: str = ""
    failed_tests: list[str] = field(default_factory=list)
    publish: PublishResult | None = None
    tests_passed: int = 0
    transient: bool = False
    checks: list[CheckResult] = field(default_factory=list)  # the quality plugin's results


@dataclass
class RunReport:
    """Outcome of a product run."""

    run_id: str
    outcomes: list[NodeOutcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every selected node was published."""
        return all(o.status == "published" for o in self.outcomes)

    @property
    def failed_tests(self) -> list[str]:
        """Names of every failing test."""
        return [t for o in self.outcomes for t in o.failed_tests]

    @property
    def tests_passed(self) -> int:
        """Number of passing tests."""
        return sum(o.tests_passed for o in self.outcomes)


@dataclass(frozen=True)
class RunSpec:
    """What to run."""

    artifacts: CompiledArtifacts
    home: PlatformHome
    run_id: str
    selected: frozenset[str]  # unique ids of seeds and models
    full_refresh: bool = False
    trace_id: str | None = None
    parse_dir: Path | None = None  # where `dbt parse` left partial_parse.msgpack
    project_dir: Path | None = None
    graph: DbtGraph | None = None
    dbt_args: tuple[str, ...] = ()  # e.g. --vars
    source_namespaces: Mapping[str, str] = field(default_factory=dict)  # dbt source → namespace
    scratch_setup: tuple[str, ...] = ()  # statements before reading Iceberg (S3 secret)
    observer: Observer = field(default_factory=NullObserver, compare=False)
    quality: QualityPlugin[Any] | None = field(default=None, compare=False)  # None: dbt's tests

    @property
    def scratch(self) -> Path:
        """The product's scratch database path."""
        return self.home.scratch(self.artifacts.metadata.namespace)


def run_product(spec: RunSpec, catalog: Catalog, invoke: DbtInvoke) -> RunReport:
    """Build, audit and publish the selected nodes."""
    with _product_lock(spec):
        return _run_locked(spec, catalog, invoke)


@contextmanager
def _product_lock(spec: RunSpec) -> Iterator[None]:
    """One run of a product at a time on this platform (they share the scratch path); the
    product's table maintenance takes the same lock. It is the kernel's (``flock``): it dies
    with its holder; the file names the holder (run id, pid) for the one waiting."""
    import os

    lock = spec.home.product_lock(spec.artifacts.metadata.namespace)
    product = spec.artifacts.metadata.product
    with product_lock(
        lock,
        holder=f"run {spec.run_id} (pid {os.getpid()})",
        on_wait=lambda holder: progress.report(
            f"waiting for {holder} of {product} to finish (lock {lock})"
        ),
    ):
        yield


def selected_nodes(spec: RunSpec) -> tuple[DbtGraph, list[DbtNode]]:
    """The product's dbt graph and the selected published nodes, in build order."""
    assert spec.graph is not None, "RunSpec.graph: the dbt manifest of the product"
    graph = spec.graph
    return graph, graph.in_build_order(n for n in graph.published() if n.unique_id in spec.selected)


def _run_locked(spec: RunSpec, catalog: Catalog, invoke: DbtInvoke) -> RunReport:
    report = RunReport(spec.run_id)
    graph, building = selected_nodes(spec)
    if not building:
        return report
    _check_layouts(spec, building)
    bases: dict[str, int] = {}  # table → the snapshot copied in (incremental, snapshots)
    inputs = _inputs(spec, catalog, graph, {n.unique_id for n in building}, bases)
    meta = spec.artifacts.metadata
    claim_namespace(catalog, meta.namespace, meta.product, meta.owner)
    db = spec.scratch
    scratch.prepare(db, inputs, spec.scratch_setup)
    names = sorted(n.name for n in building)
    args = ["build", "--select", " ".join(names), *spec.dbt_args]
    if spec.full_refresh:
        args.append("--full-refresh")
    target = spec.home.runs / spec.run_id / "dbt"
    _seed_partial_parse(spec.parse_dir, target)
    try:
        with spec.observer.phase("build"):
            invoke(args, db, target)
        crashpoint("build")
        report.outcomes = _audit_and_publish(spec, catalog, db, target, graph, building, bases)
    finally:
        scratch.discard(db)
    return report


PRODUCT, OWNER = "floe.product", "floe.owner"
E_NOT_OWNER = "E546"


def claim_namespace(catalog: Catalog, namespace: str, product: str, owner: str) -> None:
    """A product writes only into its own namespace. Product names map one-to-one onto
    namespaces; the namespace records the product and its owner (floe.yaml
    ``metadata.owner``) when first created or claimed, and a run of a product of the same name
    with another owner — another team's product — is refused before anything runs."""
    props = {PRODUCT: product, OWNER: owner}
    catalog.create_namespace_if_not_exists(namespace, properties=props)
    current = catalog.load_namespace_properties(namespace)
    missing = {k: v for k, v in props.items() if k not in current}
    if missing:  # a namespace from before owners were recorded: claim it
        catalog.update_namespace_properties(namespace, updates=missing)
    theirs = (current.get(PRODUCT, product), current.get(OWNER, owner))
    if theirs != (product, owner):
        raise FloeError.single(
            E_NOT_OWNER,
            f"the Iceberg namespace '{namespace}' belongs to product '{theirs[0]}' of "
            f"{theirs[1]}; this product ('{product}' of {owner}) may not write into it",
            Location("floe.yaml"),
            field_path="metadata.name",
            hint="choose another product name; if the product changed hands, set the "
            f"namespace property {OWNER} in the catalog to the new owner",
        )


def _node_location(spec: RunSpec, node: DbtNode) -> Location:
    return Location(str((spec.project_dir or Path()) / node.path))


def node_layout(spec: RunSpec, node: DbtNode) -> Layout:
    """The partition spec and sort order of the node's dbt config (``partition_by``,
    ``sort_by``, as dbt rendered them); an invalid value is E215 at the node's file."""
    try:
        return layout_of(node.config)
    except LayoutError as exc:
        raise FloeError.single(
            exc.code, f"{node.resource_type} '{node.name}': {exc.message}",
            _node_location(spec, node), field_path=exc.key, hint=exc.hint,
        ) from None  # fmt: skip


def _check_layouts(spec: RunSpec, building: list[DbtNode]) -> None:
    """Every layout of this run is valid before anything runs (what compile could not read:
    values set through Jinja)."""
    problems = []
    for node in building:
        try:
            node_layout(spec, node)
        except FloeError as exc:
            problems += exc.diagnostics
    if problems:
        raise FloeError(problems)


def _identifier(spec: RunSpec, node: DbtNode) -> str:
    return f"{spec.artifacts.metadata.namespace}.{node.table_name}"


def _metadata_location(
    catalog: Catalog, identifier: str, bases: dict[str, int] | None = None
) -> str | None:
    """The table's current metadata file (None: no table or no snapshot yet); ``bases``
    records its current snapshot."""
    from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

    try:
        table = catalog.load_table(identifier)
    except (NoSuchTableError, NoSuchNamespaceError):
        return None
    current = table.current_snapshot()
    if current is None:
        return None
    if bases is not None:
        bases[identifier] = current.snapshot_id
    return str(table.metadata_location)


def _inputs(
    spec: RunSpec,
    catalog: Catalog,
    graph: DbtGraph,
    building: set[str],
    bases: dict[str, int],
) -> list[scratch.ScratchInput]:
    """Relations this build reads from Iceberg, named as dbt names them; ``bases`` receives
    the snapshot of each table copied in (its publish must find it still current)."""
    out: list[scratch.ScratchInput] = []
    taken: set[tuple[str, str]] = set()
    for node in graph.published():
        assert node.relation is not None
        rel = node.relation
        taken.add((rel.schema.lower(), rel.identifier.lower()))
        rebuilt = node.unique_id in building
        copy = rebuilt and (node.resource_type == "snapshot" or (
            node.materialization == "incremental" and not spec.full_refresh
        ))  # fmt: skip
        if rebuilt and not copy:
            continue  # dbt builds it from scratch: no catalog lookup
        loc = _metadata_location(catalog, _identifier(spec, node), bases if copy else None)
        if loc is not None:
            out.append(scratch.ScratchInput(
                rel.schema, rel.identifier, loc, copy=copy, table=_identifier(spec, node)
            ))  # fmt: skip
    needed = graph.inputs_of(building)
    missing: list[str] = []
    for source in graph.sources.values():
        rel = source.relation
        if (rel.schema.lower(), rel.identifier.lower()) in taken:
            continue  # the source is a relation this project builds itself
        identifier = source_table(spec, source.source_name, rel.schema, rel.identifier)
        loc = _metadata_location(catalog, identifier)
        if loc is not None:
            at = _source_snapshot(spec, catalog, identifier, source)
            out.append(scratch.ScratchInput(
                rel.schema, rel.identifier, loc, snapshot_id=at, table=identifier
            ))  # fmt: skip
        elif source.unique_id in needed:
            missing.append(f"source('{source.source_name}', '{source.name}') → {identifier}")
    if missing:
        raise FloeError.single(
            E_SOURCE_MISSING,
            "sources read by this run have no Iceberg table: " + "; ".join(sorted(missing)),
            Location(str((spec.project_dir or Path()) / "floe.yaml")),
            field_path="sources",
            hint="run the product that publishes them first, or map the dbt source to the "
            "product that publishes it in floe.yaml (sources: [{name, product}])",
        )
    return out


def _source_snapshot(
    spec: RunSpec, catalog: Catalog, identifier: str, source: DbtSource
) -> int | None:
    """The snapshot a source with ``meta: {floe_as_of: …}`` is read at (None: current)."""
    if source.as_of is None:
        return None
    where = Location(str((spec.project_dir or Path()) / source.path)) if source.path else None
    return resolve_as_of(
        catalog.load_table(identifier), source.as_of, location=where, field_path="meta.floe_as_of"
    )


def source_table(spec: RunSpec, source_name: str, schema: str, identifier: str) -> str:
    """The Iceberg table of a dbt source: its schema is the namespace, unless floe.yaml maps the
    source to a product (that product's namespace)."""
    namespace = spec.source_namespaces.get(source_name, schema)
    return f"{namespace}.{identifier}"


def _audit_and_publish(
    spec: RunSpec,
    catalog: Catalog,
    db: Path,
    target: Path,
    graph: DbtGraph,
    building: list[DbtNode],
    bases: dict[str, int],
) -> list[NodeOutcome]:
    """Read dbt's results, decide what passed its own tests, publish exactly that."""
    results, manifest = _read_results(target)
    outcomes = _audit(results, manifest, building)
    nodes = {n.unique_id: n for n in building}
    with spec.observer.phase("publish"):
        passed = [o for o in outcomes if o.status == "passed"]
        con = scratch.connect(db, spec.scratch_setup) if passed else None
        try:
            if con is not None:
                passed = _check_scratch(spec, con, passed, nodes, graph)
            for outcome in passed:
                assert con is not None
                _publish(spec, catalog, con, outcome, nodes[outcome.unique_id], bases)
                if outcome.status == "published":
                    crashpoint("publish")
        finally:
            if con is not None:
                con.close()
    spec.observer.dbt_results(results, manifest, outcomes)
    return outcomes


def _check_scratch(
    spec: RunSpec,
    con: Any,
    passed: list[NodeOutcome],
    nodes: Mapping[str, DbtNode],
    graph: DbtGraph,
) -> list[NodeOutcome]:
    """Before anything is published, on the scratch tables, what dbt's tests do not check:
    the layout's columns exist (E216; what compile could not check), then the quality
    plugin's checks pass. A node failing either is not published, nor are the nodes built
    on it (as after a failed test). The outcomes still to publish."""
    checks = [_layout_check(spec, con), *quality_checks(spec, lambda n: _read_scratch(con, n))]
    return _gate(passed, nodes, graph, lambda node, o: all(ok(node, o) for ok in checks))


Check = Callable[[DbtNode, NodeOutcome], bool]


def _layout_check(spec: RunSpec, con: Any) -> Check:
    """A node whose ``partition_by``/``sort_by`` names a column dbt did not build: an error."""
    from floe.runtime.layout import check

    def layout_ok(node: DbtNode, outcome: NodeOutcome) -> bool:
        assert node.relation is not None
        columns = scratch.column_names(con, node.relation.schema, node.relation.identifier)
        try:
            check(node_layout(spec, node), columns, _identifier(spec, node),
                  _node_location(spec, node))  # fmt: skip
        except FloeError as exc:
            outcome.status, outcome.message = "error", str(exc)
            progress.report(f"ERROR {exc}")
            return False
        return True

    return layout_ok


def _gate(
    passed: list[NodeOutcome],
    nodes: Mapping[str, DbtNode],
    graph: DbtGraph,
    ok: Check,
) -> list[NodeOutcome]:
    """The outcomes ``ok`` lets through, in build order; a node built on one it stops is
    skipped (not published), as after a failed test."""
    blocked: set[str] = set()
    for outcome in passed:  # build order: parents first
        node = nodes[outcome.unique_id]
        upstream = blocked & graph.inputs_of([node.unique_id])
        if upstream:
            outcome.status = "skipped"
            outcome.message = "an upstream node was not published (" + ", ".join(
                sorted(nodes[u].name for u in upstream)) + ")"  # fmt: skip
            blocked.add(node.unique_id)
        elif not ok(node, outcome):
            blocked.add(node.unique_id)
    return [o for o in passed if o.unique_id not in blocked]


def _read_scratch(con: Any, node: DbtNode) -> Any:
    assert node.relation is not None
    return scratch.read_relation(con, node.relation.schema, node.relation.identifier)


def quality_checks(spec: RunSpec, read: Callable[[DbtNode], Any]) -> list[Check]:
    """The audit beyond dbt's tests: each model's declared checks validated by the quality
    plugin on its built rows (``read``: the node's rows as Arrow — the scratch table on
    DuckDB, the audit branch on Spark); a failed check keeps the model unpublished (status
    ``test_failed``, the check named among its failed tests). None when nothing is declared."""
    declared = spec.artifacts.quality
    plugin = spec.quality
    if not declared or plugin is None:
        return []

    def checks_pass(node: DbtNode, outcome: NodeOutcome) -> bool:
        wanted = declared.get(node.name)
        if not wanted:
            return True
        checks = [QualityCheck(c.type, dict(c.kwargs), c.where) for c in wanted]
        data = read(node)
        with spec.observer.phase("quality", **{"dbt.unique_id": node.unique_id}):
            outcome.checks = plugin.validate(_identifier(spec, node), data, checks)
        failed = [r for r in outcome.checks if not r.success]
        for result in outcome.checks:
            word = "PASS" if result.success else "FAIL"
            progress.report(f"{word} {plugin.name} {result.name} on {node.name}"
                            + (f": {result.detail}" if result.detail else ""))  # fmt: skip
        if not failed:
            return True
        outcome.failed_tests += [r.name for r in failed]
        outcome.status = "test_failed"
        outcome.message = "expectation failed: " + "; ".join(
            f"{r.name} ({r.check.where}) — {r.detail}" for r in failed)  # fmt: skip
        return False

    return [checks_pass]


def _seed_partial_parse(parse_dir: Path | None, target: Path) -> None:
    """Give dbt the parse state of `dbt parse` so it parses only what changed."""
    if parse_dir is None:
        return
    source = parse_dir / "partial_parse.msgpack"
    if source.is_file():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target / source.name)


def _read_results(target: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """dbt's run_results.json and manifest.json of the build (empty when dbt did not write)."""
    results_file = target / "run_results.json"
    if not results_file.is_file():
        return [], {}
    results = json.loads(results_file.read_text())["results"]
    manifest_file = target / "manifest.json"
    manifest = json.loads(manifest_file.read_text()) if manifest_file.is_file() else {}
    return results, manifest


def _tests_by_node(manifest: dict[str, Any]) -> dict[str, list[str]]:
    """test unique_id → the nodes it audits: ``attached_node``, else every parent (a singular
    test over two models blocks both), for data tests and unit tests."""
    out: dict[str, list[str]] = {}
    entries = list(manifest.get("nodes", {}).items()) + list(manifest.get("unit_tests", {}).items())
    for uid, node in entries:
        if node.get("resource_type") not in ("test", "unit_test"):
            continue
        attached = node.get("attached_node")
        parents = list(node.get("depends_on", {}).get("nodes", []))
        out[uid] = [attached] if attached else parents
    return out


def _audit(
    results: list[dict[str, Any]], manifest: dict[str, Any], building: list[DbtNode]
) -> list[NodeOutcome]:
    """Decide per node: passed (publishable), test_failed, error, skipped or not_run."""
    by_id = {r["unique_id"]: r for r in results}
    outcomes: dict[str, NodeOutcome] = {}
    for node in building:
        uid, kind = node.unique_id, node.resource_type
        result = by_id.get(uid)
        if result is None:
            outcomes[uid] = NodeOutcome(uid, node.name, kind, "not_run", "dbt did not run it")
            continue
        status = str(result.get("status"))
        if status == "success":
            outcomes[uid] = NodeOutcome(uid, node.name, kind, "passed")
        elif status == "skipped":
            outcomes[uid] = NodeOutcome(
                uid, node.name, kind, "skipped", "an upstream node or test failed"
            )
        else:
            message = str(result.get("message") or status)
            outcomes[uid] = NodeOutcome(uid, node.name, kind, "error", message)
    tested = {**manifest.get("nodes", {}), **manifest.get("unit_tests", {})}
    for test_id, targets in _tests_by_node(manifest).items():
        result = by_id.get(test_id)
        if result is None:
            continue
        status = str(result.get("status"))
        for target in targets:
            outcome = outcomes.get(target)
            if outcome is None:
                continue
            if status in PASSING:
                outcome.tests_passed += 1
            elif status != "skipped":
                test_name = tested[test_id].get("name", test_id)
                outcome.failed_tests.append(test_name)
                if outcome.status in ("passed", "skipped"):
                    outcome.status = "test_failed"
                    outcome.message = f"test failed: {test_name} — {result.get('message', '')}"
    return [outcomes[n.unique_id] for n in building]


def _publish(
    spec: RunSpec,
    catalog: Catalog,
    con: Any,
    outcome: NodeOutcome,
    node: DbtNode,
    bases: dict[str, int],
) -> None:
    identifier = _identifier(spec, node)
    assert node.relation is not None
    progress.report(f"publishing {node.resource_type} {node.name} → {identifier}")
    try:
        with spec.observer.phase("iceberg.publish", **{"iceberg.table": identifier}):
            rel = node.relation
            diff = None
            if node.keeps_state and not spec.full_refresh:  # the change, computed in DuckDB
                diff = scratch.diff_previous(con, rel.schema, rel.identifier)
            data = diff.added if diff else scratch.read_relation(con, rel.schema, rel.identifier)
            _write(spec, catalog, identifier, data, outcome, node, diff, bases.get(identifier))
    except Exception as exc:  # one table's failure must not hide what else was published
        outcome.status = "error"
        outcome.message = f"publishing {identifier} failed: {exc}"
        outcome.transient = is_transient(exc)
        progress.report(f"ERROR publishing {identifier}: {exc}")
        return
    pub = outcome.publish
    if pub is not None:
        progress.report(
            f"published {identifier}: {pub.mode}, {pub.rows_written} rows written, "
            f"{pub.rows_total} rows, snapshot {pub.snapshot_id}"
        )
    spec.observer.published(outcome, [(f.name, str(f.type)) for f in data.schema])


def is_transient(exc: BaseException) -> bool:
    """Failures worth retrying: I/O, network, catalog commit conflicts — never SQL, a failed
    test, a compilation error or a missing relation (those fail again the same way)."""
    if isinstance(exc, TransientError | CommitConflict | OSError | TimeoutError | ConnectionError):
        return True
    try:
        from pyiceberg.exceptions import CommitFailedException, CommitStateUnknownException
    except ImportError:  # pragma: no cover - pyiceberg is a dependency
        return False
    return isinstance(exc, CommitFailedException | CommitStateUnknownException)


def _snapshot_props(spec: RunSpec, outcome: NodeOutcome) -> dict[str, str]:
    props = {
        "floe.run_id": spec.run_id,
        "floe.product": spec.artifacts.metadata.product,
        "floe.dbt_unique_id": outcome.unique_id,
    }
    if spec.trace_id:
        props["floe.trace_id"] = spec.trace_id
    return props


def _write(
    spec: RunSpec,
    catalog: Catalog,
    identifier: str,
    data: Any,
    outcome: NodeOutcome,
    node: DbtNode,
    diff: scratch.Diff | None = None,
    base: int | None = None,
) -> None:
    """Make the Iceberg table equal to what dbt built: a replace for tables, views and seeds;
    for incremental models and snapshots only the difference is written (append when rows were
    only added, a copy-on-write of the files holding changed or deleted rows otherwise);
    ``diff``: that difference, already computed in the scratch DuckDB (``data`` is then only
    its added rows; ``base``: the snapshot it was copied in at). The run tag goes into the
    publish's own commit: a table is never published without it."""
    accepted = dict(accepted_changes(spec.artifacts.enforcement_result.schema_gate, node.name))
    props, tag = _snapshot_props(spec, outcome), run_tag(spec.run_id)
    shape = Shape(node_layout(spec, node), _node_location(spec, node))
    if node.keeps_state and not spec.full_refresh:
        drop = node.config.get("on_schema_change") == "sync_all_columns"
        outcome.publish = sync(
            catalog, identifier, data, props, accepted, drop_missing=drop, diff=diff, tag=tag,
            base=base, shape=shape,
        )  # fmt: skip
    else:
        outcome.publish = replace(catalog, identifier, data, props, accepted, tag=tag, shape=shape)
    pub = outcome.publish
    if pub.mode == "unchanged" and pub.snapshot_id is not None:  # "as of this run" too
        tag_run(catalog.load_table(identifier), pub.snapshot_id, spec.run_id)
    outcome.status = "published"
