"""ENFORCE: the platform's policies and the breaking-change gate; errors stop the compile."""

from __future__ import annotations

import os
from pathlib import Path

from floe import events
from floe.compile.context import CompileContext
from floe.errors import Diagnostic, Location, PolicyError
from floe.govern.finding import Finding, PolicyInput
from floe.govern.policies import POLICIES
from floe.govern.schema_derive import DeriveCache
from floe.govern.schema_gate import evaluate, findings
from floe.spec.artifacts import EnforcementResultSummary, SchemaGate, Violation

#: Derived output schemas of the last compile, beside the artifacts (never part of them).
DERIVE_CACHE_FILE = ".schema_cache.json"


class EnforceStage:
    """Run every policy and the schema gate; the summary exists even when enforcement is off."""

    name = "enforce"

    def run(self, ctx: CompileContext) -> None:
        """Fill ``ctx.enforcement``; raise PolicyError when anything is an error."""
        resolved, spec, project = ctx.need_resolved(), ctx.need_spec(), ctx.need_project()
        governance = resolved.governance
        level = governance.policy_enforcement_level
        assert ctx.spec_doc is not None
        inp = PolicyInput(spec, ctx.spec_doc, project, governance,
                          tuple(resolved.secret_findings), ctx.need_manifest())  # fmt: skip
        checked = [] if level == "off" else list(POLICIES)
        found = [f for name in checked for f in POLICIES[name](inp)]
        root = ctx.options.product_dir
        block = governance.quality_gates.block_on_failure
        violations = [_violation(f, _severity(f, level, block), root) for f in found]
        reason = ctx.options.allow_breaking_reason
        if ctx.options.live_schema:
            ctx.derive_cache = DeriveCache.load(ctx.options.output_dir / DERIVE_CACHE_FILE)
        models = [t.name for t in spec.transforms]
        gate = evaluate(project, models, ctx.options.live_schema, reason, ctx.derive_cache,
                        ctx.options.live_layouts)  # fmt: skip
        gate_found = findings(gate, project)
        found += gate_found
        violations += [_violation(f, "warning" if reason else "error", root) for f in gate_found]
        errors = sum(1 for v in violations if v.severity == "error")
        ctx.enforcement = _summary(ctx, level, checked, violations, gate)
        diags = [_diagnostic(f, v) for f, v in zip(found, violations, strict=True)]
        ctx.warnings += [d for d in diags if d.severity == "warning"]
        _log_events(spec.metadata.name, level, violations, gate)
        if errors:
            failure = PolicyError([d for d in diags if d.severity == "error"])
            failure.summary = ctx.enforcement
            raise failure


def _summary(
    ctx: CompileContext, level: str, checked: list[str], violations: list[Violation],
    gate: SchemaGate,
) -> EnforcementResultSummary:  # fmt: skip
    spec, project = ctx.need_spec(), ctx.need_project()
    models = [project.models[t.name] for t in spec.transforms if t.name in project.models]
    columns = [c for m in models for c in m.columns]
    errors = sum(1 for v in violations if v.severity == "error")
    return EnforcementResultSummary(
        passed=errors == 0,
        error_count=errors,
        warning_count=sum(1 for v in violations if v.severity == "warning"),
        policy_types_checked=checked,
        models_validated=len(models),
        enforcement_level=level,
        test_coverage=_percent(sum(1 for c in columns if c.tests), len(columns)),
        model_test_coverage=_percent(sum(1 for m in models if m.all_tests), len(models)),
        violations=violations,
        schema_gate=gate,
    )


def _percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole if whole else 0.0, 2)


def _log_events(product: str, level: str, violations: list[Violation], gate: SchemaGate) -> None:
    """FR-067: strict/blocking policy failures and breaking-change decisions are events."""
    policy_errors = sorted({v.code for v in violations if v.severity == "error"} - {"P470"})
    if policy_errors:
        events.security_event(events.POLICY_VIOLATION, product=product, level=level,
                              errors=sum(1 for v in violations if v.severity == "error"
                                         and v.code != "P470"),
                              codes=policy_errors)  # fmt: skip
    breaking = [f"{c.table}.{c.column}" for c in gate.changes if c.breaking]
    if not breaking:
        return
    if gate.override_reason:
        events.security_event(events.BREAKING_CHANGE_OVERRIDE, product=product,
                              reason=gate.override_reason, columns=breaking)  # fmt: skip
    else:
        events.security_event(events.BREAKING_CHANGE_REJECTED, product=product, columns=breaking)


def _severity(f: Finding, level: str, block: bool) -> str:
    return "error" if level == "strict" or (block and f.quality_gate) else "warning"


def _violation(f: Finding, severity: str, root: Path) -> Violation:
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
