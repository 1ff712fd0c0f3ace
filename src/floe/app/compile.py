"""`floe compile` and `floe validate`: the six stages, the breaking-change gate, dbt's check.

The files are read once; the live schema (unless ``offline``) is read once LOAD has read them,
and why the gate cannot run goes to ``warn`` — the words `floe run` uses too.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from floe.compile.api import LiveSchemaReader, compile_product
from floe.compile.context import CompileContext
from floe.errors import Diagnostic, InputError, PolicyError
from floe.spec.artifacts import EnforcementResultSummary

E_REPORT = "E140"
E_REASON = "E141"


class GateOptions(NamedTuple):
    """The breaking-change gate's switches."""

    allow_breaking: bool = False
    reason: str | None = None
    offline: bool = False


class Report(NamedTuple):
    """An enforcement report to write: its format and path."""

    format: str
    path: Path


def check_options(report: Report | None, gate: GateOptions) -> None:
    """A known report format; --allow-breaking and --reason only together."""
    if report is not None:
        from floe.govern.report import FORMATS

        if report.format not in FORMATS:
            raise InputError.single(
                E_REPORT,
                f"unknown report format '{report.format}'",
                hint=f"use one of: {', '.join(FORMATS)} (e.g. --report sarif enforcement.sarif)",
            )
    if gate.allow_breaking != bool(gate.reason and gate.reason.strip()):
        raise InputError.single(
            E_REASON,
            "--allow-breaking needs --reason (and --reason needs --allow-breaking)",
            hint="e.g. --allow-breaking --reason 'drop legacy column, consumers migrated (JIRA-1)'",
        )


def compile_one(
    product_dir: Path,
    manifest: Path | None,
    env: str,
    *,
    out: Path | None = None,
    write: bool = True,
    report: Report | None = None,
    gate: GateOptions | None = None,
    warn: Callable[[Diagnostic], None] = lambda _: None,
) -> CompileContext:
    """Compile (``write``) or validate one product; ``report`` is written also when policy
    enforcement fails. Validation also runs dbt's own parse and compile of the project (its
    warnings so far go to ``warn`` first, as they come before dbt's verdict)."""
    from floe.observe.compile_trace import capture_compile_spans, export_compile_spans

    gate = gate or GateOptions()
    check_options(report, gate)
    capture_compile_spans()
    try:
        ctx = compile_product(
            product_dir, manifest=manifest, env=env, out_dir=out, write=write,
            read_live=None if gate.offline else _live_reader(warn),
            allow_breaking_reason=gate.reason,
        )  # fmt: skip
    except PolicyError as exc:
        if report is not None and isinstance(exc.summary, EnforcementResultSummary):
            write_report(exc.summary, product_dir, report)
        raise
    if not write:
        from floe.runtime.dbt_check import check_product

        for warning in ctx.warnings:
            warn(warning)
        ctx.warnings = []
        check_product(ctx)  # dbt's own parse/compile of the project (exit 2 on its errors)
    if write and ctx.artifacts is not None and ctx.manifest_doc is not None:
        from floe.runtime.home import PlatformHome

        home = PlatformHome.for_manifest(ctx.manifest_doc.path, ctx.options.env)
        export_compile_spans(ctx.artifacts, home.root)
    if report is not None and ctx.enforcement is not None:
        write_report(ctx.enforcement, product_dir, report)
    return ctx


def layout_changes(ctx: CompileContext) -> list[str]:
    """The gate's partition-spec and sort-order changes, one line each (not breaking)."""
    from floe.govern.schema_gate import describe_layout_change

    assert ctx.enforcement is not None
    changes = (describe_layout_change(c) for c in ctx.enforcement.schema_gate.changes)
    return [line for line in changes if line]


def _live_reader(warn: Callable[[Diagnostic], None]) -> LiveSchemaReader:
    """The live-schema reader (imported only when the gate runs: ``--offline`` opens nothing)."""
    from floe.runtime.live_schema import LiveReader

    return LiveReader(warn)


def write_report(summary: EnforcementResultSummary, product_dir: Path, report: Report) -> None:
    """The enforcement result as a ``report.format`` file (json, sarif, html)."""
    from floe.govern.report import write_report as write

    write(summary, product_dir.resolve().name, report.format, report.path)
