"""Dagster assets of a product's ingestion: one asset per floe.yaml ingestion resource, keyed
``[namespace, resource]`` — the key the dbt sources reading its raw table carry, so every
dbt asset selecting from it is downstream of it. One step (a multi-asset that can be
subset) loads, audits and publishes the selected resources (:mod:`floe.runtime.ingest`).
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext

from floe.errors import FloeError
from floe.orchestrate.materialize import materializations
from floe.runtime.home import PlatformHome
from floe.runtime.ingest import IngestSpec, ingest
from floe.runtime.resolved import ResolvedPlugins
from floe.runtime.runner import NodeOutcome, TransientError, is_transient
from floe.spec.artifacts import CompiledArtifacts

E_NO_PLUGIN = "E670"


def ingestion_assets(
    artifacts: CompiledArtifacts,
    home: PlatformHome,
    product_dir: Path,
    plugins: ResolvedPlugins,
    retry_policy: dg.RetryPolicy | None = None,
) -> list[dg.AssetsDefinition]:
    """The product's ingestion asset (none when floe.yaml declares no ingestion)."""
    if not artifacts.ingestion:
        return []
    ns = artifacts.metadata.namespace
    specs = [
        dg.AssetSpec(
            key=dg.AssetKey([ns, res.name]),
            group_name=f"{ns}_raw",
            description=f"{source.type} source '{source.name}', resource '{res.name}' "
            f"({res.write_disposition}) loaded into {ns}.{res.name}",
            kinds={"dlt", "iceberg"},
            skippable=True,
            metadata={"floe/ingestion_source": source.name},
        )
        for source in artifacts.ingestion_sources()
        for res in source.resources
    ]

    @dg.multi_asset(specs=specs, name=f"{ns}_ingestion", can_subset=True,
                    retry_policy=retry_policy)  # fmt: skip
    def load(context: AssetExecutionContext) -> Iterator[dg.MaterializeResult[Any]]:
        plugin = plugins.ingestion
        if plugin is None:
            raise dg.Failure(
                description=f"error[{E_NO_PLUGIN}]: the platform chooses no ingestion plugin "
                "(hint: plugins: {ingestion: {type: dlt}} in manifest.yaml)",
                allow_retries=False,
            )
        from floe.observe.ingest_trace import trace_ingestion  # at run time: loading stays light

        try:
            with trace_ingestion(artifacts, home, context.run.run_id, plugins) as obs:
                spec = IngestSpec(
                    artifacts=artifacts,
                    home=home,
                    run_id=context.run.run_id,
                    product_dir=product_dir,
                    resolve=plugins.resolve,
                    selected=frozenset(k.path[-1] for k in context.selected_asset_keys),
                    trace_id=obs.trace_id,
                    scratch_setup=plugins.duckdb_access.setup,
                    observer=obs,
                )
                outcomes = ingest(spec, plugins.catalog(), plugin)
        except FloeError as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        except Exception as exc:
            if is_transient(exc):
                raise
            raise dg.Failure(description=f"{type(exc).__name__}: {exc}",
                             allow_retries=False) from exc  # fmt: skip
        yield from _materializations(outcomes, ns)
        _raise_on_failure(outcomes, artifacts.metadata.product)

    return [load]


def _materializations(outcomes: list[NodeOutcome], ns: str) -> Iterator[dg.MaterializeResult[Any]]:
    return materializations(outcomes, ns, lambda outcome: {
        "ingestion": dg.MetadataValue.text(outcome.unique_id),
    })  # fmt: skip


def _raise_on_failure(outcomes: list[NodeOutcome], product: str) -> None:
    """Transient failures are retried; a failed load or audit fails the step (the dbt assets
    downstream of it are not run)."""
    bad = [o for o in outcomes if o.status != "published"]
    if not bad:
        return
    if all(o.transient for o in bad):
        raise TransientError(f"{product}: ingestion failed transiently: "
                             + "; ".join(o.message for o in bad))  # fmt: skip
    raise dg.Failure(
        allow_retries=False,
        description=f"{product}: {len(bad)} of {len(outcomes)} ingestion resources not "
        "published\n" + "\n".join(f"{o.name}: {o.status}: {o.message}" for o in bad),
        metadata={"not_published": dg.MetadataValue.text(", ".join(o.name for o in bad))},
    )
