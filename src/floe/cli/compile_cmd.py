"""``floe compile`` and ``floe validate``."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from floe.cli.output import console, print_diagnostics
from floe.compile.api import compile_product
from floe.compile.context import CompileContext
from floe.errors import display_path
from floe.observe.compile_trace import capture_compile_spans, export_compile_spans
from floe.runtime.home import PlatformHome


def run_compile(
    product_dir: Path, manifest: Path | None, env: str, out: Path | None, write: bool
) -> None:
    """Compile (or only validate) one product and print the summary."""
    capture_compile_spans()
    ctx = compile_product(product_dir, manifest=manifest, env=env, out_dir=out, write=write)
    if write and ctx.artifacts is not None and ctx.manifest_doc is not None:
        home = PlatformHome.for_manifest(ctx.manifest_doc.path)
        export_compile_spans(ctx.artifacts, home.root)
    if ctx.warnings:
        print_diagnostics(ctx.warnings)
    _summary(ctx, write)


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
    for path in ctx.written:
        out.print(f"wrote {display_path(path)}")
