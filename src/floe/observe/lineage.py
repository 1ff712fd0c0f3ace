"""OpenLineage events of a run (openlineage-python models): pipeline, dbt models, assets.

Job namespace: the product (or ``observability.lineage.namespace``). Datasets: namespace
``iceberg://<catalog>``, name ``<iceberg namespace>.<table>`` — the table in the catalog, never
a DuckDB file.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

import attr
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    catalog_dataset,
    column_lineage_dataset,
    data_quality_assertions_dataset,
    error_message_run,
    job_type_job,
    output_statistics_output_dataset,
    parent_run,
    schema_dataset,
    sql_job,
)
from openlineage.client.generated.base import RunFacet

PRODUCER = "https://floe.dev/floe"
TRACE_FACET = "floe_trace"


@attr.define
class TraceRunFacet(RunFacet):
    """The OpenTelemetry span of this run: correlates lineage with traces."""

    traceId: str
    spanId: str
    _additional_skip_redact: ClassVar[list[str]] = ["traceId", "spanId"]

    @staticmethod
    def _get_schema() -> str:
        return "https://floe.dev/spec/facets/1-0-0/TraceRunFacet.json#/$defs/TraceRunFacet"


def iso(ns: int) -> str:
    """Nanoseconds since the epoch as an ISO-8601 UTC timestamp."""
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).isoformat()


def child_run_id(parent: str, name: str) -> str:
    """A stable run id for ``name`` inside run ``parent``."""
    return str(uuid.uuid5(uuid.UUID(parent), name))


@dataclass(frozen=True)
class DatasetRef:
    """An Iceberg table as an OpenLineage dataset."""

    namespace: str
    name: str


@dataclass
class Output:
    """What a job wrote: the table, its columns, rows, tests, and column sources."""

    dataset: DatasetRef
    columns: list[tuple[str, str]] = field(default_factory=list)
    rows: int | None = None
    assertions: list[tuple[str, bool, str | None]] = field(default_factory=list)
    column_sources: dict[str, list[DatasetRefField]] = field(default_factory=dict)


@dataclass(frozen=True)
class DatasetRefField:
    """One upstream column."""

    dataset: DatasetRef
    field: str


@dataclass(frozen=True)
class JobRef:
    """A job and the kind of job it is."""

    namespace: str
    name: str
    integration: str
    job_type: str
    sql: str = ""


@dataclass(frozen=True)
class Parent:
    """The run this run is part of."""

    run_id: str
    job: JobRef


@dataclass(frozen=True)
class Catalog:
    """The Iceberg catalog datasets live in."""

    name: str
    type: str
    warehouse: str | None = None

    def dataset(self, table: str) -> DatasetRef:
        """``iceberg://<catalog>`` / ``<namespace>.<table>``."""
        return DatasetRef(f"iceberg://{self.name}", table)

    def facet(self) -> catalog_dataset.CatalogDatasetFacet:
        """The catalog facet of a dataset."""
        return catalog_dataset.CatalogDatasetFacet(
            framework="iceberg", type=self.type, name=self.name,
            warehouseUri=self.warehouse, source="floe", producer=PRODUCER,
        )  # fmt: skip


def _job(ref: JobRef) -> Job:
    facets: dict[str, Any] = {
        "jobType": job_type_job.JobTypeJobFacet(
            processingType="BATCH",
            integration=ref.integration,
            jobType=ref.job_type,
            producer=PRODUCER,
        )
    }
    if ref.sql:
        facets["sql"] = sql_job.SQLJobFacet(query=ref.sql, dialect="duckdb", producer=PRODUCER)
    return Job(namespace=ref.namespace, name=ref.name, facets=facets)


def _output(out: Output, catalog: Catalog) -> OutputDataset:
    facets: dict[str, Any] = {"catalog": catalog.facet()}
    if out.columns:
        facets["schema"] = schema_dataset.SchemaDatasetFacet(
            fields=[
                schema_dataset.SchemaDatasetFacetFields(name=n, type=t) for n, t in out.columns
            ],
            producer=PRODUCER,
        )
    if out.column_sources:
        facets["columnLineage"] = _column_lineage(out.column_sources)
    if out.assertions:
        facets["dataQualityAssertions"] = _assertions(out.assertions)
    output_facets: dict[str, Any] = {}
    if out.rows is not None:
        output_facets["outputStatistics"] = (
            output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
                rowCount=out.rows, producer=PRODUCER
            )
        )
    return OutputDataset(
        namespace=out.dataset.namespace, name=out.dataset.name, facets=facets,
        outputFacets=output_facets,
    )  # fmt: skip


def _column_lineage(
    sources: dict[str, list[DatasetRefField]],
) -> column_lineage_dataset.ColumnLineageDatasetFacet:
    cl = column_lineage_dataset
    return cl.ColumnLineageDatasetFacet(
        fields={
            col: cl.Fields(
                inputFields=[
                    cl.InputField(namespace=s.dataset.namespace, name=s.dataset.name, field=s.field)
                    for s in refs
                ]
            )
            for col, refs in sources.items()
        },
        producer=PRODUCER,
    )


def _assertions(
    items: list[tuple[str, bool, str | None]],
) -> data_quality_assertions_dataset.DataQualityAssertionsDatasetFacet:
    dq = data_quality_assertions_dataset
    return dq.DataQualityAssertionsDatasetFacet(
        assertions=[dq.Assertion(assertion=a, success=ok, column=c) for a, ok, c in items],
        producer=PRODUCER,
    )


@dataclass
class EventSpec:
    """Everything one run event says."""

    state: str  # START | COMPLETE | FAIL
    time_ns: int
    run_id: str
    job: JobRef
    trace: tuple[str, str] | None
    parent: Parent | None = None
    inputs: list[DatasetRef] = field(default_factory=list)
    outputs: list[Output] = field(default_factory=list)
    error: str = ""


def run_event(spec: EventSpec, catalog: Catalog) -> RunEvent:
    """The OpenLineage RunEvent for ``spec``."""
    facets: dict[str, Any] = {}
    if spec.trace is not None:
        facets[TRACE_FACET] = TraceRunFacet(
            traceId=spec.trace[0], spanId=spec.trace[1], producer=PRODUCER
        )
    if spec.parent is not None:
        facets["parent"] = parent_run.ParentRunFacet(
            run=parent_run.Run(runId=spec.parent.run_id),
            job=parent_run.Job(namespace=spec.parent.job.namespace, name=spec.parent.job.name),
            producer=PRODUCER,
        )
    if spec.error:
        facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
            message=spec.error, programmingLanguage="SQL", producer=PRODUCER
        )
    return RunEvent(
        eventType=RunState[spec.state],
        eventTime=iso(spec.time_ns),
        run=Run(runId=spec.run_id, facets=facets),
        job=_job(spec.job),
        inputs=[InputDataset(namespace=d.namespace, name=d.name) for d in spec.inputs],
        outputs=[_output(o, catalog) for o in spec.outputs],
        producer=PRODUCER,
    )
