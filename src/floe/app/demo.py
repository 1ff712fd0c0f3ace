"""``floe demo``'s engine: products run in parallel worker processes, or through the live
Dagster daemon (health sensor → first run), and their summaries read back."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from floe.app.observe import MetricsServer
from floe.app.run import RunSummary, run, run_log_path, summary_from_events
from floe.errors import FloeError, Location
from floe.orchestrate.logs import quiet_logs
from floe.runtime.home import PlatformHome

FINISHED = ("SUCCESS", "FAILURE", "CANCELED")
E_FIRST_RUNS = "E562"


def workers_for(count: int) -> int:
    """Parallel product runs: one per core, never more than the products."""
    return max(1, min(count, os.cpu_count() or 1))


def init_instance(home: PlatformHome) -> None:
    """Create the Dagster instance's SQLite storages once, before processes share them
    (their first creation is not safe against a concurrent one)."""
    from floe.orchestrate.adapters.dagster_instance import open_instance

    home.ensure()
    with open_instance(home.dagster) as instance:
        instance.get_runs(limit=1)
        instance.all_instigator_state()
        instance.get_latest_materialization_events([])


def run_parallel(
    products: list[Path],
    manifest: Path,
    env: str,
    on_start: Callable[[Path], None],
    on_done: Callable[[Path, RunSummary], None],
) -> list[RunSummary]:
    """Run every product in its own process (dbt runs in-process, one per interpreter);
    summaries in the order of ``products``."""
    init_instance(PlatformHome.for_manifest(manifest))
    ctx = multiprocessing.get_context("spawn")
    results: dict[Path, RunSummary] = {}
    with ProcessPoolExecutor(max_workers=workers_for(len(products)), mp_context=ctx) as pool:
        futures: dict[Future[RunSummary], Path] = {}
        for product in products:
            futures[pool.submit(run_quietly, product, manifest, env)] = product
            on_start(product)
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            on_done(futures[future], results[futures[future]])
    return [results[p] for p in products]


def run_quietly(product: Path, manifest: Path, env: str) -> RunSummary:
    """One product's run (in a worker): dbt and Dagster logs to ``target/floe/last_run.log``."""
    with quiet_logs(
        run_log_path(product), stderr=True
    ):  # a worker's stderr: floe's structured run log
        return run(product, manifest=manifest, env=env)


def has_materialization(instance: Any, artifacts: Any) -> bool:
    """True when any model of the product was ever materialized on this instance."""
    import dagster as dg

    ns = artifacts.metadata.namespace
    return any(
        instance.get_latest_materialization_event(dg.AssetKey([ns, t.name]))
        for t in artifacts.transforms
    )


def latest_run(instance: Any, artifacts: Any) -> Any | None:
    """The newest run of the product's job (any status), or None."""
    import dagster as dg

    runs = instance.get_runs(dg.RunsFilter(job_name=f"{artifacts.metadata.namespace}_job"), limit=1)
    return runs[0] if runs else None


def run_summary(instance: Any, artifacts: Any, run: Any) -> RunSummary:
    """A finished run's summary, read from the instance's event log."""
    record = instance.get_run_record_by_id(run.run_id)
    seconds = 0.0
    if record is not None and record.start_time and record.end_time:
        seconds = record.end_time - record.start_time
    events = [e.dagster_event for e in instance.all_logs(run.run_id) if e.is_dagster_event]
    return summary_from_events(
        events, artifacts, run.run_id, run.status.value == "SUCCESS", seconds
    )


@dataclass(frozen=True)
class Baseline:
    """Before Dagster starts: each product's artifacts, whether it was ever built, and the id
    of its newest run (a first run is one newer than that)."""

    artifacts: dict[Path, Any]
    built: set[Path]
    before: dict[Path, str | None]


def baseline_of(home: PlatformHome, products: list[Path]) -> Baseline:
    """The products' state on the instance before Dagster serves them."""
    from floe.orchestrate.adapters.dagster_instance import open_instance
    from floe.orchestrate.definitions import load_artifacts

    arts = {p: load_artifacts(p / "target" / "floe") for p in products}
    with open_instance(home.dagster) as instance:
        built = {p for p in products if has_materialization(instance, arts[p])}
        before = {p: getattr(latest_run(instance, arts[p]), "run_id", None) for p in products}
    return Baseline(arts, built, before)


#: ``(product, run status, summary when the run ended)``: what the waiting shows
FirstRunProgress = Callable[[Path, str, RunSummary | None], None]


def wait_first_runs(
    home: PlatformHome,
    products: list[Path],
    base: Baseline,
    progress: FirstRunProgress,
    deadline_s: float = 600.0,
) -> list[RunSummary]:
    """Poll the instance until each product's first run (newer than ``base``) has ended;
    products built before are summarised from their latest run. E562 past the deadline."""
    import time

    from floe.orchestrate.adapters.dagster_instance import open_instance

    arts, built, before = base.artifacts, base.built, base.before
    done: dict[Path, RunSummary] = {}
    deadline = time.monotonic() + deadline_s
    with open_instance(home.dagster) as instance:
        while len(done) < len(products):
            if time.monotonic() > deadline:
                raise FloeError.single(
                    E_FIRST_RUNS, f"first runs did not finish within {deadline_s:.0f} s",
                    Location(str(home.root)), hint="open the Dagster UI: runs and sensors",
                )  # fmt: skip
            for p in products:
                found = None if p in done else latest_run(instance, arts[p])
                if found is None or (p not in built and found.run_id == before[p]):
                    continue
                status = found.status.value
                if status in FINISHED:
                    done[p] = run_summary(instance, arts[p], found)
                    progress(p, status.lower(), done[p])
                else:
                    progress(p, status.lower(), None)
            time.sleep(0.5)  # the poll interval of a live server, not a wait for a test
    return [done[p] for p in products]


@dataclass
class LiveDemo:
    """Dagster's webserver and daemon serving the workspace, and the metrics endpoint."""

    home: PlatformHome
    baseline: Baseline
    server: Any
    metrics: MetricsServer

    @property
    def url(self) -> str:
        """The Dagster UI."""
        return str(self.server.url)

    def wait_loaded(self, locations: int) -> None:
        """Until Dagster has loaded ``locations`` code locations."""
        from floe.orchestrate import serve

        serve.wait_loaded(self.server, locations)

    def wait(self) -> None:
        """Until Dagster exits (Ctrl-C raises KeyboardInterrupt)."""
        self.server.proc.wait()

    def stop(self) -> int:
        """Stop Dagster and the metrics endpoint; Dagster's exit code."""
        try:
            return int(self.server.stop())
        finally:
            self.metrics.stop()


def start_live(
    manifest: Path, workspace: Path, products: list[Path], host: str, port: int, metrics_port: int
) -> LiveDemo:
    """Serve the workspace with Dagster (the health sensors start the first runs) and the
    run metrics on ``metrics_port``; the products' state before is the baseline."""
    from floe.app.observe import serve_metrics
    from floe.orchestrate import serve

    home = PlatformHome.for_manifest(manifest)
    baseline = baseline_of(home, products)
    metrics = serve_metrics(home, host, metrics_port)
    try:
        server = serve.start(workspace, home, host=host, port=port)
    except BaseException:
        metrics.stop()
        raise
    return LiveDemo(home, baseline, server, metrics)
