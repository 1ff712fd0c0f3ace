"""Ingestion with dlt: its verified sources (``rest_api``, ``sql_database``, ``filesystem``)
loaded by a dlt pipeline into the scratch DuckDB (dlt's ``duckdb`` destination).

One pipeline per resource, in a working folder of its own (its local state is thrown away:
floe keeps the incremental cursors in Iceberg and hands them back as each cursor's
``initial_value`` with an open range start, so a run loads only rows beyond the last
published value). dlt always appends into the empty scratch table; the resource's
``write_disposition`` is applied by floe when it publishes. Nested data stays in one table
(``max_table_nesting=0``: nested lists and objects are JSON columns). dlt is imported only
when something is loaded (``floe-platform[ingestion]``); its anonymous telemetry is off.
"""

from __future__ import annotations

import importlib.util
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from floe.errors import FloeError, Location
from floe.plugins.abcs import IngestionPlugin
from floe.plugins.base import HealthState, HealthStatus
from floe.plugins.records import IngestionLoad, IngestionRequest
from floe.spec.ingestion import (
    FileResource,
    FilesystemSource,
    Incremental,
    RestApiSource,
    RestResource,
    SqlDatabaseSource,
    SqlResource,
)

if TYPE_CHECKING:
    from dlt.extract.resource import DltResource

E_NOT_INSTALLED = "E675"
INSTALL = "pip install 'floe-platform[ingestion]'"
#: The file-level cursor of a filesystem resource (dlt's FileItem field).
FILES_CURSOR = "modification_date"


class RetryConfig(BaseModel):
    """Retries of a resource's load after a transient failure."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_retries: int = Field(
        default=2, ge=0, le=10,
        description="Loads retried after a connection error or a timeout (not after an error "
        "the source answered with).",
    )  # fmt: skip
    backoff_seconds: float = Field(
        default=1.0, ge=0, le=60, description="Pause before the first retry, doubled after."
    )


class DltConfig(BaseModel):
    """Settings of the dlt ingestion plugin."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    retry_config: RetryConfig = Field(default_factory=RetryConfig)


class DltIngestionPlugin(IngestionPlugin[DltConfig]):
    """dlt's verified sources into the scratch DuckDB."""

    name: ClassVar[str] = "dlt"
    version: ClassVar[str] = "0.1.0"
    description: ClassVar[str] = "dlt verified sources (rest_api, sql_database, filesystem)"

    def sources(self) -> list[str]:
        """The dlt verified sources floe.yaml may declare."""
        return ["filesystem", "rest_api", "sql_database"]

    def health_check(self) -> HealthStatus:
        """Unhealthy when dlt is not installed (the extra names how to install it)."""
        if importlib.util.find_spec("dlt") is None:
            return HealthStatus(HealthState.UNHEALTHY, f"dlt is not installed: {INSTALL}")
        return HealthStatus(HealthState.HEALTHY, "dlt is installed")

    def load(self, request: IngestionRequest) -> IngestionLoad:
        """Run one dlt pipeline for ``request.resource`` into the scratch database, retried
        after a transient failure (``retry_config``)."""
        retry = self.config.retry_config
        for attempt in range(retry.max_retries + 1):
            try:
                return _load(request, attempt)
            except Exception as exc:
                if attempt == retry.max_retries or not transient(exc):
                    raise
                time.sleep(retry.backoff_seconds * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover


def transient(exc: BaseException) -> bool:
    """A connection error or a timeout anywhere in the exception's chain (dlt wraps what its
    sources raise in its own step errors)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError | TimeoutError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _load(request: IngestionRequest, attempt: int) -> IngestionLoad:
    """One dlt pipeline for the request's resource (a working folder per attempt: nothing of
    a failed attempt is resumed)."""
    dlt = _import_dlt()
    resource, cleanup = _resource(request)
    try:
        pipeline = dlt.pipeline(
            pipeline_name=f"{request.source.name}__{request.resource}",
            pipelines_dir=str(request.workdir / f"attempt-{attempt}"),
            destination=dlt.destinations.duckdb(str(request.database)),
            dataset_name=request.dataset,
        )
        pipeline.run(resource.with_name(request.resource), write_disposition="append")
    finally:
        cleanup()
    counts = pipeline.last_trace.last_normalize_info.row_counts
    return IngestionLoad(
        resource=request.resource,
        relation=request.resource,
        rows=int(counts.get(request.resource, 0)),
        cursors={**request.cursors, **_cursors(pipeline.state)},
    )


def _import_dlt() -> Any:
    """dlt, with its anonymous telemetry off; E675 naming the extra when it is missing."""
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    try:
        import dlt
    except ImportError:
        raise FloeError.single(
            E_NOT_INSTALLED,
            "the 'dlt' ingestion plugin needs dlt, which is not installed",
            Location("manifest.yaml"),
            field_path="plugins.ingestion.type",
            hint=INSTALL,
        ) from None
    return dlt


def _incremental(inc: Incremental, last: Any) -> dict[str, Any]:
    """dlt's incremental arguments: from the published cursor (exclusive), else the
    resource's ``initial_value`` (inclusive)."""
    if last is None:
        return {"cursor_path": inc.cursor, "initial_value": inc.initial_value}
    return {"cursor_path": inc.cursor, "initial_value": last, "range_start": "open"}


def _resource(request: IngestionRequest) -> tuple[DltResource, Any]:
    """The dlt resource of the request and what to close after the load."""
    source = request.source
    res = next(r for r in source.resources if r.name == request.resource)
    if isinstance(source, RestApiSource):
        assert isinstance(res, RestResource)
        return _rest(source, res, request), lambda: None
    if isinstance(source, SqlDatabaseSource):
        assert isinstance(res, SqlResource)
        return _sql(source, res, request)
    assert isinstance(source, FilesystemSource)
    assert isinstance(res, FileResource)
    return _files(source, res, request), lambda: None


def _rest(source: RestApiSource, res: RestResource, request: IngestionRequest) -> DltResource:
    from dlt.sources.rest_api import rest_api_source

    client: dict[str, Any] = {"base_url": source.base_url, "headers": dict(source.headers)}
    if source.token is not None and not isinstance(source.token, str):
        client["auth"] = {
            "type": "bearer",
            "token": request.resolve(source.token).get_secret_value(),
        }
    if source.paginator is not None:
        client["paginator"] = source.paginator
    endpoint: dict[str, Any] = {"path": res.path or res.name, "params": dict(res.params)}
    if res.data_selector:
        endpoint["data_selector"] = res.data_selector
    if res.incremental is not None:
        inc = _incremental(res.incremental, request.cursors.get(res.incremental.cursor))
        if res.incremental.param:
            inc["start_param"] = res.incremental.param
        endpoint["incremental"] = inc
    config: Any = {"client": client, "resources": [{"name": res.name, "endpoint": endpoint}]}
    if res.primary_key:
        config["resources"][0]["primary_key"] = list(res.primary_key)
    api = rest_api_source(config, name=source.name, max_table_nesting=0)
    resource: DltResource = api.resources[res.name]
    return resource


def _sql(
    source: SqlDatabaseSource, res: SqlResource, request: IngestionRequest
) -> tuple[DltResource, Any]:
    import dlt
    import sqlalchemy as sa
    from dlt.sources.sql_database import sql_table

    password = None
    if source.password is not None and not isinstance(source.password, str):
        password = request.resolve(source.password).get_secret_value()
    url = sa.engine.URL.create(
        source.drivername, username=source.username, password=password,
        host=source.host, port=source.port, database=source.database,
    )  # fmt: skip
    engine = sa.create_engine(url)
    incremental = None
    if res.incremental is not None:
        args = _incremental(res.incremental, request.cursors.get(res.incremental.cursor))
        incremental = dlt.sources.incremental(args.pop("cursor_path"), **args)
    resource = sql_table(
        credentials=engine, table=res.table or res.name, schema=source.db_schema,
        incremental=incremental, primary_key=list(res.primary_key),
        reflection_level="full_with_precision",
    )  # fmt: skip
    return resource, engine.dispose


def _files(source: FilesystemSource, res: FileResource, request: IngestionRequest) -> DltResource:
    import dlt
    from dlt.sources.filesystem import filesystem, read_csv_duckdb, read_jsonl, read_parquet

    url = source.bucket_url
    if "://" not in url:
        url = str((request.base_dir / Path(url)).resolve())
    files = None
    if res.incremental_files:
        files = dlt.sources.incremental(
            FILES_CURSOR, **_without_path(_incremental_files(request.cursors.get(FILES_CURSOR)))
        )
    readers: dict[str, Any] = {
        "jsonl": read_jsonl, "csv": read_csv_duckdb, "parquet": read_parquet,
    }  # fmt: skip
    reader = readers[res.format]
    resource: DltResource = (
        filesystem(bucket_url=url, file_glob=res.glob, incremental=files) | reader()
    )
    if res.incremental is not None:
        args = _incremental(res.incremental, request.cursors.get(res.incremental.cursor))
        resource.apply_hints(incremental=dlt.sources.incremental(args.pop("cursor_path"), **args))
    return resource


def _incremental_files(last: Any) -> dict[str, Any]:
    return _incremental(Incremental(cursor=FILES_CURSOR), _as_datetime(last))


def _without_path(args: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in args.items() if k != "cursor_path"}


def _as_datetime(value: Any) -> Any:
    """A modification date published as text, back as the datetime dlt compares with."""
    if isinstance(value, str):
        import pendulum

        return pendulum.parse(value)
    return value


def _cursors(state: Any) -> dict[str, Any]:
    """Every incremental cursor's last value in the pipeline's state (one resource, so one
    value per cursor: a filesystem resource has its files' cursor and maybe a row cursor)."""
    out: dict[str, Any] = {}
    for source in (state.get("sources") or {}).values():
        for resource in (source.get("resources") or {}).values():
            for cursor, entry in (resource.get("incremental") or {}).items():
                if isinstance(entry, dict) and entry.get("last_value") is not None:
                    out[cursor] = entry["last_value"]
    return out
