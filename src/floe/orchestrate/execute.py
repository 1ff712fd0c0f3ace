"""`floe run`: compile, then execute the product job in-process on the persistent instance."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from floe.compile.api import compile_product
from floe.errors import FloeError, Location
from floe.runtime.home import PlatformHome

E_SELECT = "E520"


@dataclass
class AssetRow:
    """One asset's outcome in a run."""

    name: str
    tier: str
    status: str
    rows: int | None = None
    snapshot_id: str | None = None
    table: str | None = None


@dataclass
class RunSummary:
    """What `floe run` reports."""

    product: str
    run_id: str
    success: bool
    seconds: float
    assets: list[AssetRow] = field(default_factory=list)
    failure: str = ""
    tests_passed: int = 0


def run(
    product_dir: Path,
    *,
    manifest: Path | None = None,
    env: str = "dev",
    select: list[str] | None = None,
    full_refresh: bool = False,
    allow_breaking_reason: str | None = None,
) -> RunSummary:
    """Compile (with the breaking-change gate against the live tables) and run one product;
    the summary says what was published."""
    import time

    import dagster as dg

    from floe.orchestrate.definitions import build_definitions

    start = time.perf_counter()
    from floe.govern.live_schema import read_for_product

    live = read_for_product(product_dir, manifest, env).tables
    ctx = compile_product(product_dir, manifest=manifest, env=env, live_schema=live,
                          allow_breaking_reason=allow_breaking_reason)  # fmt: skip
    artifacts = ctx.artifacts
    assert artifacts is not None
    assert ctx.manifest_doc is not None
    home = PlatformHome.for_manifest(ctx.manifest_doc.path)
    home.ensure()
    compiled_dir = ctx.options.output_dir
    defs = build_definitions(product_dir.resolve(), compiled_dir.resolve(), home)
    ns = artifacts.metadata.namespace
    job = defs.resolve_job_def(f"{ns}_job")
    keys = _selection(artifacts, select)
    from dagster._core.instance.ref import InstanceRef

    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home.dagster)))
    tags = {"floe/product": artifacts.metadata.product}
    if full_refresh:
        tags["floe/full_refresh"] = "true"
    with instance:
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            tags=tags,
            asset_selection=keys,
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        )
        summary = _summarise(result, artifacts, time.perf_counter() - start)
    return summary


def _selection(artifacts: Any, select: list[str] | None) -> list[Any] | None:
    import dagster as dg

    if not select:
        return None
    names = {t.name for t in artifacts.transforms} | {s.name for s in artifacts.seeds}
    wanted = [n.strip() for item in select for n in item.replace(",", " ").split() if n.strip()]
    unknown = [n for n in wanted if n not in names]
    if unknown:
        raise FloeError.single(
            E_SELECT,
            f"--select names no seed or model: {', '.join(unknown)}",
            Location("floe.yaml"),
            hint=f"choose from: {', '.join(sorted(names))}",
        )
    return [dg.AssetKey([artifacts.metadata.namespace, n]) for n in wanted]


def _summarise(result: Any, artifacts: Any, seconds: float) -> RunSummary:
    tiers = {t.name: t.tier for t in artifacts.transforms}
    rows: list[AssetRow] = []
    tests_passed = 0
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        meta = mat.metadata
        name = mat.asset_key.path[-1]
        tests_passed += int(meta["tests_passed"].value) if "tests_passed" in meta else 0
        rows.append(
            AssetRow(
                name=name,
                tier=tiers.get(name, "raw"),
                status="published",
                rows=int(meta["row_count"].value),
                snapshot_id=str(meta["snapshot_id"].value),
                table=str(meta["table"].value),
            )
        )
    failure = ""
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            data = event.event_specific_data
            err = getattr(data, "error", None)
            failure = err.message.strip() if err is not None else "step failed"
    return RunSummary(
        product=artifacts.metadata.product,
        run_id=result.run_id,
        success=bool(result.success),
        seconds=seconds,
        assets=rows,
        failure=failure,
        tests_passed=tests_passed,
    )
