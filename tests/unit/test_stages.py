"""VALIDATE, RESOLVE and ENFORCE behaviour on a small real dbt project (in-process compile)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from floe.compile.api import compile_product
from floe.errors import FloeError, PolicyError
from tests.conftest import TINY_MANIFEST, TINY_SPEC, run_floe


def _codes(exc: FloeError) -> list[str]:
    return [d.code for d in exc.diagnostics]


def _fail(product: Path, **kw: object) -> FloeError:
    with pytest.raises(FloeError) as info:
        compile_product(product, **kw)  # type: ignore[arg-type]
    return info.value


@pytest.mark.requirement("TQR-020")
@pytest.mark.requirement("FR-011")
def test_six_stages_run_in_order_each_in_a_span(tiny: Path) -> None:
    """The stages' recorded times become compile.load … compile.generate SDK spans under one
    'compile' root, in order, when handed to a run's tracer provider."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from floe.observe.compile_trace import capture_compile_spans, hand_over
    from floe.observe.tracing import RunTracing

    capture_compile_spans()()  # forget compiles other tests of this process left recorded
    stop = capture_compile_spans()  # process-wide: stopped below, other tests unaffected
    try:
        ctx = compile_product(tiny)
        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        processor = SimpleSpanProcessor(exporter)
        provider.add_span_processor(processor)
        count = hand_over(RunTracing(provider, provider.get_tracer("test"), None, processor))
    finally:
        stop()
    spans = exporter.get_finished_spans()
    names = [s.name for s in spans]
    stages = ["load", "validate", "resolve", "enforce", "compile", "generate"]
    assert names == [f"compile.{s}" for s in stages] + ["compile"]
    assert count == len(stages) + 1
    root = spans[-1]
    assert all(
        s.parent is not None and s.parent.span_id == root.context.span_id for s in spans[:-1]
    )
    assert [t.name for t in ctx.timings] == stages
    assert all(t.seconds > 0 for t in ctx.timings)
    assert [s.start_time for s in spans[:-1]] == [t.start_ns for t in ctx.timings]


@pytest.mark.requirement("FR-011")
def test_validate_unknown_dependency_suggests_name(tiny: Path) -> None:
    """dependsOn: [stg_order] (typo) → E201 with a did-you-mean."""
    (tiny / "floe.yaml").write_text(
        TINY_SPEC.replace("dependsOn: [stg_orders]", "dependsOn: [stg_order]")
    )
    err = _fail(tiny)
    assert _codes(err) == ["E201"]
    assert err.diagnostics[0].hint == "did you mean 'stg_orders'?"
    assert err.diagnostics[0].location is not None
    assert err.diagnostics[0].location.line == 14


@pytest.mark.requirement("FR-011")
def test_validate_cycle_and_backwards_tier_flow(tiny: Path) -> None:
    """stg_orders depending on mart_revenue is both a cycle and gold→bronze flow."""
    spec = TINY_SPEC.replace(
        "    tier: bronze\n", "    tier: bronze\n    dependsOn: [mart_revenue]\n"
    )
    (tiny / "floe.yaml").write_text(spec)
    err = _fail(tiny)
    assert sorted(_codes(err)) == ["E202", "E203"]
    text = err.render()
    assert "dependency cycle: stg_orders → mart_revenue → int_orders → stg_orders" in text
    assert "bronze transform 'stg_orders' depends on gold transform 'mart_revenue'" in text


@pytest.mark.requirement("WU5-BC1")
def test_missing_seed_data_fails_naming_where_the_seed_is_read_from(tiny: Path) -> None:
    """The seed CSV a model refs is missing: compile fails with one E211 at the model that
    reads it, naming the file it looked for under the project's seed-paths (``seeds/`` by
    default, ``data/`` when dbt_project.yml says so) — before anything runs."""
    (tiny / "seeds" / "raw_orders.csv").unlink()
    err = _fail(tiny)
    (diag,) = err.diagnostics
    assert (diag.code, Path(diag.location.file).name) == ("E211", "stg_orders.sql")
    assert diag.message == (
        "ref('raw_orders') names no model or seed of this project "
        "(no seed data seeds/raw_orders.csv)"
    )
    project = tiny / "dbt_project.yml"
    project.write_text(project.read_text() + "seed-paths: [data, more]\n")
    assert "(no seed data data/raw_orders.csv or more/raw_orders.csv)" in _fail(tiny).render()


@pytest.mark.requirement("FR-011")
def test_validate_transforms_and_models_match(tiny: Path) -> None:
    """A transform without SQL (E204) and a SQL model without transform (E205) are both found."""
    (tiny / "models" / "stg_orders.sql").rename(tiny / "models" / "stg_order_lines.sql")
    err = _fail(tiny)
    assert sorted(_codes(err)) == ["E204", "E205", "E211"]
    text = err.render()
    assert "transform 'stg_orders' has no dbt model (no stg_orders.sql)" in text
    assert "dbt model 'stg_order_lines' is not listed in floe.yaml transforms" in text
    assert "ref('stg_orders') names no model or seed of this project" in text


@pytest.mark.requirement("FR-012")
def test_resolve_locked_field_cannot_be_overridden(tiny: Path) -> None:
    """The platform locks plugins.catalog by default: a product override is E301."""
    spec = TINY_SPEC + "plugins:\n  catalog:\n    config:\n      uri: sqlite:///x.db\n"
    (tiny / "floe.yaml").write_text(spec)
    err = _fail(tiny)
    assert _codes(err) == ["E301"]
    assert "the platform locks 'plugins.catalog'" in err.render()


@pytest.mark.requirement("FR-012")
def test_resolve_product_override_merges_over_manifest(tiny: Path) -> None:
    """An unlocked override (compute threads) is merged over the manifest's defaults."""
    spec = TINY_SPEC + "plugins:\n  compute:\n    config:\n      threads: 3\n"
    (tiny / "floe.yaml").write_text(spec)
    ctx = compile_product(tiny)
    assert ctx.artifacts is not None
    assert ctx.artifacts.plugins["compute"].config == {"threads": 3}
    assert ctx.profiles == {
        "tiny": {
            "target": "dev",
            "outputs": {
                "dev": {
                    "type": "duckdb",
                    "path": "{{ env_var('FLOE_DUCKDB_PATH', ':memory:') }}",
                    "threads": 3,
                    "config_options": {
                        "autoinstall_known_extensions": False,
                        "autoload_known_extensions": False,
                    },
                    "plugins": [
                        {
                            "module": "floe.runtime.dbt_duckdb_plugin",
                            "config": {"extensions": ["httpfs", "avro", "iceberg"]},
                        }
                    ],
                }
            },
        }
    }


@pytest.mark.requirement("FR-012")
def test_resolve_governance_may_only_get_stricter(tiny: Path) -> None:
    """Lowering coverage or the enforcement level in floe.yaml is E302 (twice)."""
    spec = TINY_SPEC + (
        "governance:\n  policy_enforcement_level: 'off'\n"
        "  quality_gates:\n    minimum_test_coverage: 10\n"
    )
    (tiny / "floe.yaml").write_text(spec)
    err = _fail(tiny)
    assert _codes(err) == ["E302", "E302"]


@pytest.mark.requirement("FR-012")
def test_resolve_unapproved_compute(tiny: Path) -> None:
    """A transform asking for compute 'spark' that the platform did not approve → E303."""
    (tiny / "floe.yaml").write_text(
        TINY_SPEC.replace("    tier: gold\n", "    tier: gold\n    compute: spark\n")
    )
    err = _fail(tiny)
    assert _codes(err) == ["E303"]
    assert "compute 'spark' is not approved by the platform (approved: duckdb)" in err.render()


@pytest.mark.requirement("FR-012")
def test_env_overlay_changes_governance_and_unknown_env_is_refused(tiny: Path) -> None:
    """--env prod takes the prod overlay; --env qa (undefined) is E121 naming the known ones."""
    manifest = TINY_MANIFEST + (
        "environments:\n  dev: {}\n  prod:\n    governance:\n      snapshot_keep_last: 9\n"
    )
    (tiny / "manifest.yaml").write_text(manifest)
    prod = compile_product(tiny, env="prod")
    assert prod.artifacts is not None
    assert prod.artifacts.environment == "prod"
    assert prod.artifacts.governance.snapshot_keep_last == 9
    assert prod.profiles is not None
    assert prod.profiles["tiny"]["target"] == "prod"
    dev = compile_product(tiny, env="dev")
    assert dev.artifacts is not None
    assert dev.artifacts.governance.snapshot_keep_last == 5
    err = _fail(tiny, env="qa")
    assert _codes(err) == ["E121"]
    assert "unknown environment 'qa' (the manifest defines: dev, prod)" in err.render()


@pytest.mark.requirement("FR-012")
def test_env_overlay_errors_point_into_the_overlay(tiny: Path) -> None:
    """A bad value inside environments.prod is reported at its own line."""
    manifest = TINY_MANIFEST + (
        "environments:\n  prod:\n    governance:\n      snapshot_keep_last: many\n"
    )
    (tiny / "manifest.yaml").write_text(manifest)
    err = _fail(tiny, env="prod")
    assert _codes(err) == ["E110"]
    loc = err.diagnostics[0].location
    assert loc is not None
    assert loc.line == TINY_MANIFEST.count("\n") + 4


@pytest.mark.requirement("WU6-AC4")
def test_coverage_is_computed_from_the_real_schema_yml(tiny: Path) -> None:
    """stg_orders tests 1 of 2 columns (50%); raising the gate to 60 flags exactly that model."""
    ctx = compile_product(tiny, write=False)
    assert ctx.enforcement is not None
    assert ctx.enforcement.passed is True
    assert ctx.enforcement.test_coverage == 80.0  # 4 of 5 documented columns
    assert ctx.enforcement.model_test_coverage == 100.0
    manifest = TINY_MANIFEST.replace("minimum_test_coverage: 50", "minimum_test_coverage: 60")
    (tiny / "manifest.yaml").write_text(manifest)
    ctx = compile_product(tiny, write=False)
    assert ctx.enforcement is not None
    flagged = [(v.code, v.model, v.severity) for v in ctx.enforcement.violations]
    assert flagged == [("P420", "stg_orders", "warning")]
    assert ctx.enforcement.violations[0].location == "models/schema.yml:3:5"
    assert ctx.enforcement.violations[0].hint == "add tests to: amount"


@pytest.mark.requirement("WU6-AC4")
def test_model_without_columns_has_zero_coverage_not_a_free_pass(tiny: Path) -> None:
    """Removing every column of mart_revenue from schema.yml makes it fail the gate (0%)."""
    schema = (tiny / "models" / "schema.yml").read_text()
    schema = (
        schema.split("  - name: mart_revenue")[0] + "  - name: mart_revenue\n    description: R.\n"
    )
    (tiny / "models" / "schema.yml").write_text(schema)
    ctx = compile_product(tiny, write=False)
    assert ctx.enforcement is not None
    codes = sorted((v.code, v.model) for v in ctx.enforcement.violations)
    assert codes == [("P420", "mart_revenue"), ("P421", "mart_revenue")]


@pytest.mark.requirement("WU6-AC4")
def test_strict_enforcement_exits_3_and_writes_nothing(tiny: Path) -> None:
    """A naming violation under strict → exit 3, the violation printed, no artifacts written."""
    (tiny / "manifest.yaml").write_text(TINY_MANIFEST.replace("level: warn", "level: strict"))
    (tiny / "models" / "mart_revenue.sql").rename(tiny / "models" / "revenue.sql")
    schema = (tiny / "models" / "schema.yml").read_text().replace("mart_revenue", "revenue")
    (tiny / "models" / "schema.yml").write_text(schema)
    (tiny / "floe.yaml").write_text(TINY_SPEC.replace("mart_revenue", "revenue"))
    res = run_floe("compile", tiny)
    assert res.code == 3
    assert "error[P410]: naming: gold model 'revenue' does not match the naming pattern" in res.err
    assert not (tiny / "target" / "floe" / "compiled_artifacts.json").exists()
    with pytest.raises(PolicyError):
        compile_product(tiny)


@pytest.mark.requirement("FR-065")
def test_plaintext_secret_is_flagged_and_replaced_by_a_reference(tiny: Path) -> None:
    """A plaintext client_secret in the manifest never reaches the artifacts; a reference does."""
    manifest = TINY_MANIFEST.replace(
        "  compute:\n    type: duckdb\n",
        "  compute:\n    type: duckdb\n    config:\n      settings:\n"
        "        s3_secret_access_key: hunter2-very-secret\n",
    )
    (tiny / "manifest.yaml").write_text(manifest)
    ctx = compile_product(tiny)
    text = (tiny / "target" / "floe" / "compiled_artifacts.json").read_text()
    assert "hunter2-very-secret" not in text
    assert "hunter2-very-secret" not in (tiny / "target" / "floe" / "profiles.yml").read_text()
    data = json.loads(text)
    assert data["plugins"]["compute"]["config"]["settings"] == {
        "s3_secret_access_key": {"secret": "FLOE_COMPUTE_SETTINGS_S3_SECRET_ACCESS_KEY"}
    }
    assert ctx.enforcement is not None
    secrets = [v for v in ctx.enforcement.violations if v.policy == "secrets"]
    assert [(v.code, v.location) for v in secrets] == [("P440", "manifest.yaml:12:31")]


@pytest.mark.requirement("FLOE-009")
def test_maintenance_settings_reach_the_artifacts(tiny: Path) -> None:
    """floe.yaml maintenance (cron, sizes with units, ages) and the manifest's
    snapshot_keep_last land in the artifacts as bytes and seconds; the defaults are a daily
    job, 128 MiB and 3 days; an unreadable size is E110 at its line."""
    art = compile_product(tiny).artifacts
    assert art is not None
    assert art.maintenance.model_dump() == {
        "cron": "0 3 * * *", "enabled": True, "target_file_bytes": 128 * 2**20,
        "orphan_older_than_seconds": 3 * 86400.0, "snapshot_keep_last": 5,
    }  # fmt: skip
    (tiny / "manifest.yaml").write_text(TINY_MANIFEST.replace(
        "governance:\n", "governance:\n  snapshot_keep_last: 2\n"))  # fmt: skip
    (tiny / "floe.yaml").write_text(TINY_SPEC + (
        "maintenance:\n  cron: '30 2 * * 6'\n  enabled: false\n  target_file_size: 64MB\n"
        "  orphan_older_than: 12h\n"))  # fmt: skip
    art = compile_product(tiny).artifacts
    assert art is not None
    assert art.maintenance.model_dump() == {
        "cron": "30 2 * * 6", "enabled": False, "target_file_bytes": 64_000_000,
        "orphan_older_than_seconds": 12 * 3600.0, "snapshot_keep_last": 2,
    }  # fmt: skip
    (tiny / "floe.yaml").write_text(TINY_SPEC + "maintenance:\n  target_file_size: 12 parsecs\n")
    err = _fail(tiny)
    assert _codes(err) == ["E110"]
    diag = err.diagnostics[0]
    assert diag.location is not None
    assert diag.location.line == len(TINY_SPEC.splitlines()) + 2
    assert "'12 parsecs' is no size" in diag.message


@pytest.mark.requirement("FR-031")
def test_retention_and_retry_reach_the_artifacts(tiny: Path) -> None:
    """floe.yaml retention/retry and the manifest's window (smaller of hours and days) and
    snapshot_keep_last land in the artifacts; an unknown retention table is E213 at its line."""
    (tiny / "manifest.yaml").write_text(TINY_MANIFEST.replace(
        "governance:\n",
        "governance:\n  data_retention_days: 1\n  data_retention_hours: 6\n"
        "  snapshot_keep_last: 4\n"))  # fmt: skip
    (tiny / "floe.yaml").write_text(TINY_SPEC + (
        "retention:\n  column: ts\n  tables: [raw_orders, stg_orders]\n  cron: '15 * * * *'\n"
        "retry:\n  max_retries: 4\n  delay_seconds: 1\n  backoff: constant\n"))  # fmt: skip
    art = compile_product(tiny).artifacts
    assert art is not None
    assert art.retention.model_dump() == {
        "column": "ts", "tables": ["raw_orders", "stg_orders"], "cron": "15 * * * *",
        "enabled": True, "window_hours": 6.0, "snapshot_keep_last": 4,
    }  # fmt: skip
    assert art.retry.model_dump() == {"max_retries": 4, "delay_seconds": 1.0,
                                      "backoff": "constant"}  # fmt: skip
    (tiny / "floe.yaml").write_text(TINY_SPEC + "retention:\n  tables: [stg_order]\n")
    err = _fail(tiny)
    assert _codes(err) == ["E213"]
    diag = err.diagnostics[0]
    assert diag.location is not None
    assert diag.location.line == len(TINY_SPEC.splitlines()) + 2
    assert "did you mean 'stg_orders'?" in diag.hint
