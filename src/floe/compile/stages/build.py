"""COMPILE: the dbt profile through the compute plugin, and the CompiledArtifacts."""

from __future__ import annotations

from typing import Any

from floe import __version__
from floe.compile.canonical import source_hash
from floe.compile.context import CompileContext
from floe.compile.quality import quality_artifacts
from floe.plugins.abcs import ComputePlugin, StoragePlugin
from floe.plugins.builtin.compute_duckdb import env_var
from floe.spec.artifacts import (
    ArtifactMetadata,
    ColumnArtifact,
    CompiledArtifacts,
    DbtArtifact,
    MaintenanceArtifact,
    ResolvedPlugin,
    RetentionArtifact,
    RetryArtifact,
    ScheduleArtifact,
    SeedArtifact,
    SourceArtifact,
    TransformArtifact,
)
from floe.spec.common import namespace_of, parse_duration, parse_size
from floe.spec.dbt_project import DbtModel, DbtTest

__all__ = ["CompileStage", "namespace_of"]


class CompileStage:
    """Turn the resolved inputs into the artifacts and the dbt profile."""

    name = "compile"

    def run(self, ctx: CompileContext) -> None:
        """Fill ``ctx.artifacts`` and ``ctx.profiles``."""
        spec, project, resolved = ctx.need_spec(), ctx.need_project(), ctx.need_resolved()
        assert ctx.enforcement is not None
        compute = resolved.instances["compute"]
        assert isinstance(compute, ComputePlugin)
        target = ctx.options.env
        outputs = {target: compute.dbt_profile_output(product=spec.metadata.name)}
        for engine, (_, _, plugin) in sorted(resolved.computes.items()):
            assert isinstance(plugin, ComputePlugin)  # one target per engine of a transform
            outputs[f"{target}_{engine}"] = plugin.dbt_profile_output(product=spec.metadata.name)
        storage = resolved.instances.get("storage")
        secret = storage.duckdb_secret(env_var) if isinstance(storage, StoragePlugin) else None
        if secret is not None:  # created by floe's dbt-duckdb plugin after the extensions load
            for output in outputs.values():
                for plugin_config in output.get("plugins", []):
                    plugin_config["config"]["secrets"] = [secret]
        ctx.profiles = {project.profile: {"target": target, "outputs": outputs}}
        cron, tz, enabled = resolved.schedule
        ctx.artifacts = CompiledArtifacts(
            metadata=ArtifactMetadata(
                product=spec.metadata.name,
                version=spec.metadata.version,
                owner=spec.metadata.owner,
                description=spec.metadata.description,
                labels=dict(sorted(spec.metadata.labels.items())),
                namespace=namespace_of(spec.metadata.name),
                source_hash=_hash(ctx),
                floe_version=__version__,
            ),
            environment=target,
            plugins={
                category: ResolvedPlugin(type=t, version=v, config=c)
                for category, (t, v, c) in sorted(resolved.plugins.items())
            },
            computes={
                engine: ResolvedPlugin(type=engine, version=v, config=c)
                for engine, (v, c, _) in sorted(resolved.computes.items())
            },
            transforms=[
                _transform(
                    project.name,
                    project.models[t.name],
                    t.tier,
                    t.tags,
                    t.depends_on,
                    resolved.compute_by_model[t.name],
                    project.seeds,
                    project.singular_tests,
                    t.description,
                )
                for t in spec.transforms
            ],
            seeds=[
                SeedArtifact(
                    name=s.name,
                    unique_id=f"seed.{project.name}.{s.name}",
                    path=s.path,
                    columns=list(s.header),
                )
                for s in sorted(project.seeds.values(), key=lambda s: s.name)
            ],
            sources=[
                SourceArtifact(name=s.name, product=s.product, namespace=namespace_of(s.product))
                for s in sorted(spec.sources, key=lambda s: s.name)
            ],
            schedule=ScheduleArtifact(cron=cron, timezone=tz, enabled=enabled),
            retention=_retention(spec, resolved.governance),
            maintenance=_maintenance(spec, resolved.governance),
            retry=RetryArtifact(**spec.retry.model_dump()),
            dbt=DbtArtifact(
                project_name=project.name,
                profile=project.profile,
                target=target,
                project_dir=".",
                profiles_dir=".",
                vars=_vars(spec, target),
            ),
            observability=ctx.need_manifest().observability,
            governance=resolved.governance,
            enforcement_result=ctx.enforcement,
            quality=quality_artifacts(ctx),
            ingestion=[s.model_dump(mode="json", by_alias=True) for s in spec.ingestion_sources()],
        )


def _vars(spec: Any, env: str) -> dict[str, Any]:
    """floe.yaml's dbt vars with the environment's over them, keys sorted."""
    merged = dict(spec.vars)
    override = spec.environments.get(env)
    if override is not None:
        merged.update(override.vars)
    return dict(sorted(merged.items()))


def _retention(spec: Any, governance: Any) -> RetentionArtifact:
    """The product's retention settings under the platform's window and snapshot limit."""
    windows = [governance.data_retention_hours]
    if governance.data_retention_days is not None:
        windows.append(governance.data_retention_days * 24)
    known = [w for w in windows if w is not None]
    ret = spec.retention
    return RetentionArtifact(
        column=ret.column,
        tables=list(ret.tables) if ret.tables is not None else None,
        cron=ret.cron,
        enabled=ret.enabled,
        window_hours=min(known) if known else None,
        snapshot_keep_last=governance.snapshot_keep_last,
    )


def _maintenance(spec: Any, governance: Any) -> MaintenanceArtifact:
    """The product's maintenance settings with the platform's snapshot limit."""
    m = spec.maintenance
    return MaintenanceArtifact(
        cron=m.cron,
        enabled=m.enabled,
        target_file_bytes=parse_size(m.target_file_size),
        orphan_older_than_seconds=parse_duration(m.orphan_older_than),
        snapshot_keep_last=governance.snapshot_keep_last,
    )


def _test_label(test: DbtTest) -> str:
    return f"{test.name}({test.column})" if test.column else test.name


def _transform(
    project: str,
    model: DbtModel,
    tier: Any,
    tags: list[str],
    depends_on: list[str],
    compute: str,
    seeds: dict[str, Any],
    singular: dict[str, tuple[str, ...]],
    description: str,
) -> TransformArtifact:
    return TransformArtifact(
        name=model.name,
        unique_id=f"model.{project}.{model.name}",
        tier=tier,
        tags=list(tags),
        depends_on=sorted({r for r in model.refs if r not in seeds} | set(depends_on)),
        seeds=sorted(r for r in model.refs if r in seeds),
        compute=compute,
        materialization=model.materialization,
        unique_key=list(model.unique_key),
        description=model.description or description,
        path=model.path,
        columns=[
            ColumnArtifact(
                name=c.name,
                description=c.description,
                data_type=c.data_type,
                tests=sorted(t.name for t in c.tests),
            )
            for c in model.columns
        ],
        tests=sorted(
            [_test_label(t) for t in model.tests]
            + [name for name, refs in singular.items() if model.name in refs]
        ),
        contract_enforced=model.contract_enforced,
    )


def _hash(ctx: CompileContext) -> str:
    project = ctx.need_project()
    assert ctx.spec_doc is not None
    assert ctx.manifest_doc is not None
    files = [("floe.yaml", ctx.spec_doc.path), ("manifest.yaml", ctx.manifest_doc.path)]
    files += [(f"dbt/{p.relative_to(project.root).as_posix()}", p) for p in project.files]
    return source_hash(files, {"env": ctx.options.env})
