"""``floe demo``: platform up, seeds, compile, workspace, run every product, one summary table.

Without ``--ui`` the products run in parallel worker processes (one per core). With ``--ui``
Dagster's webserver and daemon serve the workspace: each product's health sensor starts its
first run, the table is printed when those runs end, and the platform stays up until Ctrl-C.
"""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from floe.app.demo import Baseline
from floe.app.run import RunSummary
from floe.cli.output import console
from floe.errors import FloeError, Location, display_path

E_NO_PRODUCT = "E561"


@dataclass(frozen=True)
class DemoOptions:
    """What `floe demo` was asked to do."""

    root: Path
    scale: str | None
    products: list[str] | None
    ui: bool
    host: str
    port: int
    env: str
    metrics_port: int = 9464


def demo(opts: DemoOptions) -> bool:
    """The whole demo; True when every product's run succeeded."""
    from floe.app.workspace import write_workspace
    from floe.cli.platform_cmd import show_checks

    started = time.perf_counter()
    manifest = opts.root / "manifest.yaml"
    products = _products(opts)
    if show_checks(manifest, opts.env, create=True) != 0:
        return False
    if opts.scale:
        _generate(products, opts.scale)
    workspace = write_workspace(opts.root, None, opts.env, only=products)
    console().print(
        f"wrote {display_path(workspace.path)} with {workspace.locations} code locations"
    )
    if opts.ui:
        return _live(opts, products, workspace.path, manifest, started)
    summaries = _parallel(products, manifest, opts.env)
    print_table(summaries, time.perf_counter() - started)
    _next_steps(manifest, None, None)
    return all(s.success for s in summaries)


def _products(opts: DemoOptions) -> list[Path]:
    from floe.app.workspace import find_products

    found = find_products(opts.root)
    if opts.products:
        by_name = {p.name: p for p in found}
        unknown = [n for n in opts.products if n not in by_name]
        if unknown:
            raise FloeError.single(
                E_NO_PRODUCT, f"no product {', '.join(unknown)} under {opts.root}",
                Location(str(opts.root)), hint=f"choose from: {', '.join(sorted(by_name))}",
            )  # fmt: skip
        found = [by_name[n] for n in opts.products]
    if not found:
        raise FloeError.single(
            E_NO_PRODUCT, "no floe.yaml below this directory", Location(str(opts.root)),
            hint="run floe demo in the repository root or pass the demo directory",
        )  # fmt: skip
    return found


def _generate(products: list[Path], scale: str) -> None:
    from floe.cli.seeds_cmd import generate_seeds

    for product in products:
        generate_seeds(product, scale, 42, None)


def _parallel(products: list[Path], manifest: Path, env: str) -> list[RunSummary]:
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from floe.app.demo import run_parallel, workers_for

    console().print(f"running {len(products)} products, {workers_for(len(products))} at a time")
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console()) as progress:
        tasks = {p: progress.add_task(f"{p.name}: queued", total=1) for p in products}

        def on_start(product: Path) -> None:
            progress.update(tasks[product], description=f"{product.name}: running")

        def on_done(product: Path, summary: RunSummary) -> None:
            progress.update(tasks[product], completed=1, description=_done_text(summary))

        return run_parallel(products, manifest, env, on_start, on_done)


def _done_text(summary: RunSummary) -> str:
    models = len([a for a in summary.assets if a.tier != "raw"])
    if summary.success:
        return (f"{summary.product}: [green]ok[/] · {models} models · "
                f"{summary.tests_passed} tests · {summary.seconds:.1f}s")  # fmt: skip
    return f"{summary.product}: [red]failed[/] · {summary.failure.splitlines()[0][:80]}"


def print_table(summaries: list[RunSummary], wall: float) -> None:
    """One row per product: models, tests passed, gold rows, duration, gold snapshot ids."""
    from rich.table import Table

    table = Table(title=f"floe demo · {len(summaries)} products · {wall:.1f}s",
                  title_justify="left")  # fmt: skip
    for col in ("product", "models", "tests passed", "gold rows", "duration s", "gold snapshots",
                "status"):  # fmt: skip
        right = col in ("models", "tests passed", "gold rows", "duration s")
        table.add_column(col, justify="right" if right else "left")
    for s in summaries:
        gold = [a for a in s.assets if a.tier == "gold"]
        table.add_row(
            s.product,
            str(len([a for a in s.assets if a.tier != "raw"])),
            str(s.tests_passed),
            str(sum(a.rows or 0 for a in gold)),
            f"{s.seconds:.1f}",
            ", ".join(a.snapshot_id or "" for a in gold),
            "[green]ok[/]"
            if s.success
            else f"[red]failed[/] {s.failure.splitlines()[0][:60]}"
            if s.failure
            else "[red]failed[/]",
        )
    console().print(table)


def _next_steps(manifest: Path, url: str | None, metrics: str | None) -> None:
    out = console()
    out.print("next:")
    out.print(f"  floe tables list --manifest {manifest}      # the Iceberg tables")
    out.print(f"  floe tables head <table> --manifest {manifest}")
    out.print(f"  floe traces show --manifest {manifest}      # span tree of the latest runs")
    out.print(f"  floe lineage show <product> --manifest {manifest}")
    if metrics:
        out.print(f"  curl {metrics}      # Prometheus metrics of the runs")
    if url:
        out.print(f"  open {url}      # Dagster: assets, runs, schedules, sensors — Ctrl-C stops")
    else:
        out.print(
            f"  floe demo {manifest.parent} --ui      # Dagster UI with schedules and sensors"
        )


def _live(
    opts: DemoOptions, products: list[Path], workspace: Path, manifest: Path, started: float
) -> bool:
    from floe.app.demo import start_live

    _stop_on_term()
    live = start_live(manifest, workspace, products, opts.host, opts.port, opts.metrics_port)
    try:
        console().print(f"starting Dagster on {live.url} (log: {live.server.log})")
        live.wait_loaded(len(products))
        console().print(
            f"ready: Dagster webserver with {len(products)} code locations loaded, "
            f"{time.perf_counter() - started:.1f} s after start"
        )
        summaries = _first_runs(live.home, products, live.baseline)
        print_table(summaries, time.perf_counter() - started)
        _next_steps(manifest, live.url, live.metrics.url)
        console().print(f"serving {live.url} — Ctrl-C stops the platform")
        live.wait()
        return all(s.success for s in summaries)
    except KeyboardInterrupt:
        return True
    finally:
        code = live.stop()
        console().print(f"Dagster stopped (exit {code})")


def _stop_on_term() -> None:
    """SIGTERM and SIGINT end the demo like Ctrl-C (also when started from a script)."""

    def interrupt(_sig: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)


def _first_runs(home: Any, products: list[Path], base: Baseline) -> list[RunSummary]:
    """Live progress while each product's first run (started by its health sensor) ends."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from floe.app.demo import wait_first_runs

    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console()) as progress:
        tasks = {p: progress.add_task(f"{p.name}: waiting for the health sensor", total=1)
                 for p in products}  # fmt: skip

        def show(product: Path, status: str, summary: RunSummary | None) -> None:
            if summary is not None:
                progress.update(tasks[product], completed=1, description=_done_text(summary))
            else:
                progress.update(tasks[product], description=f"{product.name}: run {status}")

        return wait_first_runs(home, products, base, show)
