"""Dagster definitions of one data product, from its compiled artifacts and dbt project.

One asset per dbt seed, model and snapshot (dagster-dbt ``@dbt_assets``), keyed
``[namespace, name]``, grouped by tier. Materializing an asset means: built by dbt, audited by
its tests, published to Iceberg — the metadata carries row count, table identifier and
snapshot id.
"""

from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    dbt_assets,
)

from floe.errors import FloeError
from floe.orchestrate.dbt_manifest import dbt_args, ensure_manifest
from floe.orchestrate.housekeeping import (
    maintenance_job,
    maintenance_schedule,
    raw_data_sensor,
    retention_job,
    retention_schedule,
    retry_policy,
)
from floe.orchestrate.ingestion import ingestion_assets
from floe.orchestrate.materialize import materializations
from floe.plugins.builtin.compute_duckdb import SCRATCH_ENV
from floe.runtime.dbt_exec import DbtProjectRef, run_dbt
from floe.runtime.dbt_graph import DbtGraph, check_graph, load_graph
from floe.runtime.engines import product_runner
from floe.runtime.home import PlatformHome
from floe.runtime.resolved import ResolvedPlugins
from floe.runtime.runner import RunReport, RunSpec, TransientError, is_transient
from floe.runtime.spark.runner import ProductRunner
from floe.spec.artifacts import CompiledArtifacts


class FloeTranslator(DagsterDbtTranslator):
    """Asset keys namespaced by product, groups by tier, descriptions from the dbt project.

    Seeds, models and snapshots are ``[namespace, name]``. A source is the asset of the Iceberg
    table it reads, ``[namespace, table]`` — another product's asset when it maps to that
    product — unless that key is one of this product's own nodes (then it is
    ``[namespace, "source", source_name, table]``).
    """

    def __init__(self, artifacts: CompiledArtifacts, graph: DbtGraph | None = None) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=False))
        self._ns = artifacts.metadata.namespace
        self._tiers = {t.name: t.tier for t in artifacts.transforms}
        self._sources = artifacts.source_namespaces()
        nodes = graph.nodes.values() if graph else ()
        self._own = {(self._ns, n.name) for n in nodes}
        self._artifacts = artifacts

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: Any
    ) -> dg.AssetSpec:
        """dagster-dbt's spec, whose kind and ``floe/compute`` metadata name the engine that
        builds the node (floe.yaml ``transforms[].compute``, else the product's), not the
        adapter the manifest was parsed with."""
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = manifest.get("nodes", {}).get(unique_id)
        if props is None:  # a source: another product's table
            return spec
        engine = self._artifacts.compute_of(str(props["name"]))
        adapter = manifest.get("metadata", {}).get("adapter_type")
        kinds = {k for k in spec.kinds if k != adapter} | {"dbt", engine}
        return spec.replace_attributes(
            kinds=kinds, metadata={**spec.metadata, "floe/compute": engine}
        )

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        """``[namespace, name]``; sources: the key of the Iceberg table they read."""
        name = str(dbt_resource_props["name"])
        if dbt_resource_props.get("resource_type") != "source":
            return dg.AssetKey([self._ns, name])
        source = str(dbt_resource_props["source_name"])
        ns = self._sources.get(source, str(dbt_resource_props.get("schema") or source))
        table = str(dbt_resource_props.get("identifier") or name)
        if (ns, table) in self._own or (ns, name) in self._own:
            return dg.AssetKey([self._ns, "source", source, table])
        return dg.AssetKey([ns, table])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        """``<namespace>_<tier>`` for models, ``_raw`` for seeds, ``_snapshots`` for snapshots."""
        if dbt_resource_props.get("resource_type") == "snapshot":
            return f"{self._ns}_snapshots"
        tier = self._tiers.get(str(dbt_resource_props["name"]), "raw")
        return f"{self._ns}_{tier}"


def load_artifacts(compiled_dir: Path) -> CompiledArtifacts:
    """Read compiled_artifacts.json."""
    return CompiledArtifacts.model_validate_json(
        (compiled_dir / "compiled_artifacts.json").read_text(encoding="utf-8")
    )


#: Run tags of a run of a registry artifact: its digest and environment (written into the
#: run record, the evidence of promotion's source-run gate).
DIGEST_TAG, ENVIRONMENT_TAG = "floe/artifact_digest", "floe/environment"


def build_definitions(
    product_dir: Path,
    compiled_dir: Path,
    home: PlatformHome,
    artifacts: CompiledArtifacts | None = None,
    plugins: ResolvedPlugins | None = None,
    job_tags: Mapping[str, str] | None = None,
) -> dg.Definitions:
    """Definitions for one product (assets, the product job, the dbt resource); ``artifacts``
    in memory when the caller just compiled them, else read from ``compiled_dir``;
    ``plugins`` the platform's plugins resolved once (else resolved here, once); ``job_tags``
    added to the product job's tags (an environment's code location: the digest it serves)."""
    artifacts = artifacts or load_artifacts(compiled_dir)
    plugins = plugins or ResolvedPlugins(artifacts.plugins, home)
    scratch_db = home.scratch(artifacts.metadata.namespace)
    access = plugins.duckdb_access
    lock = home.product_lock(artifacts.metadata.namespace)
    manifest_path = ensure_manifest(
        product_dir, compiled_dir, artifacts, scratch_db, access.env, lock
    )
    manifest = json_load(manifest_path)
    graph = load_graph(manifest)
    check_graph(graph, str(product_dir), scratch_db.stem)
    translator = FloeTranslator(artifacts, graph)
    dbt_ref = DbtProjectRef(product_dir, compiled_dir, artifacts.dbt.target)
    ns = artifacts.metadata.namespace
    key_to_uid = {dg.AssetKey([ns, n.name]): uid for uid, n in graph.nodes.items()}

    @dbt_assets(
        manifest=manifest,
        dagster_dbt_translator=translator,
        name=f"{ns}_dbt",
        retry_policy=retry_policy(artifacts),
    )
    def product_assets(context: AssetExecutionContext) -> Iterator[Any]:
        selected = frozenset(key_to_uid[k] for k in context.selected_asset_keys)
        spec = RunSpec(
            artifacts=artifacts,
            home=home,
            run_id=context.run.run_id,
            selected=selected,
            full_refresh=bool(context.run.tags.get("floe/full_refresh") == "true"),
            parse_dir=manifest_path.parent,
            project_dir=product_dir,
            graph=graph,
            dbt_args=dbt_args(artifacts),
            source_namespaces=artifacts.source_namespaces(),
            scratch_setup=access.setup,
            quality=plugins.quality if artifacts.quality else None,
        )

        def invoke(args: list[str], db: Path, target: Path) -> None:
            run_dbt(dbt_ref, args, target, {**access.env, SCRATCH_ENV: str(db)}, plugins.dbt)

        from floe.observe.observer import observe_run  # at run time: loading stays light

        # traces, lineage, the run record
        with observe_run(artifacts, home, context.run.run_id, plugins) as obs:
            spec = replace(spec, trace_id=obs.trace_id, observer=obs)
            runner = product_runner(artifacts, plugins)  # DuckDB, Spark or both, by the compute
            report = _run(runner, spec, plugins, invoke)
            obs.finish(report)
        _provenance(home, context.run.run_id, context.run.tags)
        yield from _materializations(report, ns)
        if not report.ok:
            _alert(artifacts, plugins, report)
        _raise_on_failure(report, artifacts.metadata.product)

    raw = ingestion_assets(artifacts, home, product_dir, plugins, retry_policy(artifacts))
    # one step (dbt runs the graph; ingestion, when declared, one step before it): executing
    # them in the run worker saves a process per run
    job = dg.define_asset_job(
        f"{ns}_job",
        selection=dg.AssetSelection.assets(*raw, product_assets),
        executor_def=dg.in_process_executor,
        tags={"floe/product": artifacts.metadata.product, **(job_tags or {})},
    )
    schedule = _schedule(artifacts, job)
    sensor = _health_sensor(
        artifacts,
        plugins,
        job,
        [
            translator.get_asset_key(n)
            for n in manifest["nodes"].values()
            if n.get("resource_type") == "model"
        ],
    )
    cleanup = retention_job(artifacts, plugins)
    upkeep = maintenance_job(artifacts, plugins)
    return dg.Definitions(
        assets=[*raw, product_assets],
        jobs=[job, cleanup, upkeep],
        schedules=[
            schedule,
            retention_schedule(artifacts, cleanup),
            maintenance_schedule(artifacts, upkeep),
        ],
        sensors=[sensor, raw_data_sensor(artifacts, product_dir, job)],
    )


def _schedule(artifacts: CompiledArtifacts, job: Any) -> dg.ScheduleDefinition:
    """The floe.yaml schedule (default */10 * * * *); `enabled: false` leaves it stopped."""
    sched = artifacts.schedule
    status = dg.DefaultScheduleStatus.RUNNING if sched.enabled else dg.DefaultScheduleStatus.STOPPED
    return dg.ScheduleDefinition(
        name=f"{artifacts.metadata.namespace}_schedule",
        job=job,
        cron_schedule=sched.cron,
        execution_timezone=sched.timezone,
        default_status=status,
    )


def _health_sensor(
    artifacts: CompiledArtifacts, plugins: ResolvedPlugins, job: Any, models: list[dg.AssetKey]
) -> dg.SensorDefinition:
    """Starts the first run as soon as every platform check passes and nothing of the product
    was materialized yet (FR-029)."""
    from floe.runtime.platform import check_platform

    ns = artifacts.metadata.namespace

    @dg.sensor(
        name=f"{ns}_health_sensor",
        job=job,
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def health(context: dg.SensorEvaluationContext) -> Iterator[dg.RunRequest | dg.SkipReason]:
        done = [k for k in models if context.instance.get_latest_materialization_event(k)]
        if done:
            yield dg.SkipReason(f"{len(done)} of {len(models)} models already materialized")
            return
        failing = [c for c in check_platform(plugins, create=False)
                   if not c.ok]  # fmt: skip
        if failing:
            yield dg.SkipReason("platform not healthy: " + "; ".join(
                f"{c.name}: {c.detail}" for c in failing))  # fmt: skip
            return
        yield dg.RunRequest(run_key=f"{ns}-first-run", tags={"floe/trigger": "health"})

    return health


def json_load(path: Path) -> dict[str, Any]:
    """Read a JSON file."""
    import json

    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _materializations(report: RunReport, ns: str) -> Iterator[dg.MaterializeResult[Any]]:
    return materializations(report.outcomes, ns, lambda outcome: {
        "tests_passed": dg.MetadataValue.int(outcome.tests_passed),
        "checks_passed": dg.MetadataValue.int(sum(r.success for r in outcome.checks)),
        "dbt_unique_id": dg.MetadataValue.text(outcome.unique_id),
    })  # fmt: skip


def _alert(artifacts: CompiledArtifacts, plugins: ResolvedPlugins, report: RunReport) -> None:
    """Tell the alert channel (if any) which models failed in which run."""
    plugin = plugins.alert_channel
    if plugin is None:
        return
    bad = [o for o in report.outcomes if o.status != "published"]
    plugin.send({
        "event": "floe.run.failed",
        "product": artifacts.metadata.product,
        "run_id": report.run_id,
        "failed_models": [o.name for o in bad if o.status in ("test_failed", "error")],
        "failed_tests": report.failed_tests,
        "skipped": [o.name for o in bad if o.status == "skipped"],
        "messages": {o.name: o.message for o in bad},
    })  # fmt: skip


def _run(runner: ProductRunner, spec: RunSpec, plugins: ResolvedPlugins, invoke: Any) -> RunReport:
    """``runner`` (``run_product`` or its Spark twin) on the run's catalog, once the run's
    principal is known to be allowed to write the product's namespace; a deterministic
    failure (a floe error, dbt unable to compile or parse) is a Failure the retry policy never
    retries; transient errors are raised for a retry."""
    from floe.runtime.access import require_write

    meta = spec.artifacts.metadata
    try:
        require_write(plugins, meta.product, meta.namespace)  # before dbt (FR-062)
        return runner(spec, plugins.catalog(), invoke)
    except FloeError as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None
    except Exception as exc:
        if is_transient(exc):
            raise
        raise dg.Failure(description=f"{type(exc).__name__}: {exc}", allow_retries=False) from exc


def _raise_on_failure(report: RunReport, product: str) -> None:
    bad = [o for o in report.outcomes if o.status != "published"]
    if not bad:
        return
    lines = [f"{o.name}: {o.status}: {o.message}" for o in bad]
    # what failed here (SQL errors, failed tests) fails again on retry: only transient
    # errors (a catalog commit conflict, storage unavailable) are retried by the retry policy
    transient = [o for o in bad if o.transient]
    if transient:
        raise TransientError(
            f"{product}: publishing failed transiently: " + "; ".join(o.message for o in transient)
        )
    raise dg.Failure(
        allow_retries=False,
        description=f"{product}: {len(bad)} of {len(report.outcomes)} nodes not published\n"
        + "\n".join(lines),
        metadata={
            "failed_tests": dg.MetadataValue.text(", ".join(report.failed_tests) or "-"),
            "not_published": dg.MetadataValue.text(", ".join(o.name for o in bad)),
        },
    )


def _provenance(home: PlatformHome, run_id: str, tags: Mapping[str, str]) -> None:
    """The digest and environment a run of a registry artifact ran, in its run record."""
    from floe.observe.records import annotate_record

    if DIGEST_TAG in tags:
        fields = {"artifact_digest": tags[DIGEST_TAG], "environment": tags.get(ENVIRONMENT_TAG)}
        annotate_record(home.runs, run_id, fields)
