"""ENFORCE: evaluate the platform's policies; strict + errors stops the compile (exit 3)."""

from __future__ import annotations

import os
from pathlib import Path

from floe.compile.context import CompileContext
from floe.errors import Diagnostic, Location, PolicyError
from floe.govern.events import POLICY_VIOLATION, security_event
from floe.govern.finding import Finding, PolicyInput
from floe.govern.policies import POLICIES
from floe.spec.artifacts import EnforcementResultSummary, Violation


class EnforceStage:
    """Run every policy and summarise; the summary exists even when enforcement is off."""

    name = "enforce"

    def run(self, ctx: CompileContext) -> None:
        """Fill ``ctx.enforcement``; raise PolicyError under strict when anything failed."""
        resolved, spec, project = ctx.need_resolved(), ctx.need_spec(), ctx.need_project()
        governance = resolved.governance
        level = governance.policy_enforcement_level
        assert ctx.spec_doc is not None
        inp = PolicyInput(
            spec,
            ctx.spec_doc,
            project,
            governance,
            tuple(resolved.secret_findings),
            ctx.need_manifest(),
        )
        checked = [] if level == "off" else list(POLICIES)
        findings = [f for name in checked for f in POLICIES[name](inp)]
        root = ctx.options.product_dir
        violations = [
            _violation(f, level, governance.quality_gates.block_on_failure, root) for f in findings
        ]
        errors = sum(1 for v in violations if v.severity == "error")
        models = [project.models[t.name] for t in spec.transforms if t.name in project.models]
        columns = [c for m in models for c in m.columns]
        ctx.enforcement = EnforcementResultSummary(
            passed=errors == 0,
            error_count=errors,
            warning_count=sum(1 for v in violations if v.severity == "warning"),
            policy_types_checked=checked,
            models_validated=len(models),
            enforcement_level=level,
            test_coverage=round(
                100.0 * sum(1 for c in columns if c.tests) / len(columns) if columns else 0.0, 2
            ),
            model_test_coverage=round(
                100.0 * sum(1 for m in models if m.all_tests) / len(models) if models else 0.0, 2
            ),
            violations=violations,
        )
        diags = [_diagnostic(f, v) for f, v in zip(findings, violations, strict=True)]
        ctx.warnings += [d for d in diags if d.severity == "warning"]
        if errors:
            security_event(
                POLICY_VIOLATION,
                product=spec.metadata.name,
                level=level,
                errors=errors,
                codes=sorted({v.code for v in violations if v.severity == "error"}),
            )
            failure = PolicyError([d for d in diags if d.severity == "error"])
            failure.summary = ctx.enforcement
            raise failure


def _violation(f: Finding, level: str, block: bool, root: Path) -> Violation:
    severity = "error" if level == "strict" or (block and f.quality_gate) else "warning"
    return Violation(
        code=f.code,
        policy=f.policy,
        severity=severity,
        location=f.location.portable(root) if f.location else "",
        message=f.message,
        hint=f.hint,
        model=f.model,
    )


def _diagnostic(f: Finding, v: Violation) -> Diagnostic:
    loc = f.location or Location(os.curdir)
    return Diagnostic(f.code, f.message, loc, f.policy, f.hint, v.severity)
