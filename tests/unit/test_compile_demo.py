"""The three demo products compile through the real pipeline into the expected artifacts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from floe.compile.api import compile_product
from floe.spec.base import validate_document
from floe.spec.floe_spec import FloeSpec
from floe.spec.manifest import Manifest
from floe.spec.yamlload import load_yaml
from tests.conftest import DEMO, PRODUCTS, run_floe

EXPECTED = {
    "customer-360": {
        "bronze": ["stg_customers", "stg_support_tickets", "stg_transactions"],
        "silver": ["int_customer_support_summary", "int_transactions_enriched"],
        "gold": ["mart_customer_360"],
        "incremental": ("int_transactions_enriched", ["transaction_id"]),
        "gold_deps": ["int_customer_support_summary", "int_transactions_enriched", "stg_customers"],
        "seeds": ["raw_customers", "raw_support_tickets", "raw_transactions"],
    },
    "iot-telemetry": {
        "bronze": ["stg_maintenance", "stg_readings", "stg_sensors"],
        "silver": ["int_equipment_maintenance", "int_readings_enriched"],
        "gold": ["mart_equipment_health"],
        "incremental": ("int_readings_enriched", ["reading_id"]),
        "gold_deps": ["int_equipment_maintenance", "int_readings_enriched", "stg_sensors"],
        "seeds": ["raw_maintenance", "raw_readings", "raw_sensors"],
    },
    "financial-risk": {
        "bronze": ["stg_counterparties", "stg_market_data", "stg_positions"],
        "silver": ["int_counterparty_exposure", "int_position_valuations"],
        "gold": ["mart_risk_dashboard"],
        "incremental": ("int_position_valuations", ["position_id"]),
        "gold_deps": ["int_counterparty_exposure", "stg_counterparties"],
        "seeds": ["raw_counterparties", "raw_market_data", "raw_positions"],
    },
}


def _subset(given: object, compiled: object) -> bool:
    """``given`` (a manifest value) is in ``compiled``: mappings key by key, numbers by
    value (80 is 80.0), anything else equal."""
    if isinstance(given, dict):
        return isinstance(compiled, dict) and all(
            _subset(v, compiled.get(k)) for k, v in given.items()
        )
    return bool(given == compiled)


@pytest.mark.requirement("FR-010")
@pytest.mark.requirement("FR-021")
@pytest.mark.requirement("FR-084")
@pytest.mark.requirement("SC-002")
@pytest.mark.requirement("TQR-004")
@pytest.mark.requirement("WU6-AC5")
@pytest.mark.requirement("WU6-AC6")
@pytest.mark.requirement("15-FR-011")
@pytest.mark.requirement("WU5-AC1")
@pytest.mark.requirement("WU6-AC7")
@pytest.mark.requirement("WU6-BC3")
@pytest.mark.requirement("15-FR-012")
@pytest.mark.parametrize("product", PRODUCTS)
def test_demo_product_compiles_to_expected_artifacts(product: str, tmp_path: Path) -> None:
    """Six models by tier, dependencies, incremental config, seeds, the DuckDB profile and
    the enforcement result — compared whole, so a missing result fails the test — and the
    governance section holding every value the demo manifest's governance sets."""
    res = run_floe("compile", DEMO / product, "--out", tmp_path)
    assert res.code == 0, res.err
    art = json.loads((tmp_path / "compiled_artifacts.json").read_text())
    exp = EXPECTED[product]
    assert art["version"] == "0.6.0"
    assert art["metadata"]["product"] == product
    assert art["metadata"]["namespace"] == product.replace("-", "_")
    assert art["environment"] == "dev"
    governance = yaml.safe_load((DEMO / "manifest.yaml").read_text())["governance"]
    for key, value in governance.items():  # every field the platform team set, as set
        assert _subset(value, art["governance"][key]), (key, value, art["governance"][key])
    assert art["retention"] == {
        "column": None,
        "tables": None,
        "cron": "0 * * * *",
        "enabled": True,
        "window_hours": 1.0,
        "snapshot_keep_last": 3,
    }
    assert art["retry"] == {"max_retries": 2, "delay_seconds": 5.0, "backoff": "exponential"}
    by_tier = {
        tier: sorted(t["name"] for t in art["transforms"] if t["tier"] == tier)
        for tier in ("bronze", "silver", "gold")
    }
    assert by_tier == {k: exp[k] for k in ("bronze", "silver", "gold")}
    models = {t["name"]: t for t in art["transforms"]}
    gold = models[exp["gold"][0]]
    assert gold["depends_on"] == exp["gold_deps"]
    assert gold["unique_id"] == f"model.{product.replace('-', '_')}.{gold['name']}"
    inc_name, inc_key = exp["incremental"]
    assert models[inc_name]["materialization"] == "incremental"
    assert models[inc_name]["unique_key"] == inc_key
    assert [m for m, t in models.items() if t["materialization"] == "incremental"] == [inc_name]
    assert [s["name"] for s in art["seeds"]] == exp["seeds"]
    assert all("_loaded_at" in s["columns"] for s in art["seeds"])
    assert all(set(t["seeds"]) <= set(exp["seeds"]) for t in art["transforms"])
    tests = sum(len(c["tests"]) for t in art["transforms"] for c in t["columns"]) + sum(
        len(t["tests"]) for t in art["transforms"]
    )
    assert tests >= 30
    test_kinds = {name for t in art["transforms"] for c in t["columns"] for name in c["tests"]}
    assert {"not_null", "unique", "accepted_values", "relationships"} <= test_kinds
    assert art["plugins"]["compute"]["type"] == "duckdb"
    assert art["plugins"]["orchestrator"]["type"] == "dagster"
    assert art["schedule"] == {"cron": "*/10 * * * *", "timezone": "UTC", "enabled": True}
    assert art["dbt"]["project_dir"] == "."
    enforcement = art["enforcement_result"]
    gate = enforcement.pop("schema_gate")  # depends on the catalog's state: tables or none
    assert (gate["checked"], gate["changes"], gate["override_reason"]) == (True, [], None)
    assert enforcement == {
        "passed": True,
        "error_count": 0,
        "warning_count": 0,
        "policy_types_checked": [
            "naming",
            "test_coverage",
            "documentation",
            "secrets",
            "key_tests",
            "select_star",
            "approved_plugins",
        ],
        "models_validated": 6,
        "enforcement_level": "warn",
        "test_coverage": 100.0,
        "model_test_coverage": 100.0,
        "violations": [],
    }
    profiles = yaml.safe_load((tmp_path / "profiles.yml").read_text())
    profile = profiles[product.replace("-", "_")]
    assert profile["target"] == "dev"
    assert profile["outputs"]["dev"]["type"] == "duckdb"
    assert profile["outputs"]["dev"]["path"] == "{{ env_var('FLOE_DUCKDB_PATH', ':memory:') }}"
    assert profile["outputs"]["dev"]["settings"] == {"memory_limit": "2GB"}


@pytest.mark.requirement("FR-011")
def test_default_output_location_and_summary(platform_copy: Path) -> None:
    """Without --out, compile writes <product>/target/floe/ and prints stages, tiers, verdict."""
    product = platform_copy / "iot-telemetry"
    res = run_floe("compile", product)
    assert res.code == 0, res.err
    out = product / "target" / "floe"
    assert sorted(p.name for p in out.iterdir()) == [
        "compiled_artifacts.json", "definitions.py", "profiles.yml",
    ]  # fmt: skip
    definitions = (out / "definitions.py").read_text()
    assert 'product_dir=HERE / "../.."' in definitions
    assert 'manifest=HERE / "../../../manifest.yaml"' in definitions
    art = json.loads((out / "compiled_artifacts.json").read_text())
    assert art["dbt"]["project_dir"] == "."
    assert art["dbt"]["profiles_dir"] == "."
    for stage in ("load", "validate", "resolve", "enforce", "compile", "generate", "total"):
        assert f"│ {stage}" in res.out
    assert "│      3 │      2 │    1 │" in res.out
    assert "enforcement (warn): passed · 0 errors · 0 warnings" in res.out


@pytest.mark.requirement("FR-012")
def test_staging_env_applies_strict_enforcement(tmp_path: Path) -> None:
    """--env staging merges the manifest's staging overlay: strict, still passing."""
    ctx = compile_product(DEMO / "customer-360", env="staging", out_dir=tmp_path)
    assert ctx.artifacts is not None
    assert ctx.artifacts.environment == "staging"
    assert ctx.artifacts.enforcement_result.enforcement_level == "strict"
    assert ctx.artifacts.enforcement_result.passed is True
    assert ctx.profiles is not None
    assert ctx.profiles["customer_360"]["target"] == "staging"


@pytest.mark.requirement("FR-011")
def test_validate_writes_nothing(platform_copy: Path) -> None:
    """`floe validate` runs four stages and leaves no target/ directory."""
    product = platform_copy / "financial-risk"
    res = run_floe("validate", product, "--env", "prod")
    assert res.code == 0, res.err
    assert "│ enforce" in res.out
    assert "│ generate" not in res.out
    assert not (product / "target").exists()


UPSTREAM_SPEC = """\
apiVersion: floe.dev/v1
kind: FloeSpec
metadata:
  name: shop-analytics
  version: 2.1.0
  description: "Shop analytics in the upstream layout"
  owner: shop@example.com
  labels:
    domain: retail
    tier: gold
transforms:
  - name: stg_orders
    tags: [staging]
    tier: bronze
  - name: mart_sales
    tags: [marts]
    tier: gold
    dependsOn: [stg_orders]
schedule:
  cron: "*/10 * * * *"
  timezone: UTC
  enabled: true
"""

UPSTREAM_MANIFEST = """\
apiVersion: floe.dev/v1
kind: Manifest
metadata:
  name: shop-platform
  version: 1.0.0
  description: upstream-shaped manifest
  owner: platform@example.com
plugins:
  compute:
    type: duckdb
    config:
      path: /tmp/floe/{product_slug}.duckdb
      threads: 4
      memory_limit: "2GB"
  orchestrator:
    type: dagster
    config:
      default_schedule: "*/10 * * * *"
  catalog:
    type: polaris
    config:
      uri: http://polaris:8181/api/catalog
      warehouse: shop
      oauth2:
        client_id: shop-admin
        client_secret: not-a-real-secret
        scope: PRINCIPAL_ROLE:ALL
        token_url: http://polaris:8181/api/catalog/v1/oauth/tokens
  ingestion:
    type: dlt
    version: 0.1.0
    config:
      retry_config: {max_retries: 3}
  storage:
    type: s3
    config: {endpoint: "http://minio:9000", bucket: shop, path_style_access: true}
  lineage_backend:
    type: marquez
    version: "0.1.0"
    config: {url: "http://marquez:5000", drain_timeout: 30.0, allow_insecure_http: true}
observability:
  tracing: {enabled: true, exporter: otlp, endpoint: "http://otel:4317"}
  lineage: {enabled: true, transport: http, endpoint: "http://marquez:5000/api/v1/lineage"}
  logging: {level: INFO, format: json}
governance:
  policy_enforcement_level: warn
  audit_logging: enabled
  data_retention_days: 1
  default_ttl_hours: 24
  snapshot_keep_last: 3
  stale_table_recovery_mode: repair
  quality_gates: {minimum_test_coverage: 80, require_descriptions: false, block_on_failure: false}
resource_presets:
  small: {cpu_request: "100m", cpu_limit: "500m", memory_request: "256Mi", memory_limit: "512Mi"}
"""


@pytest.mark.requirement("FR-015")
def test_upstream_shaped_files_load_unchanged(tmp_path: Path) -> None:
    """floe.yaml and manifest.yaml in the upstream floe alpha's field layout validate as-is."""
    (tmp_path / "floe.yaml").write_text(UPSTREAM_SPEC)
    (tmp_path / "manifest.yaml").write_text(UPSTREAM_MANIFEST)
    spec = validate_document(FloeSpec, load_yaml(tmp_path / "floe.yaml"), "FloeSpec")
    manifest = validate_document(Manifest, load_yaml(tmp_path / "manifest.yaml"), "Manifest")
    assert [t.name for t in spec.transforms] == ["stg_orders", "mart_sales"]
    assert spec.transforms[1].depends_on == ["stg_orders"]
    assert spec.platform is None
    assert spec.metadata.labels == {"domain": "retail", "tier": "gold"}
    assert manifest.plugins.catalog is not None
    assert manifest.plugins.catalog.type == "polaris"
    assert manifest.plugins.ingestion is not None
    assert manifest.plugins.ingestion.version == "0.1.0"
    assert manifest.governance.snapshot_keep_last == 3
    assert manifest.governance.stale_table_recovery_mode == "repair"
    assert manifest.observability.tracing.exporter == "otlp"


@pytest.mark.requirement("FR-054")
def test_upstream_manifest_compiles_with_every_plugin_it_names(tmp_path: Path) -> None:
    """Compiling against it finds the manifest upward; every plugin it names is installed
    (polaris, s3, marquez lineage and dlt ingestion are built in) and its dlt config
    (``retry_config``) is accepted: the artifacts carry each one."""
    product = tmp_path / "shop"
    (product / "models").mkdir(parents=True)
    (product / "floe.yaml").write_text(UPSTREAM_SPEC)
    (tmp_path / "manifest.yaml").write_text(UPSTREAM_MANIFEST)
    (product / "dbt_project.yml").write_text("name: shop\nprofile: shop\n")
    (product / "models" / "stg_orders.sql").write_text("select 1 as id\n")
    (product / "models" / "mart_sales.sql").write_text("select * from {{ ref('stg_orders') }}\n")
    res = run_floe("compile", product)
    assert res.code == 0, res.err
    assert "E206" not in res.err
    data = json.loads((product / "target" / "floe" / "compiled_artifacts.json").read_text())
    assert {c: p["type"] for c, p in data["plugins"].items()} == {
        "catalog": "polaris", "compute": "duckdb", "ingestion": "dlt",
        "lineage_backend": "marquez", "orchestrator": "dagster", "storage": "s3",
    }  # fmt: skip
    assert data["plugins"]["ingestion"]["config"] == {"retry_config": {"max_retries": 3}}


def _declared_tests(product: Path) -> dict[str, int]:
    """dbt tests declared per model in the product's model YAML (model and column level)."""
    counts: dict[str, int] = {}
    for path in sorted((product / "models").rglob("*.yml")):
        for node in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models") or []:
            own = len(node.get("data_tests", node.get("tests")) or [])
            cols = sum(
                len(c.get("data_tests", c.get("tests")) or []) for c in node.get("columns") or []
            )
            counts[node["name"]] = own + cols
    return counts


@pytest.mark.requirement("FR-085")
@pytest.mark.parametrize("product", PRODUCTS)
def test_each_demo_product_tests_every_layer(product: str, tmp_path: Path) -> None:
    """Every layer of every demo product (bronze, silver, gold, as floe.yaml tiers its
    models) carries dbt tests, and the compiled artifacts hold exactly the tests the
    project's model YAML declares for that layer's models."""
    spec = yaml.safe_load((DEMO / product / "floe.yaml").read_text(encoding="utf-8"))
    tier_of = {t["name"]: t["tier"] for t in spec["transforms"]}
    declared = _declared_tests(DEMO / product)
    want: dict[str, int] = {}
    for model, tier in tier_of.items():
        want[tier] = want.get(tier, 0) + declared.get(model, 0)
    art = compile_product(DEMO / product, out_dir=tmp_path).artifacts
    assert art is not None
    got: dict[str, int] = {}
    for t in art.transforms:
        n = len(t.tests) + sum(len(c.tests) for c in t.columns)
        got[str(t.tier)] = got.get(str(t.tier), 0) + n
    assert got == want
    assert set(got) == {"bronze", "silver", "gold"}
    assert all(n > 0 for n in got.values())
