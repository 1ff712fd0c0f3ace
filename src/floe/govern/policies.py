"""The policies ENFORCE evaluates, computed from the real dbt project (YAML + SQL).

Each policy is a function ``(PolicyInput) -> list[Finding]``; the level (off|warn|strict) and
``block_on_failure`` decide severities afterwards, in one place.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from floe.govern.checks import approved_plugins, key_tests, select_star
from floe.govern.finding import Finding, PolicyInput
from floe.spec.dbt_project import DbtModel

MEDALLION: dict[str, str] = {
    "bronze": r"^stg_",
    "silver": r"^int_",
    "gold": r"^(mart|fct|dim|rpt|agg)_",
}


def naming(inp: PolicyInput) -> list[Finding]:
    """Model names follow the tier's pattern (medallion stg_/int_/mart_ or custom regexes)."""
    rules = inp.governance.naming
    if rules.pattern == "none":
        return []
    patterns: dict[str, str] = dict(MEDALLION) if rules.pattern == "medallion" else {}
    patterns.update({str(tier): regex for tier, regex in rules.tiers.items()})
    out = []
    for t in inp.spec.transforms:
        pattern = patterns.get(t.tier)
        if pattern and not re.search(pattern, t.name):
            out.append(
                Finding(
                    "P410",
                    "naming",
                    f"{t.tier} model '{t.name}' does not match the naming pattern /{pattern}/",
                    inp.transform_location(t.name),
                    f"rename the model (and its .sql file) to match /{pattern}/",
                    t.name,
                )
            )
    return out


def _threshold(inp: PolicyInput, tier: str) -> float:
    gates = inp.governance.quality_gates
    return float(gates.tier_test_coverage.get(tier, gates.minimum_test_coverage))  # type: ignore[call-overload]


def column_coverage(model: DbtModel) -> float:
    """Percent of the model's documented columns with at least one test (0 when none)."""
    if not model.columns:
        return 0.0
    tested = sum(1 for c in model.columns if c.tests)
    return 100.0 * tested / len(model.columns)


def test_coverage(inp: PolicyInput) -> list[Finding]:
    """Each model has tests, on at least the tier's percentage of its documented columns."""
    out = []
    for t in inp.spec.transforms:
        model = inp.project.models.get(t.name)
        if model is None:
            continue
        where = inp.model_location(model)
        singular = [n for n, refs in inp.project.singular_tests.items() if t.name in refs]
        if not model.all_tests and not singular:
            out.append(
                Finding(
                    "P421",
                    "test_coverage",
                    f"model '{t.name}' has no tests",
                    where,
                    "add data_tests (not_null, unique, …) to the model or its columns",
                    t.name,
                    quality_gate=True,
                )
            )
        needed = _threshold(inp, t.tier)
        if not model.columns:
            if needed > 0:
                out.append(
                    Finding(
                        "P420",
                        "test_coverage",
                        f"model '{t.name}' documents no columns, so its column test coverage is 0% "
                        f"(required: {needed:g}%)",
                        where,
                        "list the model's columns with tests in schema.yml",
                        t.name,
                        quality_gate=True,
                    )
                )
            continue
        got = column_coverage(model)
        if got + 1e-9 < needed:
            untested = [c.name for c in model.columns if not c.tests]
            out.append(
                Finding(
                    "P420",
                    "test_coverage",
                    f"model '{t.name}' has tests on {got:.0f}% of its columns "
                    f"(required: {needed:g}%)",
                    where,
                    f"add tests to: {', '.join(untested)}",
                    t.name,
                    quality_gate=True,
                )
            )
    return out


def documentation(inp: PolicyInput) -> list[Finding]:
    """Owner always; model and column descriptions when the platform requires them."""
    out = []
    if not inp.spec.metadata.owner.strip():
        out.append(
            Finding(
                "P431",
                "documentation",
                "the product has no owner",
                inp.spec_doc.location(("metadata",)),
                "set metadata.owner (a team or e-mail)",
            )
        )
    if not inp.governance.quality_gates.require_descriptions:
        return out
    for t in inp.spec.transforms:
        model = inp.project.models.get(t.name)
        if model is None:
            continue
        where = inp.model_location(model)
        if not model.description.strip() and not t.description.strip():
            out.append(
                Finding(
                    "P430",
                    "documentation",
                    f"model '{t.name}' has no description",
                    where,
                    "add a description to the model in schema.yml",
                    t.name,
                    quality_gate=True,
                )
            )
        bare = [c.name for c in model.columns if not c.description.strip()]
        if bare:
            out.append(
                Finding(
                    "P432",
                    "documentation",
                    f"model '{t.name}' has columns without description: {', '.join(bare)}",
                    where,
                    "describe every column in schema.yml",
                    t.name,
                    quality_gate=True,
                )
            )
    return out


def plaintext_secrets(inp: PolicyInput) -> list[Finding]:
    """No credential is written in plain text in floe.yaml or manifest.yaml."""
    return [Finding("P440", "secrets", d.message, d.location, d.hint) for d in inp.secret_findings]


POLICIES: dict[str, Callable[[PolicyInput], list[Finding]]] = {
    "naming": naming,
    "test_coverage": test_coverage,
    "documentation": documentation,
    "secrets": plaintext_secrets,
    "key_tests": key_tests,
    "select_star": select_star,
    "approved_plugins": approved_plugins,
}
