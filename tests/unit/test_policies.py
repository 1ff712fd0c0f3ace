"""Every ENFORCE policy on a real dbt project: a passing and a failing example each, the levels,
the floor semantics and the reports (in-process compile plus the real CLI for exit codes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from floe.compile.api import compile_product
from floe.errors import FloeError, PolicyError
from floe.spec.artifacts import Violation
from tests.conftest import TINY_SPEC, run_floe


def _violations(product: Path) -> list[Violation]:
    ctx = compile_product(product, write=False)
    assert ctx.enforcement is not None
    return list(ctx.enforcement.violations)


def _codes(product: Path) -> list[tuple[str, str | None]]:
    return sorted((v.code, v.model) for v in _violations(product))


def _set_manifest(product: Path, old: str, new: str) -> None:
    text = (product / "manifest.yaml").read_text()
    assert old in text
    (product / "manifest.yaml").write_text(text.replace(old, new))


def _set_spec(product: Path, text: str) -> None:
    (product / "floe.yaml").write_text(text)


def _set_model(product: Path, name: str, sql: str) -> None:
    (product / "models" / f"{name}.sql").write_text(sql)


@pytest.mark.requirement("WU6-AC4")
def test_tiny_product_passes_every_policy(tiny: Path) -> None:
    """The tiny product is clean: all seven policies ran, none found anything."""
    ctx = compile_product(tiny, write=False)
    assert ctx.enforcement is not None
    assert ctx.enforcement.violations == []
    assert ctx.enforcement.policy_types_checked == [
        "naming",
        "test_coverage",
        "documentation",
        "secrets",
        "key_tests",
        "select_star",
        "approved_plugins",
    ]


@pytest.mark.requirement("WU6-BC2")
def test_enforcement_off_still_produces_the_summary(tiny: Path) -> None:
    """Level off: nothing is checked, yet compiled_artifacts.json carries a summary that says so."""
    _set_manifest(tiny, "level: warn", "level: off")
    _set_model(tiny, "mart_revenue", "select * from {{ ref('int_orders') }}\n")
    compile_product(tiny)
    data = json.loads((tiny / "target" / "floe" / "compiled_artifacts.json").read_text())
    summary = data["enforcement_result"]
    assert summary["enforcement_level"] == "off"
    assert summary["policy_types_checked"] == []
    assert (summary["passed"], summary["error_count"], summary["violations"]) == (True, 0, [])
    assert summary["models_validated"] == 3


@pytest.mark.requirement("FR-011")
def test_naming_medallion_and_custom_regex(tiny: Path) -> None:
    """The medallion names pass; a custom silver regex ^x_ replaces the built-in one, so
    int_orders fails P410 at its floe.yaml line; ^int_ passes again."""
    assert _codes(tiny) == []
    naming = "governance:\n  naming:\n    tiers:\n      silver: '^x_'\n"
    _set_manifest(tiny, "governance:\n", naming)
    found = _violations(tiny)
    assert [(v.code, v.model, v.location) for v in found] == [
        ("P410", "int_orders", "floe.yaml:12:11")
    ]
    assert "/^x_/" in found[0].message
    assert found[0].hint == "rename the model (and its .sql file) to match /^x_/"
    _set_manifest(tiny, "silver: '^x_'", "silver: '^int_'")
    assert _codes(tiny) == []


@pytest.mark.requirement("FR-011")
def test_invalid_naming_regex_is_an_input_error(tiny: Path) -> None:
    """A naming regex that does not compile is refused at LOAD with its location (exit 2)."""
    naming = "governance:\n  naming:\n    tiers:\n      gold: '^(mart'\n"
    _set_manifest(tiny, "governance:\n", naming)
    with pytest.raises(FloeError) as info:
        compile_product(tiny, write=False)
    diag = info.value.diagnostics[0]
    assert diag.code == "E110"
    assert "invalid regular expression" in diag.message
    assert diag.location is not None
    assert diag.location.line == 19


@pytest.mark.requirement("WU6-AC4")
def test_per_tier_coverage_threshold_from_manifest_and_floe_yaml(tiny: Path) -> None:
    """bronze at 100% flags stg_orders (1 of 2 columns tested); floe.yaml may raise a tier's
    threshold (silver 100 still passes: both columns tested) but never lower it (E302)."""
    _set_manifest(
        tiny,
        "minimum_test_coverage: 50\n",
        "minimum_test_coverage: 50\n    tier_test_coverage:\n      bronze: 100\n",
    )
    found = _violations(tiny)
    assert [(v.code, v.model, v.hint) for v in found] == [
        ("P420", "stg_orders", "add tests to: amount")
    ]
    assert "required: 100%" in found[0].message
    raise_silver = "governance:\n  quality_gates:\n    tier_test_coverage:\n      silver: 100\n"
    _set_spec(tiny, TINY_SPEC + raise_silver)
    assert _codes(tiny) == [("P420", "stg_orders")]
    _set_spec(tiny, TINY_SPEC + raise_silver.replace("silver: 100", "bronze: 90"))
    with pytest.raises(FloeError) as info:
        compile_product(tiny, write=False)
    assert [d.code for d in info.value.diagnostics] == ["E302"]
    assert "tier_test_coverage.bronze 90 is below the platform's 100" in str(info.value)


@pytest.mark.requirement("WU6-AC4")
def test_model_level_test_coverage(tiny: Path) -> None:
    """A model without any test (column or model level) fails P421; a singular test in
    tests/ that refs it counts as a test."""
    schema = (tiny / "models" / "schema.yml").read_text()
    schema = schema.replace("        data_tests: [not_null]\n    - name: revenue", "")
    schema = schema.replace(
        "      - name: revenue\n        description: Total.\n        data_tests: [not_null]\n",
        "      - name: revenue\n        description: Total.\n",
    )
    (tiny / "models" / "schema.yml").write_text(schema)
    assert ("P421", "mart_revenue") in _codes(tiny)
    (tiny / "tests").mkdir()
    (tiny / "tests" / "revenue_positive.sql").write_text(
        "select * from {{ ref('mart_revenue') }} where revenue < 0\n"
    )
    assert ("P421", "mart_revenue") not in _codes(tiny)


@pytest.mark.requirement("WU6-AC4")
def test_descriptions_required_and_owner(tiny: Path) -> None:
    """require_descriptions flags a model and a column without description (P430, P432);
    an empty owner is P431 at floe.yaml's metadata."""
    _set_manifest(
        tiny,
        "minimum_test_coverage: 50\n",
        "minimum_test_coverage: 50\n    require_descriptions: true\n",
    )
    assert _codes(tiny) == []
    schema = (tiny / "models" / "schema.yml").read_text()
    schema = schema.replace("    description: Doubled.\n", "").replace(
        "        description: Total.\n", ""
    )
    (tiny / "models" / "schema.yml").write_text(schema)
    found = _violations(tiny)
    assert sorted((v.code, v.model) for v in found) == [
        ("P430", "int_orders"),
        ("P432", "mart_revenue"),
    ]
    assert [v.message for v in found if v.code == "P432"] == [
        "model 'mart_revenue' has columns without description: revenue"
    ]
    _set_spec(tiny, TINY_SPEC.replace("  owner: data@example.com\n", ""))
    owner = [v for v in _violations(tiny) if v.code == "P431"]
    assert [(v.location, v.hint) for v in owner] == [
        ("floe.yaml:4:3", "set metadata.owner (a team or e-mail)")
    ]


@pytest.mark.requirement("WU6-AC4")
def test_key_tests_on_unique_key(tiny: Path) -> None:
    """stg_orders keyed on id with not_null+unique passes; int_orders keyed on id with only
    not_null fails P422 naming the missing uniqueness test; an incremental model without a key
    is P423."""
    _set_model(
        tiny,
        "stg_orders",
        "{{ config(unique_key='id') }}\nselect id, amount from {{ ref('raw_orders') }}\n",
    )
    assert _codes(tiny) == []
    _set_model(
        tiny,
        "int_orders",
        "{{ config(unique_key='id') }}\n"
        "select id, amount * 2 as amount from {{ ref('stg_orders') }}\n",
    )
    found = _violations(tiny)
    assert [(v.code, v.model, v.message) for v in found] == [
        ("P422", "int_orders", "model 'int_orders' has key (id) without a uniqueness test on id")
    ]
    _set_model(
        tiny,
        "mart_revenue",
        "{{ config(materialized='incremental') }}\n"
        "select sum(amount) as revenue from {{ ref('int_orders') }}\n",
    )
    assert _codes(tiny) == [("P422", "int_orders"), ("P423", "mart_revenue")]


@pytest.mark.requirement("WU6-AC4")
def test_select_star_in_gold_only_at_the_outermost_projection(tiny: Path) -> None:
    """Import CTEs with select * are fine; a gold model returning select * is P460 at the
    line and column of the star; a silver select * is not flagged."""
    _set_model(tiny, "int_orders", "select * from {{ ref('stg_orders') }}\n")
    _set_model(
        tiny,
        "mart_revenue",
        "with o as (select * from {{ ref('int_orders') }})\nselect sum(amount) as revenue from o\n",
    )
    assert _codes(tiny) == []
    _set_model(
        tiny,
        "mart_revenue",
        "-- select * in a comment is fine\n"
        "with o as (select * from {{ ref('int_orders') }})\n"
        "select o.* from o\n",
    )
    found = _violations(tiny)
    assert [(v.code, v.location) for v in found] == [("P460", "models/mart_revenue.sql:3:10")]


@pytest.mark.requirement("WU6-AC4")
def test_plugin_type_must_be_approved(tiny: Path) -> None:
    """With nothing locked, a product switching its catalog to 'rest' (the platform chose
    'sql') is P450 at floe.yaml plugins.catalog.type; listing rest in approved_plugins fixes it."""
    _set_manifest(tiny, "governance:\n", "locked: []\ngovernance:\n")
    _set_spec(
        tiny,
        TINY_SPEC + "plugins:\n  catalog:\n    type: rest\n"
        "    config: {uri: 'http://127.0.0.1:1/catalog'}\n",
    )
    found = _violations(tiny)
    assert [(v.code, v.location) for v in found] == [("P450", "floe.yaml:20:11")]
    assert found[0].message == (
        "catalog plugin 'rest' is not approved by the platform (approved: sql)"
    )
    _set_manifest(tiny, "locked: []\n", "locked: []\napproved_plugins:\n  catalog: [sql, rest]\n")
    assert _codes(tiny) == []


@pytest.mark.requirement("FR-061")
@pytest.mark.parametrize(
    ("where", "value", "reason"),
    [
        ("label", "ghp_" + "a1B2" * 9, "GitHub token"),
        ("label", "AKIA" + "ABCDEFGHIJKLMNOP", "AWS access key id"),
        ("label", "xoxb-" + "1234567890-abcdef", "Slack token"),
        ("label", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig", "JSON web token"),
        ("label", "-----BEGIN RSA PRIVATE KEY-----MIIEowIBAAKCAQEA", "private key"),
        ("label", "glpat-" + "x1Y2z3" * 4, "GitLab token"),
        ("config", "plain-password-value", "'password' holds a plaintext value"),
    ],
)
def test_plaintext_secret_in_floe_yaml(tiny: Path, where: str, value: str, reason: str) -> None:
    """A known token format in any floe.yaml value, or any value in a secret-like field, is P440
    at its floe.yaml line (the value never echoed); a harmless label or a {secret: NAME}
    reference passes."""
    if where == "label":
        owner = "  owner: data@example.com\n"
        spec = TINY_SPEC.replace(owner, f"{owner}  labels:\n    ci: '{value}'\n")
        line = "floe.yaml:8:9"
    else:
        spec = (
            TINY_SPEC + f"plugins:\n  compute:\n    config:\n      settings:\n"
            f"        password: '{value}'\n"
        )
        line = "floe.yaml:22:19"
    _set_spec(tiny, spec)
    found = [v for v in _violations(tiny) if v.code == "P440"]
    assert [v.location for v in found] == [line]
    assert reason in found[0].message
    assert value not in found[0].message + found[0].hint
    fixed = "build-42" if where == "label" else "{secret: CI_TOKEN}"
    _set_spec(tiny, spec.replace(f"'{value}'", fixed))
    assert [v for v in _violations(tiny) if v.code == "P440"] == []


@pytest.mark.requirement("WU6-BC1")
def test_warn_level_warns_and_block_on_failure_blocks_quality_gates(tiny: Path) -> None:
    """warn: a coverage violation is a warning and compile passes; with block_on_failure it is
    an error (PolicyError) while a naming violation stays a warning."""
    _set_manifest(tiny, "minimum_test_coverage: 50", "minimum_test_coverage: 90")
    ctx = compile_product(tiny, write=False)
    assert ctx.enforcement is not None
    assert (ctx.enforcement.passed, ctx.enforcement.warning_count) == (True, 1)
    _set_manifest(
        tiny,
        "minimum_test_coverage: 90\n",
        "minimum_test_coverage: 90\n    block_on_failure: true\n",
    )
    _set_manifest(tiny, "governance:\n", "governance:\n  naming:\n    tiers:\n      gold: '^x_'\n")
    with pytest.raises(PolicyError) as info:
        compile_product(tiny, write=False)
    summary = info.value.summary
    assert summary is not None
    assert sorted((v.code, v.severity) for v in summary.violations) == [  # type: ignore[attr-defined]
        ("P410", "warning"),
        ("P420", "error"),
    ]


@pytest.mark.requirement("FR-067")
def test_strict_violation_exits_3_writes_reports_and_logs_an_event(
    tiny: Path, tmp_path: Path
) -> None:
    """strict + a violation: exit 3, the SARIF/JSON/HTML report still written with the
    violation, and a structured governance.policy_violation event."""
    _set_manifest(tiny, "level: warn", "level: strict")
    _set_model(tiny, "mart_revenue", "select * from {{ ref('int_orders') }}\n")
    for fmt in ("sarif", "json", "html"):
        res = run_floe("compile", tiny, "--report", fmt, tmp_path / f"report.{fmt}")
        assert res.code == 3, res.err
        assert "error[P460]: select_star: gold model 'mart_revenue' selects *" in res.err
    sarif = json.loads((tmp_path / "report.sarif").read_text())
    _validate_sarif(sarif)
    (result,) = sarif["runs"][0]["results"]
    assert (result["ruleId"], result["level"]) == ("P460", "error")
    loc = result["locations"][0]["physicalLocation"]
    assert loc == {
        "artifactLocation": {"uri": "models/mart_revenue.sql"},
        "region": {"startLine": 1, "startColumn": 8},
    }
    data = json.loads((tmp_path / "report.json").read_text())
    assert (data["product"], data["passed"], data["error_count"]) == ("tiny", False, 1)
    assert data["violations"][0]["hint"] == "list the columns the mart publishes explicitly"
    page = (tmp_path / "report.html").read_text()
    assert "<td>P460</td>" in page
    assert "<b>failed</b>" in page
    with capture_logs() as logs, pytest.raises(PolicyError):
        compile_product(tiny, write=False)
    events = [e for e in logs if e["event"] == "governance.policy_violation"]
    assert events == [
        {
            "event": "governance.policy_violation",
            "category": "security",
            "log_level": "warning",
            "product": "tiny",
            "level": "strict",
            "errors": 1,
            "codes": ["P460"],
        }
    ]


@pytest.mark.requirement("FR-011")
def test_clean_compile_report_is_valid_sarif_with_no_results(tiny: Path, tmp_path: Path) -> None:
    """A passing compile with --report sarif exits 0 and writes a valid SARIF log without
    results; an unknown format is exit 2 (E140)."""
    res = run_floe("compile", tiny, "--report", "sarif", tmp_path / "r.sarif")
    assert res.code == 0, res.err
    sarif = json.loads((tmp_path / "r.sarif").read_text())
    _validate_sarif(sarif)
    assert sarif["runs"][0]["results"] == []
    assert sarif["runs"][0]["properties"] == {
        "product": "tiny",
        "enforcementLevel": "warn",
        "passed": True,
    }
    bad = run_floe("compile", tiny, "--report", "pdf", tmp_path / "r.pdf")
    assert bad.code == 2
    assert "error[E140]: unknown report format 'pdf'" in bad.err


#: The structural requirements of SARIF 2.1.0 (OASIS standard, sections 3.13-3.27) that a
#: consumer relies on: version, runs[].tool.driver.name, results with ruleId, a level from the
#: standard's enumeration, message.text and physical locations with 1-based regions.
SARIF_SUBSET = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "version": {"const": "2.1.0"},
        "$schema": {"type": "string", "format": "uri"},
        "runs": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["tool"],
                "properties": {
                    "tool": {
                        "type": "object",
                        "required": ["driver"],
                        "properties": {
                            "driver": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {
                                    "name": {"type": "string"},
                                    "rules": {
                                        "type": "array",
                                        "items": {"type": "object", "required": ["id"]},
                                    },
                                },
                            }
                        },
                    },
                    "results": {"type": "array", "items": {"$ref": "#/$defs/result"}},
                },
            },
        },
    },
    "$defs": {
        "result": {
            "type": "object",
            "required": ["message"],
            "properties": {
                "ruleId": {"type": "string"},
                "level": {"enum": ["none", "note", "warning", "error"]},
                "message": {
                    "type": "object",
                    "required": ["text"],
                    "properties": {"text": {"type": "string", "minLength": 1}},
                },
                "locations": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "physicalLocation": {
                                "type": "object",
                                "required": ["artifactLocation"],
                                "properties": {
                                    "artifactLocation": {
                                        "type": "object",
                                        "required": ["uri"],
                                        "properties": {"uri": {"type": "string"}},
                                    },
                                    "region": {
                                        "type": "object",
                                        "properties": {
                                            "startLine": {"type": "integer", "minimum": 1},
                                            "startColumn": {"type": "integer", "minimum": 1},
                                        },
                                    },
                                },
                            }
                        },
                    },
                },
            },
        }
    },
}


def _validate_sarif(doc: dict[str, object]) -> None:
    import jsonschema

    jsonschema.Draft202012Validator(SARIF_SUBSET).validate(doc)


@pytest.mark.requirement("FR-067")
def test_refused_override_of_a_lock_or_the_floor_is_a_security_event(tiny: Path) -> None:
    """A floe.yaml overriding the locked catalog and lowering the enforcement level: E301 and
    E302, and one governance.override_refused event naming both fields."""
    _set_spec(
        tiny,
        TINY_SPEC + "governance:\n  policy_enforcement_level: 'off'\n"
        "plugins:\n  catalog:\n    config:\n      uri: sqlite:///x.db\n",
    )
    with capture_logs() as logs, pytest.raises(FloeError) as info:
        compile_product(tiny, write=False)
    assert sorted(d.code for d in info.value.diagnostics) == ["E301", "E302"]
    assert logs == [
        {
            "event": "governance.override_refused",
            "category": "security",
            "log_level": "warning",
            "product": "tiny",
            "fields": ["governance.policy_enforcement_level", "plugins.catalog.config.uri"],
        }
    ]
