"""The Cube semantic layer over a demo product (issue 16 point 7): compile writes the Cube data
model of customer-360's gold model, Cube's own schema compiler (npm, installed by make setup
into .venv/cube) loads it with the cubes, dimensions and measures derived from the model's
columns and meta, and refuses a measure over a column that is not there, naming the model."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from floe.app.semantic import validate_semantic
from floe.plugins.base import HealthState, PluginType
from floe.plugins.registry import default_registry
from tests.conftest import DEMO, floe_cli

PRODUCT = "customer-360"
GOLD = "mart_customer_360"
#: dbt data types of the demo's gold model → Cube dimension types (Cube's documentation).
CUBE_TYPES = {
    "varchar": "string", "integer": "number", "double": "number", "decimal(18,2)": "number",
    "date": "time", "timestamp": "time", "boolean": "boolean",
}  # fmt: skip
MODEL_MEASURES = [
    {"name": "customers", "type": "count_distinct", "column": "customer_id"},
    {"name": "revenue_per_order", "type": "number",
     "sql": "{total_revenue_sum} / NULLIF({order_count_sum}, 0)"},
]  # fmt: skip


def _copy(root: Path, model_measures: list[dict[str, Any]]) -> Path:
    """customer-360 and a manifest choosing ``cube``; the gold model's properties carry
    meta.cube: sum/avg of total_revenue, sum of order_count, ``model_measures``."""
    shutil.copytree(DEMO / PRODUCT, root / PRODUCT, ignore=shutil.ignore_patterns("target", "logs"))
    manifest = (DEMO / "manifest.yaml").read_text()
    assert "  secrets:\n" in manifest
    manifest = manifest.replace("  secrets:\n", "  semantic_layer:\n    type: cube\n  secrets:\n")
    (root / "manifest.yaml").write_text(manifest)
    schema = root / PRODUCT / "models" / "schema.yml"
    doc = yaml.safe_load(schema.read_text())
    (gold,) = [m for m in doc["models"] if m["name"] == GOLD]
    gold["config"] = {"meta": {"cube": {"measures": model_measures}}}
    for column in gold["columns"]:
        if column["name"] == "total_revenue":
            column["meta"] = {"cube": {"measures": ["sum", "avg"]}}
        if column["name"] == "order_count":
            column["meta"] = {"cube": {"measures": ["sum"]}}
    schema.write_text(yaml.safe_dump(doc, sort_keys=False))
    return root / PRODUCT


@pytest.fixture(scope="module")
def gold_columns() -> dict[str, str]:
    """The demo gold model's documented columns and their dbt data types."""
    doc = yaml.safe_load((DEMO / PRODUCT / "models" / "schema.yml").read_text())
    (gold,) = [m for m in doc["models"] if m["name"] == GOLD]
    return {c["name"]: c["data_type"] for c in gold["columns"]}


@pytest.mark.requirement("FLOE-332")
@pytest.mark.requirement("FLOE-331")
def test_cube_compiler_loads_the_gold_model_with_its_columns_and_measures(
    tmp_path: Path, gold_columns: dict[str, str]
) -> None:
    """`validate_semantic` compiles customer-360 and Cube's compiler loads the written file
    without an error; as Cube's compiler loaded it, the model is one cube named like the only
    gold model, a dimension per documented column with the type its data_type maps to, the
    count and every meta measure with Cube's aggregation; the plugin is healthy."""
    product = _copy(tmp_path, MODEL_MEASURES)
    spec = yaml.safe_load((product / "floe.yaml").read_text())
    assert [t["name"] for t in spec["transforms"] if t["tier"] == "gold"] == [GOLD]
    done = validate_semantic(product, None, "dev")
    folder = product / "target" / "floe" / "semantic"
    assert (done.product, done.plugin, done.files) == (PRODUCT, "cube", [folder / f"{GOLD}.yml"])
    plugin = default_registry().create(PluginType.SEMANTIC_LAYER, "cube", {})
    assert plugin.health_check().state is HealthState.HEALTHY
    (compiled,) = done.loaded
    assert compiled.model == GOLD
    assert compiled.dimensions == {name: CUBE_TYPES[dtype] for name, dtype in gold_columns.items()}
    assert compiled.measures == {
        "count": "count",
        "customers": "countDistinct",
        "order_count_sum": "sum",
        "revenue_per_order": "number",
        "total_revenue_avg": "avg",
        "total_revenue_sum": "sum",
    }


@pytest.mark.requirement("FLOE-332")
def test_a_measure_over_a_missing_column_is_refused_by_cube_naming_the_model(
    tmp_path: Path,
) -> None:
    """A meta measure over ``total_revenu`` (a typo): `floe semantic validate` exits 2 with
    Cube's own message (E683), the model's name and its dbt properties' file:line; a second
    gold model (a second file, loaded fine) is not blamed."""
    broken = [{"name": "revenue", "type": "sum", "column": "total_revenu"}]
    product = _copy(tmp_path, broken)
    spec = product / "floe.yaml"
    other = "  - name: int_customer_support_summary\n    tier: silver\n"
    assert other in spec.read_text()
    spec.write_text(spec.read_text().replace(other, other.replace("silver", "gold")))
    schema = product / "models" / "schema.yml"
    line = schema.read_text().splitlines().index(f"- name: {GOLD}") + 1
    result = floe_cli("semantic", "validate", product, cwd=tmp_path)
    assert result.code == 2, result.out + result.err
    assert (
        f"{PRODUCT}/models/schema.yml:{line}:3: error[E683]: meta.cube: the semantic layer "
        f"refuses model '{GOLD}' ({GOLD}.yml): total_revenu is not defined"
    ) in result.err, result.err
    assert result.err.count("error[E683]") == 1, result.err
    written = sorted(p.name for p in (product / "target" / "floe" / "semantic").iterdir())
    assert written == ["int_customer_support_summary.yml", f"{GOLD}.yml"]
