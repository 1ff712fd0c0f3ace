"""``floe platform rbac diff|apply``: print the plan of catalog access changes."""

from __future__ import annotations

from pathlib import Path

from floe.app.access import AccessReport, apply_access, diff_access
from floe.cli.output import console
from floe.errors import ExitCode


def show_access(manifest: Path | None, env: str, *, apply: bool) -> int:
    """Print one line per change (``+`` missing, ``-`` drift); ``diff`` returns 3 when the
    catalog differs from the manifest, else 0."""
    report = apply_access(manifest, env) if apply else diff_access(manifest, env)
    out = console()
    out.print(f"floe platform rbac · {report.manifest} · rbac plugin '{report.plugin}'")
    for line in lines(report):
        out.print(line, highlight=False, markup=False)
    if apply or report.plan.in_sync:
        return ExitCode.OK
    return ExitCode.POLICY_VIOLATION


def lines(report: AccessReport) -> list[str]:
    """The report as text."""
    plan = report.plan
    if plan.in_sync:
        return ["in sync: the catalog's roles and grants are the manifest's (no changes)"]
    verb = ("created", "removed") if report.applied else ("missing", "drift")
    out = [f"+ {verb[0]}: {item.describe()}" for item in plan.missing]
    out += [f"- {verb[1]}: {item.describe()}" for item in plan.extra]
    out.append(f"{len(plan.missing)} {verb[0]}, {len(plan.extra)} {verb[1]}")
    return out
