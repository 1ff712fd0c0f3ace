"""``floe run``: one product through Dagster, with a result table."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from floe.app.run import RetentionSummary, RunSummary, retention_logged, run_logged
from floe.cli.output import console, print_diagnostics
from floe.errors import Diagnostic

if TYPE_CHECKING:
    from rich.console import Console


def run_products(
    products: list[Path],
    manifest: Path | None,
    env: str,
    select: list[str] | None,
    full_refresh: bool,
    from_failure: bool = False,
    allow_breaking_reason: str | None = None,
    exclude: list[str] | None = None,
) -> list[RunSummary]:
    """Run each product in turn; dbt and Dagster logs go to the run log, dbt's node-by-node
    progress lines (and one line per published table) to the screen. A product name that is
    no folder runs the digest env-<env> points at in the registry (no local checkout)."""
    from floe.app.promote import checkout, is_product_name, run_checkout

    out = console()
    summaries = []
    for product in products:
        options: dict[str, Any] = {
            "progress": _printer(out), "select": select, "full_refresh": full_refresh,
            "from_failure": from_failure, "allow_breaking_reason": allow_breaking_reason,
            "exclude": exclude, "warn": _warn,
        }  # fmt: skip
        if is_product_name(str(product)):
            co = checkout(str(product), env, manifest=manifest)
            out.print(f"[bold]{co.product}[/]: running {co.digest} (env-{env}) in {env} …")
            _digest, summary, log_path = run_checkout(co, **options)
        else:
            out.print(f"[bold]{product.name}[/]: compiling and running …")
            summary, log_path = run_logged(product, manifest=manifest, env=env, **options)
        summaries.append(summary)
        print_summary(summary, log_path)
    if len(summaries) > 1:
        print_overview(summaries)
    return summaries


_STYLES = (("ERROR", "red"), ("FAIL", "red"), ("WARN", "yellow"), ("SKIP", "yellow"),
           ("OK", "green"), ("PASS", "green"), ("published", "green"))  # fmt: skip


def _printer(out: Console) -> Callable[[str], None]:
    """Progress lines to the terminal captured now (the run's stdout goes to its log)."""
    import sys

    from rich.console import Console
    from rich.text import Text

    screen = Console(file=sys.stdout, highlight=False, soft_wrap=True, width=out.width, emoji=False)

    def show(line: str) -> None:
        style = next((s for word, s in _STYLES if f" {word}" in f" {line}"), "")
        screen.print(Text(line, style=style))

    return show


def _warn(warning: Diagnostic) -> None:
    """The gate's warning on stderr (not in the run log), as `floe compile` prints it."""
    print_diagnostics([warning])


def print_overview(summaries: list[RunSummary]) -> None:
    """One row per product: models, tests passed, gold rows, duration, status."""
    from rich.table import Table

    table = Table(title="floe run · summary", title_justify="left")
    for col in ("product", "models", "tests passed", "gold rows", "duration s", "status"):
        table.add_column(col, justify="left" if col in ("product", "status") else "right")
    for s in summaries:
        models = [a for a in s.assets if a.tier != "raw"]
        gold = sum(a.rows or 0 for a in s.assets if a.tier == "gold")
        status = "[green]ok[/]" if s.success else "[red]failed[/]"
        table.add_row(s.product, str(len(models)), str(s.tests_passed), str(gold),
                      f"{s.seconds:.1f}", status)  # fmt: skip
    console().print(table)


def print_summary(summary: RunSummary, log_path: Path | None = None) -> None:
    """The per-asset table and a verdict line."""
    from rich.table import Table

    out = console()
    table = Table(
        title=f"floe run · {summary.product} · run {summary.run_id[:8]}", title_justify="left"
    )
    for col in ("asset", "tier", "rows", "snapshot", "table"):
        table.add_column(col, justify="right" if col == "rows" else "left")
    for row in summary.assets:
        table.add_row(row.name, row.tier, str(row.rows), row.snapshot_id or "", row.table or "")
    out.print(table)
    verdict = "[green]succeeded[/]" if summary.success else "[red]failed[/]"
    out.print(
        f"{summary.product}: {verdict} in {summary.seconds:.1f}s · "
        f"{len(summary.assets)} assets published · {summary.tests_passed} tests passed"
        + (f" · {summary.checks_passed} quality checks passed" if summary.checks_passed else "")
    )
    if not summary.success:
        out.print(f"[red]{summary.failure}[/]")
    if log_path is not None:
        out.print(f"[dim]dbt and Dagster log: {log_path}[/]")


RETENTION_COLUMNS = ("rows_deleted", "row_count", "snapshots_expired", "snapshots_kept",
                     "files_removed", "note")  # fmt: skip


def retention_products(products: list[Path], manifest: Path | None, env: str) -> bool:
    """Run each product's retention job; one table per product. True when all succeeded."""
    from rich.table import Table

    out = console()
    ok = True
    for product in products:
        with out.status(f"retention of {product.name} …"):
            summary: RetentionSummary = retention_logged(product, manifest=manifest, env=env)
        table = Table(title=f"floe retention · {summary.product} · run {summary.run_id[:8]}",
                      title_justify="left")  # fmt: skip
        table.add_column("table")
        for col in RETENTION_COLUMNS:
            table.add_column(col.replace("_", " "), justify="left" if col == "note" else "right")
        for row in summary.tables:
            table.add_row(row["table"], *(str(row.get(c, "")) for c in RETENTION_COLUMNS))
        out.print(table)
        if not summary.success:
            out.print(f"[red]{summary.product}: retention failed: {summary.failure}[/]")
        ok = ok and summary.success
    return ok
