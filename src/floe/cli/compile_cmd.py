"""``floe compile`` and ``floe validate``."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from floe.cli.output import console, print_diagnostics
from floe.compile.api import LiveSchemaReader, compile_product
from floe.compile.context import CompileContext
from floe.errors import InputError, PolicyError, display_path
from floe.govern.schema_gate import describe_layout_change
from floe.observe.compile_trace import capture_compile_spans, export_compile_spans
from floe.runtime.home import PlatformHome
from floe.spec.artifacts import EnforcementResultSummary

E_REPORT = "E140"
E_REASON = "E141"


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
    gate = gate or GateOptions()
    check_options(report, gate)
    capture_compile_spans()
    try:
        ctx = compile_product(
            product_dir, manifest=manifest, env=env, out_dir=out, write=write,
            read_live=None if gate.offline else _read_live(), allow_breaking_reason=gate.reason,
        )  # fmt: skip
    except PolicyError as exc:
        if report is not None and isinstance(exc.summary, EnforcementResultSummary):
            _report(exc.summary, product_dir, report)
        raise
    if not write:
        from floe.runtime.dbt_check import check_product

        if ctx.warnings:
            print_diagnostics(ctx.warnings)  # shown even when dbt then rejects the project
            ctx.warnings = []
        check_product(ctx)  # dbt's own parse/compile of the project (exit 2 on its errors)
    if write and ctx.artifacts is not None and ctx.manifest_doc is not None:
        home = PlatformHome.for_manifest(ctx.manifest_doc.path)
        export_compile_spans(ctx.artifacts, home.root)
    if ctx.warnings:
        print_diagnostics(ctx.warnings)
    _summary(ctx, write)
    if report is not None and ctx.enforcement is not None:
        _report(ctx.enforcement, product_dir, report)


def _read_live() -> LiveSchemaReader:
    """The live schema of the loaded product (its warning printed when the gate cannot run)."""
    from floe.runtime.live_schema import live_reader

    return live_reader(lambda warning: print_diagnostics([warning]))


@dataclass(frozen=True)
class GateOptions:
    """The breaking-change gate's switches."""

    allow_breaking: bool = False
    reason: str | None = None
    offline: bool = False


def check_options(report: tuple[str, Path] | None, gate: GateOptions) -> None:
    """A known report format; --allow-breaking and --reason only together."""
    if report is not None:
        from floe.govern.report import FORMATS

        if report[0] not in FORMATS:
            raise InputError.single(
                E_REPORT,
                f"unknown report format '{report[0]}'",
                hint=f"use one of: {', '.join(FORMATS)} (e.g. --report sarif enforcement.sarif)",
            )
    if gate.allow_breaking != bool(gate.reason and gate.reason.strip()):
        raise InputError.single(
            E_REASON,
            "--allow-breaking needs --reason (and --reason needs --allow-breaking)",
            hint="e.g. --allow-breaking --reason 'drop legacy column, consumers migrated (JIRA-1)'",
        )


def _report(summary: EnforcementResultSummary, product_dir: Path, report: tuple[str, Path]) -> None:
    from floe.govern.report import write_report

    fmt, path = report
    write_report(summary, product_dir.resolve().name, fmt, path)
    console(stderr=True).print(f"wrote {fmt} report {display_path(path)}")


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
        for change in gate.changes:
            line = describe_layout_change(change)
            if line:
                out.print(f"  {line} (evolved in place by the next run; not breaking)")
    for path in ctx.written:
        out.print(f"wrote {display_path(path)}")
