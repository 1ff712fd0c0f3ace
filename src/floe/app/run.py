"""`floe run` and `floe retention`: compile once, then execute the product's job in-process on
the platform's persistent Dagster instance, with the artifacts and plugins held in memory."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from floe.app.product import Product, open_product
from floe.errors import Diagnostic, FloeError, Location
from floe.orchestrate.liveness import alive, fail_dead_runs
from floe.runtime.access import require_write

E_SELECT = "E520"
E_NO_FAILED_RUN = "E521"


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
    checks_passed: int = 0  # the quality plugin's checks (e.g. GX expectations) that passed


def run(
    product_dir: Path,
    *,
    manifest: Path | None = None,
    env: str = "dev",
    select: list[str] | None = None,
    full_refresh: bool = False,
    from_failure: bool = False,
    allow_breaking_reason: str | None = None,
    exclude: list[str] | None = None,
    warn: Callable[[Diagnostic], None] | None = None,
    tags: dict[str, str] | None = None,
) -> RunSummary:
    """Compile (with the breaking-change gate against the live tables) and run one product;
    the summary says what was published (``tags``: more run tags).

    ``from_failure`` re-executes only what the product's last failed run did not publish
    (Dagster's FROM_ASSET_FAILURE: upstream assets that succeeded are read from Iceberg).
    """
    import time

    start = time.perf_counter()
    product = open_product(product_dir, manifest, env, gate=True,
                           allow_breaking_reason=allow_breaking_reason, warn=warn)  # fmt: skip
    artifacts = product.artifacts
    require_write(product.plugins, artifacts.metadata.product, product.namespace)  # FR-062
    tags = {"floe/product": artifacts.metadata.product, **(tags or {})}
    if full_refresh:
        tags["floe/full_refresh"] = "true"
    job_name = f"{product.namespace}_job"
    with product.instance() as instance, alive(product.home) as live:
        fail_dead_runs(instance, job_name, product.home)  # a killed earlier run: FAILURE
        tags |= live
        keys = _selection(product, select, exclude)
        if from_failure:
            keys, parent = _failed_keys(instance, job_name)
            tags |= {"dagster/parent_run_id": parent, "dagster/root_run_id": parent,
                     "floe/from_failure": "true"}  # fmt: skip
        result = product.job("job").execute_in_process(
            instance=instance,
            raise_on_error=False,
            tags=tags,
            asset_selection=keys,
            run_config=QUIET,
        )
        summary = _summarise(result, artifacts, time.perf_counter() - start)
    return summary


def run_logged(
    product_dir: Path,
    *,
    progress: Callable[[str], None] | None = None,
    **options: Any,
) -> tuple[RunSummary, Path]:
    """:func:`run` with dbt's and Dagster's logs in the product's run log (returned beside the
    summary) and the progress lines (dbt's node lines, one line per published table) sent to
    ``progress``. The compile's spans are exported with the run's."""
    from floe.orchestrate.logs import quiet_logs
    from floe.runtime.progress import progress_to

    _record_compile_spans()
    log_path = run_log_path(product_dir)
    with progress_to(progress or (lambda _: None)), quiet_logs(log_path):
        return run(product_dir, **options), log_path


def retention_logged(product_dir: Path, **options: Any) -> RetentionSummary:
    """:func:`retention` with dbt's and Dagster's logs in the product's run log."""
    from floe.orchestrate.logs import quiet_logs

    with quiet_logs(run_log_path(product_dir)):
        return retention(product_dir, **options)


def run_log_path(product_dir: Path) -> Path:
    """``<product>/target/floe/last_run.log`` (its folder created)."""
    path = product_dir / "target" / "floe" / "last_run.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@functools.cache
def _record_compile_spans() -> None:
    """Record the compile's stage spans (once per process) so the run exports them."""
    from floe.observe.compile_trace import capture_compile_spans

    capture_compile_spans()


QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _failed_keys(instance: Any, job_name: str) -> tuple[list[Any], str]:
    """Assets the job's latest run did not materialize, if that run failed."""
    import dagster as dg

    runs = instance.get_runs(dg.RunsFilter(job_name=job_name), limit=1)
    if not runs or runs[0].status != dg.DagsterRunStatus.FAILURE:
        state = runs[0].status.value.lower() if runs else "none yet"
        raise FloeError.single(
            E_NO_FAILED_RUN,
            f"the last run of {job_name} did not fail (status: {state}); nothing to resume",
            Location("floe.yaml"),
            hint="run without --from-failure",
        )
    parent = runs[0]
    from floe.orchestrate.adapters.dagster_instance import keys_to_reexecute

    return keys_to_reexecute(instance, parent), parent.run_id


@dataclass
class RetentionSummary:
    """What `floe retention` did."""

    product: str
    run_id: str
    success: bool
    tables: list[dict[str, Any]] = field(default_factory=list)
    failure: str = ""


def retention(
    product_dir: Path, *, manifest: Path | None = None, env: str = "dev"
) -> RetentionSummary:
    """Run the product's retention job once, in-process on the platform's instance."""
    product = open_product(product_dir, manifest, env)
    with product.instance() as instance:
        result = product.job("retention").execute_in_process(
            instance=instance, raise_on_error=False, run_config=QUIET,
            tags={"floe/product": product.artifacts.metadata.product},
        )  # fmt: skip
    tables = []
    for event in result.all_events:
        if event.event_type_value == "ASSET_OBSERVATION":
            obs = event.event_specific_data.asset_observation
            row = {"table": ".".join(obs.asset_key.path)}
            row |= {k: v.value for k, v in obs.metadata.items()}
            tables.append(row)
    failure = summary_from_events(list(result.all_events), product.artifacts, "", False, 0).failure
    return RetentionSummary(product.artifacts.metadata.product, result.run_id,
                            bool(result.success), tables, failure)  # fmt: skip


def _selection(
    product: Product, select: list[str] | None, exclude: list[str] | None
) -> list[Any] | None:
    """The assets ``dbt build --select … --exclude …`` would build (dbt's selector syntax:
    names, ``tag:``, ``path:``, ``+model``, ``model+`` …), resolved on the product's manifest;
    a plain name of an ingestion resource selects its ingestion asset."""
    import re

    from dagster_dbt import build_dbt_asset_selection

    if not select and not exclude:
        return None
    import dagster as dg

    defs = product.definitions()
    assets = [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition)]
    _check_names(select or [], {k.path[-1] for a in assets for k in a.keys})
    dbt = [a for a in assets if a.node_def.name == f"{product.namespace}_dbt"]
    raw = {r.name for s in product.artifacts.ingestion_sources() for r in s.resources}
    words = [w for item in select or [] for w in item.split()]  # "a,b" is dbt's intersection
    ingested = sorted({w for w in words if w in raw})
    dbt_words = [w for w in words if w not in raw]
    excluded = {w for item in exclude or [] for w in item.split()}
    if not select:  # everything but the excluded, ingestion included
        ingested = sorted(raw - excluded)
    keys = {dg.AssetKey([product.namespace, name]) for name in ingested}
    if dbt_words or not select:
        graph = defs.resolve_asset_graph()
        selection = build_dbt_asset_selection(
            dbt,
            dbt_select=" ".join(dbt_words or ["fqn:*"]),
            dbt_exclude=" ".join(exclude or []),
        )
        chosen = set(selection.resolve(graph))
        if any(re.match(r"^\d*\+", w) for w in dbt_words):  # +model: the raw tables too
            above = dg.AssetSelection.assets(*chosen).upstream().resolve(graph)
            chosen |= {k for k in above if k.path == [product.namespace, k.path[-1]]
                       and k.path[-1] in raw - excluded}  # fmt: skip
        keys |= chosen
    if not keys:
        raise FloeError.single(
            E_SELECT,
            f"--select {' '.join(select or [])} --exclude {' '.join(exclude or [])}"
            " selects no seed, model or snapshot",
            Location("floe.yaml"),
            hint="dbt's selector syntax: a name, tag:<tag>, path:<dir>, +<model>, <model>+",
        )
    return sorted(keys, key=lambda k: k.to_user_string())


def _check_names(select: list[str], names: set[str]) -> None:
    """A plain name that is no seed, model or snapshot is a typo, not an empty selection."""
    import difflib
    import re

    plain = [w for item in select for w in item.replace(",", " ").split()
             if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", w)]  # fmt: skip
    unknown = [w for w in plain if w not in names]
    if not unknown:
        return
    close = [m for w in unknown for m in difflib.get_close_matches(w, sorted(names), n=1)]
    raise FloeError.single(
        E_SELECT,
        f"--select names no seed, model or snapshot: {', '.join(unknown)}",
        Location("floe.yaml"),
        hint=f"did you mean {', '.join(repr(c) for c in close)}?"
        if close
        else f"choose from: {', '.join(sorted(names))}",
    )


def _summarise(result: Any, artifacts: Any, seconds: float) -> RunSummary:
    return summary_from_events(
        list(result.all_events), artifacts, result.run_id, bool(result.success), seconds
    )


def summary_from_events(
    events: list[Any], artifacts: Any, run_id: str, success: bool, seconds: float
) -> RunSummary:
    """A run's summary from its Dagster events (in-process result or instance event log)."""
    tiers = {t.name: t.tier for t in artifacts.transforms}
    rows: list[AssetRow] = []
    tests_passed = checks_passed = 0
    failure = ""
    for event in events:
        if event.event_type_value == "STEP_FAILURE":
            err = getattr(event.event_specific_data, "error", None)
            failure = err.message.strip() if err is not None else "step failed"
        if event.event_type_value != "ASSET_MATERIALIZATION":
            continue
        mat = event.event_specific_data.materialization
        meta = mat.metadata
        name = mat.asset_key.path[-1]
        tests_passed += int(meta["tests_passed"].value) if "tests_passed" in meta else 0
        checks_passed += int(meta["checks_passed"].value) if "checks_passed" in meta else 0
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
    return RunSummary(
        product=artifacts.metadata.product,
        run_id=run_id,
        success=success,
        seconds=seconds,
        assets=rows,
        failure=failure,
        tests_passed=tests_passed,
        checks_passed=checks_passed,
    )
