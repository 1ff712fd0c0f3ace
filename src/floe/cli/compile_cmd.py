"""``floe compile`` and ``floe validate``."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from floe.app.compile import GateOptions, Report, check_options, compile_one, layout_changes
from floe.cli.output import console, print_diagnostics
from floe.errors import PolicyError, display_path

if TYPE_CHECKING:
    from floe.compile.context import CompileContext

__all__ = ["GateOptions", "check_options", "run_compile"]


def run_compile(
    product_dir: Path,
    manifest: Path | None,
    env: str,
    out: Path | None,
    write: bool,
    report: tuple[str, Path] | None = None,
    gate: GateOptions | None = None,
) -> None:
    """Compile (or only validate) one product and print the summary."""
    wanted = Report(*report) if report is not None else None
    try:
        ctx = compile_one(product_dir, manifest, env, out=out, write=write, report=wanted,
                          gate=gate, warn=lambda w: print_diagnostics([w]))  # fmt: skip
    except PolicyError as exc:
        if wanted is not None and exc.summary is not None:
            _wrote(wanted)
        raise
    if ctx.warnings:
        print_diagnostics(ctx.warnings)
    _summary(ctx, write)
    if wanted is not None and ctx.enforcement is not None:
        _wrote(wanted)


def _wrote(report: Report) -> None:
    console(stderr=True).print(f"wrote {report.format} report {display_path(report.path)}")


def _summary(ctx: CompileContext, wrote: bool) -> None:
    from rich.table import Table

    spec, enforcement = ctx.need_spec(), ctx.enforcement
    assert enforcement is not None
    out = console()
    stages = Table(
        title=f"floe compile · {spec.metadata.name} · env {ctx.options.env}", title_justify="left"
    )
    stages.add_column("stage")
    stages.add_column("ms", justify="right")
    for t in ctx.timings:
        stages.add_row(t.name, f"{t.seconds * 1000:.1f}")
    stages.add_row("total", f"{sum(t.seconds for t in ctx.timings) * 1000:.1f}", style="bold")
    out.print(stages)
    tiers: Counter[str] = Counter(str(t.tier) for t in spec.transforms)
    models = Table(title="models per tier", title_justify="left")
    for tier in ("bronze", "silver", "gold"):
        models.add_column(tier, justify="right")
    models.add_row(*(str(tiers.get(t, 0)) for t in ("bronze", "silver", "gold")))
    out.print(models)
    verdict = "[green]passed[/]" if enforcement.passed else "[red]failed[/]"
    out.print(
        f"enforcement ({enforcement.enforcement_level}): {verdict} · "
        f"{enforcement.error_count} errors · {enforcement.warning_count} warnings · "
        f"column test coverage {enforcement.test_coverage:.1f}% · "
        f"models validated {enforcement.models_validated}"
    )
    gate = enforcement.schema_gate
    if gate.checked:
        added = sum(1 for c in gate.changes if c.change == "added")
        breaking = sum(1 for c in gate.changes if c.breaking)
        override = f" · accepted: {gate.override_reason}" if gate.override_reason else ""
        out.print(
            f"schema gate: {len(gate.tables_compared)} live tables compared · "
            f"{added} columns added · {breaking} breaking{override}"
        )
        for line in layout_changes(ctx):
            out.print(f"  {line} (evolved in place by the next run; not breaking)")
    for path in ctx.written:
        out.print(f"wrote {display_path(path)}")
