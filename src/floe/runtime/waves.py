"""Engines mixed in one product: the dbt graph built in engine waves.

A product whose transforms name more than one compute (floe.yaml ``transforms[].compute``)
runs as a sequence of **waves**, each one engine's existing runner (DuckDB's
:func:`floe.runtime.runner.run_product`, Spark's
:func:`floe.runtime.spark.runner.run_product_spark`) on its part of the selection, in
topological order. Each wave is write–audit–publish on its own: what an earlier wave built is
a published Iceberg table by the time a later wave reads it, as both runners read every
published node they do not build from the catalog. One run id, one trace, one run record: the
waves share the run's spec (observer included) and one product lock; their outcomes make one
report.

* **Planning** (:func:`plan_waves`): greedy, in build order — a wave takes every node of its
  engine whose parents (built in this run) are placed in an earlier wave or in it; its engine
  is that of the ready node with the most engine switches below it (so a root that can wait
  joins a later wave of its engine instead of costing one more).
* **Tests**: each wave runs with dbt's ``--indirect-selection buildable`` (no test reading a
  node a later wave builds), and a test reading nodes of two waves is selected by name in the
  later one, where all it reads is built (the earlier nodes read through the catalog).
* **Failures**: a node downstream of one an earlier wave did not publish is ``skipped`` and
  left out of its wave, as ``dbt build`` skips what is downstream of a failure.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from floe.runtime import progress
from floe.runtime.dbt_graph import DbtGraph, DbtNode
from floe.runtime.runner import (
    DbtInvoke,
    NodeOutcome,
    RunReport,
    RunSpec,
    _product_lock,
    selected_nodes,
)
from floe.runtime.spark.incremental import ancestors
from floe.spec.artifacts import CompiledArtifacts

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

#: One engine's runner without the product lock (the waves hold it): (spec, catalog, invoke).
EngineRun = Callable[[RunSpec, "Catalog", DbtInvoke], RunReport]


@dataclass(frozen=True)
class Wave:
    """One engine's share of a run: its nodes in build order and the tests selected by name
    (tests reading nodes of an earlier wave too)."""

    engine: str
    nodes: list[DbtNode]
    tests: list[str]


def plan_waves(
    graph: DbtGraph, building: Sequence[DbtNode], engine_of: Callable[[DbtNode], str]
) -> list[Wave]:
    """``building`` (in build order) split into engine waves in topological order: each wave
    is the engine of the ready node (all its parents placed) with the most engine switches
    still ahead of it (ties: the first in build order), and takes every node of that engine
    whose parents are placed in an earlier wave or in it."""
    ids = {n.unique_id for n in building}
    parents = {n.unique_id: graph.inputs_of([n.unique_id]) & ids for n in building}
    engine = {n.unique_id: engine_of(n) for n in building}
    ahead: dict[str, int] = {}  # engine switches on the longest path down from the node
    for node in reversed(building):
        uid = node.unique_id
        ahead.setdefault(uid, 0)
        for parent in parents[uid]:
            switch = ahead[uid] + (engine[parent] != engine[uid])
            ahead[parent] = max(ahead.get(parent, 0), switch)
    placed: dict[str, int] = {}
    remaining = list(building)
    planned: list[tuple[str, list[DbtNode]]] = []
    while remaining:
        ready = [n for n in remaining if parents[n.unique_id] <= placed.keys()]
        first = max(ready, key=lambda n: ahead[n.unique_id])  # max keeps the first of ties
        chosen, number = engine[first.unique_id], len(planned)
        wave: list[DbtNode] = []
        for node in remaining:
            if engine[node.unique_id] == chosen and parents[node.unique_id] <= placed.keys():
                wave.append(node)
                placed[node.unique_id] = number
        planned.append((chosen, wave))
        remaining = [n for n in remaining if n.unique_id not in placed]
    tests: dict[int, list[str]] = {}
    for name, reads in sorted(graph.tests.values()):
        waves_read = {placed[p] for p in reads if p in placed}
        if len(waves_read) > 1:  # across waves: in the last one, where all it reads is built
            tests.setdefault(max(waves_read), []).append(name)
    return [Wave(e, nodes, tests.get(i, [])) for i, (e, nodes) in enumerate(planned)]


def engines_of(artifacts: CompiledArtifacts) -> set[str]:
    """The engines a product's transforms run on (its own compute always among them)."""
    return {t.compute for t in artifacts.transforms} | {artifacts.plugins["compute"].type}


def run_waves(
    spec: RunSpec,
    catalog: Catalog,
    invoke: DbtInvoke,
    runners: Mapping[str, EngineRun],
    targets: Mapping[str, str],
) -> RunReport:
    """Build, audit and publish the selection wave by wave, each on its engine's runner and
    dbt target (``targets``: engine → profile output)."""
    with _product_lock(spec):
        graph, building = selected_nodes(spec)
        report = RunReport(spec.run_id)
        if not building:
            return report
        waves = plan_waves(graph, building, lambda n: spec.artifacts.compute_of(n.name))
        progress.report("engines mixed: " + " → ".join(
            f"{w.engine} ({len(w.nodes)} node{'s' * (len(w.nodes) != 1)})" for w in waves
        ))  # fmt: skip
        upstream = ancestors(graph, [n.unique_id for n in building])
        outcomes: dict[str, NodeOutcome] = {}
        for number, wave in enumerate(waves):
            last = number == len(waves) - 1
            outcomes |= _run_wave(spec, catalog, invoke, runners, targets, wave, number,
                                  upstream, outcomes, last=last)  # fmt: skip
        report.outcomes = [outcomes[n.unique_id] for n in building if n.unique_id in outcomes]
        return report


def _run_wave(
    spec: RunSpec,
    catalog: Catalog,
    invoke: DbtInvoke,
    runners: Mapping[str, EngineRun],
    targets: Mapping[str, str],
    wave: Wave,
    number: int,
    upstream: Mapping[str, set[str]],
    done: Mapping[str, NodeOutcome],
    *,
    last: bool,
) -> dict[str, NodeOutcome]:
    """One wave: the nodes downstream of an unpublished one skipped, the others run."""
    out = held_back(wave.nodes, upstream, done)
    runnable = [n for n in wave.nodes if n.unique_id not in out]
    if not runnable:
        return out
    failed = {uid for uid, o in {**done, **out}.items() if o.status != "published"}
    tests = [t for t in wave.tests if _reads_published(spec, t, failed)]
    extra: list[str] = ["--indirect-selection", "buildable"]
    for test in tests:
        extra += ["--select", test]
    wave_spec = replace(
        spec,
        selected=frozenset(n.unique_id for n in runnable),
        dbt_args=(*spec.dbt_args, *extra),
    )
    target = targets[wave.engine]

    def on_target(args: list[str], db: Path, path: Path) -> None:
        invoke([*args, "--target", target], db, path)

    progress.report(f"wave {number + 1}: {wave.engine}, "
                    + ", ".join(n.name for n in runnable))  # fmt: skip
    with spec.observer.phase("wave", **{"floe.engine": wave.engine,
                                        "floe.wave": str(number + 1)}):  # fmt: skip
        report = runners[wave.engine](wave_spec, catalog, on_target)
    if not last:
        _keep_dbt_dirs(spec, number, wave.engine)
    return out | {o.unique_id: o for o in report.outcomes}


def held_back(
    nodes: Sequence[DbtNode], upstream: Mapping[str, set[str]], done: Mapping[str, NodeOutcome]
) -> dict[str, NodeOutcome]:
    """The nodes of a wave (in build order) built on one that an earlier wave did not publish,
    as ``skipped`` outcomes naming it (``upstream``: every node each reads, directly or not)."""
    known = dict(done)
    out: dict[str, NodeOutcome] = {}
    for node in nodes:
        failed = {uid for uid, o in known.items() if o.status != "published"}
        blocked = upstream[node.unique_id] & failed
        if blocked:
            names = ", ".join(sorted(known[u].name for u in blocked))
            out[node.unique_id] = known[node.unique_id] = NodeOutcome(
                node.unique_id, node.name, node.resource_type, "skipped",
                f"an upstream node was not published ({names})",
            )  # fmt: skip
    return out


def _reads_published(spec: RunSpec, test: str, failed: set[str]) -> bool:
    """A test across waves runs unless a node it reads was not published (dbt skips it)."""
    assert spec.graph is not None
    parents = next((p for name, p in spec.graph.tests.values() if name == test), ())
    return not set(parents) & failed


def _keep_dbt_dirs(spec: RunSpec, number: int, engine: str) -> None:
    """The wave's dbt directories (``runs/<id>/dbt*``) moved under ``wave-<n>-<engine>/`` so
    the next wave's do not overwrite them."""
    runs = spec.home.runs / spec.run_id
    if not runs.is_dir():
        return
    keep = runs / f"wave-{number + 1}-{engine}"
    keep.mkdir(exist_ok=True)
    for path in sorted(runs.glob("dbt*")):
        shutil.move(str(path), str(keep / path.name))
