"""The OpenLineage events of a run from what the runner reported (models, assets, pipeline)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from floe.observe.column_lineage import cached_column_sources
from floe.observe.dbt_timing import DbtNode
from floe.observe.lineage import (
    Catalog,
    DatasetRef,
    DatasetRefField,
    EventSpec,
    JobRef,
    Output,
    Parent,
    child_run_id,
)

if TYPE_CHECKING:
    from floe.runtime.runner import NodeOutcome

PASSING = {"success", "pass", "warn"}


class RunLineage:
    """Names and links of one run's lineage."""

    def __init__(
        self,
        namespace: str,
        iceberg_ns: str,
        run_id: str,
        catalog: Catalog,
        cache_dir: Path | None = None,
    ) -> None:
        self.cache_dir = cache_dir
        self.namespace = namespace
        self.iceberg_ns = iceberg_ns
        self.run_id = run_id
        self.catalog = catalog
        self.pipeline = JobRef(namespace, f"{iceberg_ns}_job", "DAGSTER", "JOB")

    def table(self, name: str) -> DatasetRef:
        """The product's table ``name`` (or, qualified ``namespace.table``, another's)."""
        if "." in name:
            return self.catalog.dataset(name)
        return self.catalog.dataset(f"{self.iceberg_ns}.{name}")

    def pipeline_event(
        self, state: str, time_ns: int, trace: tuple[str, str] | None, error: str = ""
    ) -> EventSpec:
        """START/COMPLETE/FAIL of the pipeline run."""
        return EventSpec(state, time_ns, self.run_id, self.pipeline, trace, error=error)

    def _model_job(self, name: str, sql: str = "") -> JobRef:
        return JobRef(self.namespace, f"{self.iceberg_ns}.{name}", "DBT", "MODEL", sql)

    def model_start(
        self, unique_id: str, name: str, start_ns: int, inputs: list[str],
        trace: tuple[str, str] | None,
    ) -> EventSpec:  # fmt: skip
        """START of one dbt model (sent as dbt starts it)."""
        return EventSpec("START", start_ns, child_run_id(self.run_id, unique_id),
                         self._model_job(name), trace, Parent(self.run_id, self.pipeline),
                         [self.table(n) for n in inputs])  # fmt: skip

    def model_events(
        self,
        node: DbtNode,
        outcome: NodeOutcome | None,
        context: ModelContext,
        trace: tuple[str, str] | None,
        started: bool = False,
    ) -> list[EventSpec]:
        """START (unless ``started`` already sent it) and COMPLETE/FAIL of one dbt model,
        timed as dbt reports."""
        if node.start_ns is None or node.end_ns is None:
            return []
        start = self.model_start(node.unique_id, node.name, node.start_ns, context.inputs, trace)
        ok = node.status in PASSING
        end = EventSpec("COMPLETE" if ok else "FAIL", node.end_ns, start.run_id,
                        self._model_job(node.name, node.compiled_code), trace, start.parent,
                        start.inputs, [self._model_output(node, outcome, context)],
                        error="" if ok else node.message)  # fmt: skip
        return [end] if started else [start, end]

    def _model_output(
        self, node: DbtNode, outcome: NodeOutcome | None, context: ModelContext
    ) -> Output:
        published = outcome is not None and outcome.publish is not None
        rows = outcome.publish.rows_total if outcome and outcome.publish else None
        out = Output(self.table(node.name), context.columns, rows if published else None,
                     context.assertions)  # fmt: skip
        if node.compiled_code and context.columns:
            sources = cached_column_sources(
                self.cache_dir,
                node.compiled_code,
                [c for c, _ in context.columns],
                context.known_columns,
            )
            out.column_sources = {
                col: [DatasetRefField(self.table(t), f) for t, f in refs]
                for col, refs in sources.items()
            }
        return out

    def asset_events(
        self,
        outcome: NodeOutcome,
        window: tuple[int, int],
        columns: list[tuple[str, str]],
        trace: tuple[str, str] | None,
    ) -> list[EventSpec]:
        """START/COMPLETE of the Dagster asset materialization (the publish to Iceberg)."""
        assert outcome.publish is not None
        job = JobRef(self.namespace, f"{self.iceberg_ns}/{outcome.name}", "DAGSTER", "ASSET")
        run_id = child_run_id(self.run_id, f"asset:{outcome.unique_id}")
        parent = Parent(self.run_id, self.pipeline)
        out = Output(self.table(outcome.name), columns, outcome.publish.rows_total)
        return [
            EventSpec("START", window[0], run_id, job, trace, parent),
            EventSpec("COMPLETE", window[1], run_id, job, trace, parent, outputs=[out]),
        ]


class ModelContext:
    """What a model's events need beyond dbt's result."""

    def __init__(
        self,
        inputs: list[str],
        columns: list[tuple[str, str]],
        assertions: list[tuple[str, bool, str | None]],
        known_columns: dict[str, list[str]],
    ) -> None:
        self.inputs = inputs
        self.columns = columns
        self.assertions = assertions
        self.known_columns = known_columns


def assertions_for(nodes: list[DbtNode]) -> dict[str, list[tuple[str, bool, str | None]]]:
    """model unique_id → its dbt tests as (test, passed, column)."""
    out: dict[str, list[tuple[str, bool, str | None]]] = {}
    for node in nodes:
        if node.resource_type == "test" and node.attached_to and node.status != "skipped":
            item = (node.test_name or node.name, node.status in PASSING, node.column)
            out.setdefault(node.attached_to, []).append(item)
    return out


def inputs_of(
    manifest: dict[str, Any], unique_id: str, sources: Mapping[str, str] | None = None
) -> list[str]:
    """The datasets a node reads: its seeds, models and snapshots by table name (dbt's alias),
    and its sources as ``namespace.table`` — the namespace of the product ``sources`` maps the
    dbt source to, else the source's schema."""
    nodes = manifest.get("nodes", {})
    deps = nodes.get(unique_id, {}).get("depends_on", {}).get("nodes", [])
    out: list[str] = []
    for dep in deps:
        kind = str(dep).split(".", 1)[0]
        if kind in ("model", "seed", "snapshot"):
            node = nodes.get(dep, {})
            out.append(str(node.get("alias") or str(dep).rsplit(".", 1)[-1]))
        elif kind == "source":
            src = manifest.get("sources", {}).get(dep, {})
            name = str(src.get("source_name", ""))
            namespace = (sources or {}).get(name) or str(src.get("schema") or name)
            out.append(f"{namespace}.{src.get('identifier') or src.get('name')}")
    return out
