"""Run one data product: dbt on a scratch DuckDB, audited, then published to Iceberg.

Two phases, each on a fresh, empty scratch database:

1. **seeds** — ``dbt build`` of the selected seeds and their tests; each seed whose tests pass
   is published (replace).
2. **models** — every input not built now is a view over its Iceberg table; selected
   incremental models are copied in from Iceberg; ``dbt build`` runs the selected models with
   their tests (dbt skips everything downstream of a failure); each model whose own tests pass
   is published (replace, or merge on ``unique_key`` for incremental models).

Nothing is published that did not pass its tests (write–audit–publish); a failing test keeps
the previous snapshot of its table.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from floe.govern.schema_gate import accepted_changes
from floe.runtime import scratch
from floe.runtime.home import PlatformHome
from floe.runtime.hooks import NullObserver, Observer
from floe.runtime.publish import PublishResult, merge, replace
from floe.spec.artifacts import CompiledArtifacts

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

#: ``invoke(args, scratch_db, target_dir)`` runs dbt and returns when it has finished.
DbtInvoke = Callable[[list[str], Path, Path], None]

PASSING = {"success", "pass", "warn"}


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
    seed_config: dict[str, dict[str, Any]] = field(default_factory=dict)
    scratch_setup: tuple[str, ...] = ()  # statements before reading Iceberg (S3 secret)
    observer: Observer = field(default_factory=NullObserver, compare=False)

    @property
    def scratch(self) -> Path:
        """The product's scratch database path."""
        return self.home.scratch(self.artifacts.metadata.namespace)


def run_product(spec: RunSpec, catalog: Catalog, invoke: DbtInvoke) -> RunReport:
    """Execute both phases and publish what passed."""
    with _product_lock(spec):
        return _run_locked(spec, catalog, invoke)


@contextmanager
def _product_lock(spec: RunSpec) -> Iterator[None]:
    """One run of a product at a time on this platform (they share the scratch path)."""
    import fcntl

    lock = spec.scratch.with_suffix(".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run_locked(spec: RunSpec, catalog: Catalog, invoke: DbtInvoke) -> RunReport:
    report = RunReport(spec.run_id)
    run_dir = spec.home.runs / spec.run_id
    seeds = [s for s in spec.artifacts.seeds if s.unique_id in spec.selected]
    models = [t for t in spec.artifacts.transforms if t.unique_id in spec.selected]
    if seeds:
        report.outcomes += _seed_phase(spec, catalog, invoke, run_dir / "seeds", seeds)
    if models:
        views, copies = _inputs(spec, catalog, {m.name for m in models})
        kinds = {m.unique_id: ("model", list(m.unique_key), m.materialization) for m in models}
        report.outcomes += _phase(
            spec, catalog, invoke, run_dir / "models", [m.name for m in models],
            views=views, copies=copies, kinds=kinds,
        )  # fmt: skip
    return report


def _seed_phase(
    spec: RunSpec, catalog: Catalog, invoke: DbtInvoke, workdir: Path, seeds: list[Any]
) -> list[NodeOutcome]:
    """Load the seed CSVs with DuckDB's CSV reader, audit them with their dbt tests, publish.

    Same result as ``dbt seed`` for the configured ``column_types`` and ``delimiter``, at the
    speed of DuckDB's parallel reader instead of dbt's row-by-row loader.
    """
    db = spec.scratch
    scratch.prepare(db, {}, {})
    kinds: dict[str, tuple[str, list[str], str]] = {
        s.unique_id: ("seed", [], "table") for s in seeds
    }
    loaded: list[NodeOutcome] = []
    root = spec.project_dir or Path()
    obs = spec.observer
    with obs.phase("seed"):
        for seed in seeds:
            cfg = spec.seed_config.get(seed.unique_id, {})
            try:
                with obs.phase("seed.load", **{"dbt.unique_id": seed.unique_id}):
                    scratch.load_csv(db, seed.name, root / seed.path,
                                     dict(cfg.get("column_types") or {}),
                                     str(cfg.get("delimiter") or ","))  # fmt: skip
            except ValueError as exc:
                loaded.append(NodeOutcome(seed.unique_id, seed.name, "seed", "error", str(exc)))
    failed = {o.unique_id for o in loaded}
    good = [s.name for s in seeds if s.unique_id not in failed]
    target = workdir / "target"
    _seed_partial_parse(spec.parse_dir, target)
    try:
        if good:
            with obs.phase("test"):
                invoke(["test", "--select", " ".join(sorted(good))], db, target)
        loaded_ok = [{"unique_id": s.unique_id, "status": "success"} for s in seeds
                     if s.unique_id not in failed]  # fmt: skip
        outcomes = _audit_and_publish(spec, catalog, db, target, kinds, loaded_ok)
        outcomes = [o for o in outcomes if o.unique_id not in failed]
    finally:
        scratch.discard(db)
    return loaded + outcomes


def _identifier(spec: RunSpec, name: str) -> str:
    return f"{spec.artifacts.metadata.namespace}.{name}"


def _metadata_location(catalog: Catalog, identifier: str) -> str | None:
    from pyiceberg.exceptions import NoSuchTableError

    try:
        table = catalog.load_table(identifier)
    except NoSuchTableError:
        return None
    return str(table.metadata_location) if table.current_snapshot() is not None else None


def _inputs(
    spec: RunSpec, catalog: Catalog, building: set[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """Views for what this phase reads but does not build; copies for incremental targets."""
    views: dict[str, str] = {}
    copies: dict[str, str] = {}
    for seed in spec.artifacts.seeds:
        loc = _metadata_location(catalog, _identifier(spec, seed.name))
        if loc:
            views[seed.name] = loc
    for model in spec.artifacts.transforms:
        loc = _metadata_location(catalog, _identifier(spec, model.name))
        if not loc:
            continue
        if model.name not in building:
            views[model.name] = loc
        elif model.materialization == "incremental" and not spec.full_refresh:
            copies[model.name] = loc
    return views, copies


def _phase(
    spec: RunSpec,
    catalog: Catalog,
    invoke: DbtInvoke,
    workdir: Path,
    names: list[str],
    *,
    views: dict[str, str],
    copies: dict[str, str],
    kinds: dict[str, tuple[str, list[str], str]],
) -> list[NodeOutcome]:
    db = spec.scratch
    scratch.prepare(db, views, copies, spec.scratch_setup)
    args = ["build", "--select", " ".join(sorted(names))]
    if spec.full_refresh:
        args.append("--full-refresh")
    target = workdir / "target"
    _seed_partial_parse(spec.parse_dir, target)
    try:
        with spec.observer.phase("build"):
            invoke(args, db, target)
        outcomes = _audit_and_publish(spec, catalog, db, target, kinds, [])
    finally:
        scratch.discard(db)
    return outcomes


def _audit_and_publish(
    spec: RunSpec,
    catalog: Catalog,
    db: Path,
    target: Path,
    kinds: dict[str, tuple[str, list[str], str]],
    extra_results: list[dict[str, Any]],
) -> list[NodeOutcome]:
    """Read dbt's results, decide what passed its own tests, publish exactly that."""
    results, manifest = _read_results(target)
    outcomes = _audit(results + extra_results, manifest, kinds)
    with spec.observer.phase("publish"):
        for outcome in outcomes:
            if outcome.status == "passed":
                _publish(spec, catalog, db, outcome, kinds[outcome.unique_id])
    spec.observer.dbt_results(results, manifest, outcomes)
    return outcomes


def _seed_partial_parse(parse_dir: Path | None, target: Path) -> None:
    """Give dbt the parse state of `dbt parse` so it parses only what changed."""
    if parse_dir is None:
        return
    source = parse_dir / "partial_parse.msgpack"
    if source.is_file():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target / source.name)


def _read_results(target: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    results_file = target / "run_results.json"
    if not results_file.is_file():
        return [], {}
    results = json.loads(results_file.read_text())["results"]
    manifest_file = target / "manifest.json"
    manifest = json.loads(manifest_file.read_text()) if manifest_file.is_file() else {}
    return results, manifest


def _tests_by_node(manifest: dict[str, Any]) -> dict[str, str]:
    """test unique_id → the node it audits (``attached_node``, else its single parent)."""
    out: dict[str, str] = {}
    for uid, node in manifest.get("nodes", {}).items():
        if node.get("resource_type") != "test":
            continue
        attached = node.get("attached_node")
        parents = node.get("depends_on", {}).get("nodes", [])
        target = attached or (parents[0] if len(parents) == 1 else None)
        if target:
            out[uid] = target
    return out


def _audit(
    results: list[dict[str, Any]],
    manifest: dict[str, Any],
    kinds: dict[str, tuple[str, list[str], str]],
) -> list[NodeOutcome]:
    """Decide per node: passed (publishable), test_failed, error, skipped or not_run."""
    by_id = {r["unique_id"]: r for r in results}
    audits = _tests_by_node(manifest)
    outcomes: dict[str, NodeOutcome] = {}
    for uid, (kind, _, _) in kinds.items():
        result = by_id.get(uid)
        name = uid.rsplit(".", 1)[-1]
        if result is None:
            outcomes[uid] = NodeOutcome(uid, name, kind, "not_run", "dbt did not run it")
            continue
        status = str(result.get("status"))
        if status == "success":
            outcomes[uid] = NodeOutcome(uid, name, kind, "passed")
        elif status == "skipped":
            outcomes[uid] = NodeOutcome(
                uid, name, kind, "skipped", "an upstream model or test failed"
            )
        else:
            outcomes[uid] = NodeOutcome(uid, name, kind, "error", str(result.get("message", "")))
    for test_id, target in audits.items():
        outcome = outcomes.get(target)
        result = by_id.get(test_id)
        if outcome is None or result is None:
            continue
        if str(result.get("status")) in PASSING:
            outcome.tests_passed += 1
        elif str(result.get("status")) != "skipped":
            test_name = manifest["nodes"][test_id].get("name", test_id)
            outcome.failed_tests.append(test_name)
            if outcome.status == "passed":
                outcome.status = "test_failed"
                outcome.message = f"test failed: {test_name} — {result.get('message', '')}"
    return [outcomes[uid] for uid in kinds if uid in outcomes]


def _publish(
    spec: RunSpec,
    catalog: Catalog,
    db: Path,
    outcome: NodeOutcome,
    kind: tuple[str, list[str], str],
) -> None:
    _, unique_key, materialization = kind
    identifier = _identifier(spec, outcome.name)
    with spec.observer.phase("iceberg.publish", **{"iceberg.table": identifier}):
        data = scratch.read_relation(db, outcome.name, spec.scratch_setup)
        _write(spec, catalog, identifier, data, outcome, unique_key, materialization,
               _snapshot_props(spec, outcome))  # fmt: skip
    spec.observer.published(outcome, [(f.name, str(f.type)) for f in data.schema])


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
    unique_key: list[str],
    materialization: str,
    props: dict[str, str],
) -> None:
    accepted = accepted_changes(spec.artifacts.enforcement_result.schema_gate, outcome.name)
    if materialization == "incremental" and unique_key and not spec.full_refresh:
        outcome.publish = merge(catalog, identifier, data, unique_key, props, accepted)
    else:
        outcome.publish = replace(catalog, identifier, data, props, accepted)
    outcome.status = "published"
