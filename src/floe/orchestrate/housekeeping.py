"""Per-product Dagster definitions beside the dbt assets: the retention job and its schedule
(FR-031/032), the maintenance job and its schedule (compaction, snapshot expiry, orphan files),
the new-raw-data sensor (FR-033) and the retry policy of the run step.

No ``from __future__ import annotations`` here: Dagster inspects the context annotations.
"""

import hashlib
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import dagster as dg

from floe.errors import FloeError
from floe.runtime.maintenance import TableMaintenance, maintain
from floe.runtime.maintenance_targets import namespace_tables, product_policy
from floe.runtime.resolved import ResolvedPlugins
from floe.runtime.retention import RetentionPolicy, apply_retention
from floe.spec.artifacts import CompiledArtifacts


def retry_policy(artifacts: CompiledArtifacts) -> dg.RetryPolicy | None:
    """The floe.yaml retry policy (None when ``max_retries`` is 0)."""
    retry = artifacts.retry
    if retry.max_retries == 0:
        return None
    backoff = dg.Backoff.EXPONENTIAL if retry.backoff == "exponential" else None
    return dg.RetryPolicy(
        max_retries=retry.max_retries, delay=retry.delay_seconds or None, backoff=backoff
    )


def retention_tables(artifacts: CompiledArtifacts) -> list[str]:
    """Identifiers the retention job cleans (``retention.tables`` or every seed and model)."""
    ns = artifacts.metadata.namespace
    chosen = artifacts.retention.tables
    names = (
        chosen
        if chosen is not None
        else [s.name for s in artifacts.seeds] + [t.name for t in artifacts.transforms]
    )
    return [f"{ns}.{name}" for name in names]


def retention_job(artifacts: CompiledArtifacts, plugins: ResolvedPlugins) -> dg.JobDefinition:
    """``<ns>_retention``: delete rows older than the window, expire surplus snapshots."""
    ns = artifacts.metadata.namespace
    ret = artifacts.retention
    policy = RetentionPolicy(ret.column, ret.window_hours, ret.snapshot_keep_last)

    @dg.op(name=f"{ns}_retention_op", tags={"floe/product": artifacts.metadata.product})
    def clean(context: dg.OpExecutionContext) -> None:
        catalog = plugins.catalog()
        results = apply_retention(
            catalog, retention_tables(artifacts), policy, run_id=context.run.run_id
        )
        for r in results:
            context.log_event(
                dg.AssetObservation(
                    asset_key=dg.AssetKey([ns, r.identifier.rsplit(".", 1)[1]]),
                    metadata={
                        "rows_deleted": r.rows_deleted,
                        "row_count": r.rows_left,
                        "snapshots_expired": r.snapshots_expired,
                        "snapshots_kept": r.snapshots_kept,
                        "files_removed": r.files_removed,
                        "note": r.note or "-",
                    },
                )
            )

    @dg.job(
        name=f"{ns}_retention",
        tags={"floe/product": artifacts.metadata.product},
        executor_def=dg.in_process_executor,
    )
    def job() -> None:
        clean()

    return job


def retention_schedule(
    artifacts: CompiledArtifacts, job: dg.JobDefinition
) -> dg.ScheduleDefinition:
    """The retention job on ``retention.cron`` (running unless ``retention.enabled: false``)."""
    ret = artifacts.retention
    status = dg.DefaultScheduleStatus.RUNNING if ret.enabled else dg.DefaultScheduleStatus.STOPPED
    return dg.ScheduleDefinition(
        name=f"{artifacts.metadata.namespace}_retention_schedule",
        job=job,
        cron_schedule=ret.cron,
        execution_timezone=artifacts.schedule.timezone,
        default_status=status,
    )


def maintenance_job(artifacts: CompiledArtifacts, plugins: ResolvedPlugins) -> dg.JobDefinition:
    """``<ns>_maintenance``: compact small files, expire snapshots, remove orphan files of every
    table of the product's namespace (under the product's lock: never during a run)."""
    ns = artifacts.metadata.namespace
    policy = product_policy(artifacts.maintenance)

    @dg.op(name=f"{ns}_maintenance_op", tags={"floe/product": artifacts.metadata.product})
    def maintain_tables(context: dg.OpExecutionContext) -> None:
        catalog = plugins.catalog()
        work = [(t, policy) for t in namespace_tables(catalog, ns)]

        def report(r: TableMaintenance) -> None:
            context.log.info(maintenance_line(r))
            metadata = {k: v for k, v in asdict(r).items() if k != "identifier"}
            context.log_event(
                dg.AssetObservation(
                    asset_key=dg.AssetKey([ns, r.identifier.rsplit(".", 1)[1]]),
                    metadata={k: -1 if v is None else v for k, v in metadata.items()},
                )
            )

        try:
            maintain(catalog, plugins.home, work, run_id=context.run.run_id, on_table=report)
        except FloeError as exc:
            raise dg.Failure(description=exc.render(), allow_retries=False) from None

    @dg.job(
        name=f"{ns}_maintenance",
        tags={"floe/product": artifacts.metadata.product},
        executor_def=dg.in_process_executor,
    )
    def job() -> None:
        maintain_tables()

    return job


def maintenance_line(r: TableMaintenance) -> str:
    """One log line of what maintenance did to a table."""
    return (
        f"{r.identifier}: data files {r.data_files_before} → {r.data_files_after} "
        f"({r.data_bytes_before} → {r.data_bytes_after} bytes; {r.files_compacted} compacted "
        f"into {r.files_written}), {r.snapshots_expired} snapshots expired, "
        f"{r.orphans_removed} orphan files removed ({r.orphan_bytes_removed} bytes), storage "
        f"{r.storage_files_before} → {r.storage_files_after} files, "
        f"{r.storage_bytes_before} → {r.storage_bytes_after} bytes"
    )


def maintenance_schedule(
    artifacts: CompiledArtifacts, job: dg.JobDefinition
) -> dg.ScheduleDefinition:
    """The maintenance job on ``maintenance.cron`` (running unless ``enabled: false``)."""
    settings = artifacts.maintenance
    running = settings.enabled
    status = dg.DefaultScheduleStatus.RUNNING if running else dg.DefaultScheduleStatus.STOPPED
    return dg.ScheduleDefinition(
        name=f"{artifacts.metadata.namespace}_maintenance_schedule",
        job=job,
        cron_schedule=settings.cron,
        execution_timezone=artifacts.schedule.timezone,
        default_status=status,
    )


def raw_fingerprint(product_dir: Path, artifacts: CompiledArtifacts) -> str:
    """A digest of the product's raw inputs (its seed files' bytes)."""
    digest = hashlib.sha256()
    for seed in sorted(artifacts.seeds, key=lambda s: s.path):
        path = product_dir / seed.path
        digest.update(seed.path.encode())
        digest.update(path.read_bytes() if path.is_file() else b"<missing>")
    return digest.hexdigest()[:16]


def raw_data_sensor(
    artifacts: CompiledArtifacts, product_dir: Path, job: Any
) -> dg.SensorDefinition:
    """``<ns>_raw_data_sensor``: one run per new version of the raw inputs (FR-033).

    The first evaluation only records the current version (the health sensor starts the first
    run); every later change of a seed file's content requests a run keyed by the new digest.
    """
    ns = artifacts.metadata.namespace

    @dg.sensor(
        name=f"{ns}_raw_data_sensor",
        job=job,
        minimum_interval_seconds=15,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def raw_data(context: dg.SensorEvaluationContext) -> Iterator[dg.RunRequest | dg.SkipReason]:
        current = raw_fingerprint(product_dir, artifacts)
        previous = context.cursor
        context.update_cursor(current)
        if previous is None:
            yield dg.SkipReason(f"raw inputs at version {current} (recorded)")
        elif previous == current:
            yield dg.SkipReason(f"raw inputs unchanged ({current})")
        else:
            yield dg.RunRequest(
                run_key=f"{ns}-raw-{current}",
                tags={"floe/trigger": "raw_data", "floe/raw_version": current},
            )

    return raw_data
