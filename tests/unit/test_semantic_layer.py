"""The semantic layer (issue 16 point 7): the Cube data model generated from the gold models —
types mapped from the column types, measures and primary key from dbt ``meta`` and tests,
byte-for-byte reproducible — chosen in the manifest and written by compile (no Node.js here:
Cube's compiler runs in tests/e2e/test_semantic_cube.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from floe.compile.api import compile_product
from floe.govern.schema_types import canonical
from floe.plugins.abcs import SemanticColumn, SemanticModel
from floe.plugins.base import PluginType
from floe.plugins.builtin.semantic_cube import CubeSemanticLayerPlugin, cube_type, primary_key
from floe.plugins.registry import default_registry
from tests.conftest import TINY_MANIFEST, write_tiny

CUBE_MANIFEST = TINY_MANIFEST.replace(
    "  storage:\n    type: local\n",
    "  storage:\n    type: local\n  semantic_layer:\n    type: cube\n",
)
GOLD_SCHEMA = """\
version: 2
models:
  - name: mart_revenue
    description: Revenue per customer.
    config:
      alias: revenue_by_customer
      meta:
        cube:
          measures:
            - {name: revenue_per_order, type: number, sql: "{revenue_sum} / NULLIF({count}, 0)"}
            - {name: customers, type: count_distinct, column: customer_id, title: Customers}
    columns:
      - name: revenue
        description: Total {{ not jinja }}.
        data_type: decimal(18,2)
        meta:
          cube:
            measures: [sum, avg]
      - name: customer_id
        description: The customer.
        data_type: varchar
        data_tests: [not_null, unique]
      - name: at
        data_type: timestamp
      - name: flag
        data_type: boolean
"""
MART_SQL = "select 1 as customer_id, sum(amount) as revenue, now() as at, true as flag from {{ ref('int_orders') }}\n"  # noqa: E501


def _product(root: Path, manifest: str = CUBE_MANIFEST) -> Path:
    product = write_tiny(root, manifest=manifest)
    (product / "models" / "gold.yml").write_text(GOLD_SCHEMA)
    schema = (product / "models" / "schema.yml").read_text()
    (product / "models" / "schema.yml").write_text(schema.split("  - name: mart_revenue")[0])
    (product / "models" / "mart_revenue.sql").write_text(MART_SQL)
    return product


@pytest.mark.requirement("FLOE-331")
@pytest.mark.parametrize(
    ("declared", "cube"),
    [
        ("varchar", "string"), ("text", "string"), ("uuid", "string"), ("blob", "string"),
        ("integer", "number"), ("bigint", "number"), ("double", "number"), ("real", "number"),
        ("decimal(18,2)", "number"), ("numeric", "number"),
        ("date", "time"), ("timestamp", "time"), ("timestamptz", "time"), ("time", "time"),
        ("boolean", "boolean"), ("bool", "boolean"),
        (None, "string"), ("struct(a int)", "string"),
    ],
)  # fmt: skip
def test_column_types_map_to_cube_dimension_types(declared: str | None, cube: str) -> None:
    """A dbt data_type, in floe's canonical spelling, maps to Cube's string/number/time/
    boolean; an unknown or missing type is a string dimension."""
    assert cube_type(canonical(declared)) == cube


@pytest.mark.requirement("FLOE-331")
def test_primary_key_comes_from_meta_then_unique_key_then_tests() -> None:
    """A column flagged in meta wins over the model's meta, which wins over a one-column
    unique_key, which wins over the first column tested unique and not_null."""
    cols = (
        SemanticColumn("a", tests=("not_null", "unique")),
        SemanticColumn("b", tests=("not_null", "unique")),
        SemanticColumn("c"),
    )
    model = SemanticModel("m", "ns.m", columns=cols)
    assert primary_key(model) == "a"
    assert primary_key(SemanticModel("m", "ns.m", columns=cols, unique_key=("c",))) == "c"
    meta = {"cube": {"primary_key": "b"}}
    assert (
        primary_key(SemanticModel("m", "ns.m", columns=cols, unique_key=("c",), meta=meta)) == "b"
    )
    flagged = (*cols[:2], SemanticColumn("c", meta={"cube": {"primary_key": True}}))
    assert primary_key(SemanticModel("m", "ns.m", columns=flagged, meta=meta)) == "c"
    assert primary_key(SemanticModel("m", "ns.m", columns=(SemanticColumn("x"),))) is None


@pytest.mark.requirement("FLOE-331")
@pytest.mark.requirement("FLOE-333")
def test_compile_writes_one_cube_per_gold_model_from_its_columns_and_meta(tmp_path: Path) -> None:
    """With ``semantic_layer: cube`` in the manifest, compile writes target/floe/semantic/
    <gold model>.yml: the cube on the Iceberg table (named by the alias), one dimension per
    documented column typed from its data_type, count plus the meta measures (column
    measures over the column, model measures over a member reference or their own SQL), the
    key from the tests, and no Jinja braces left in descriptions."""
    product = _product(tmp_path / "tiny")
    ctx = compile_product(product)
    out = product / "target" / "floe" / "semantic"
    assert [p.name for p in ctx.written if p.parent == out] == ["mart_revenue.yml"]
    (cube,) = yaml.safe_load((out / "mart_revenue.yml").read_text())["cubes"]
    assert cube["name"] == "mart_revenue"
    assert cube["sql_table"] == "tiny.revenue_by_customer"  # the table: dbt's alias
    assert cube["description"] == "Revenue per customer."
    assert [(d["name"], d["type"], d["sql"]) for d in cube["dimensions"]] == [
        ("at", "time", "{CUBE}.at"),
        ("customer_id", "string", "{CUBE}.customer_id"),
        ("flag", "boolean", "{CUBE}.flag"),
        ("revenue", "number", "{CUBE}.revenue"),
    ]
    assert [d["name"] for d in cube["dimensions"] if d.get("primary_key")] == ["customer_id"]
    assert cube["dimensions"][3]["description"] == "Total { { not jinja } }."
    assert cube["measures"] == [
        {"name": "count", "type": "count"},
        {"name": "customers", "type": "count_distinct", "title": "Customers",
         "sql": "{customer_id}"},
        {"name": "revenue_avg", "sql": "{revenue}", "type": "avg"},
        {"name": "revenue_per_order", "type": "number",
         "sql": "{revenue_sum} / NULLIF({count}, 0)"},
        {"name": "revenue_sum", "sql": "{revenue}", "type": "sum"},
    ]  # fmt: skip


@pytest.mark.requirement("FLOE-331")
def test_the_data_model_is_reproducible_byte_for_byte(tmp_path: Path) -> None:
    """Two compiles of the same inputs into two directories write the same bytes, and the
    plugin gives the same text for the columns in any order."""
    product = _product(tmp_path / "tiny")
    compile_product(product, out_dir=tmp_path / "a")
    compile_product(product, out_dir=tmp_path / "b")
    first = (tmp_path / "a" / "semantic" / "mart_revenue.yml").read_bytes()
    assert first == (tmp_path / "b" / "semantic" / "mart_revenue.yml").read_bytes()
    cols = (
        SemanticColumn("b", "long"),
        SemanticColumn("a", "string", meta={"cube": {"measures": ["max"]}}),
    )
    plugin = CubeSemanticLayerPlugin()
    one = plugin.data_model([SemanticModel("m", "ns.m", columns=cols)])
    other = plugin.data_model([SemanticModel("m", "ns.m", columns=cols[::-1])])
    assert one == other
    assert list(one) == ["m.yml"]


@pytest.mark.requirement("FLOE-333")
def test_none_writes_nothing_and_a_dropped_gold_model_leaves_no_file(tmp_path: Path) -> None:
    """``none`` comes from the registry and writes no data model; with cube, a model that is
    no longer gold loses its file at the next compile (the folder is what Cube loads)."""
    assert default_registry().names(PluginType.SEMANTIC_LAYER) == ["cube", "none"]
    product = _product(tmp_path / "tiny")
    compile_product(product)
    out = product / "target" / "floe" / "semantic"
    assert sorted(p.name for p in out.iterdir()) == ["mart_revenue.yml"]
    spec = product / "floe.yaml"
    spec.write_text(spec.read_text().replace("tier: gold", "tier: silver"))
    compile_product(product)
    assert sorted(p.name for p in out.iterdir()) == []
    other = _product(tmp_path / "none", CUBE_MANIFEST.replace("type: cube", "type: none"))
    ctx = compile_product(other)
    assert not (other / "target" / "floe" / "semantic").exists()
    assert sorted(p.name for p in ctx.written) == [
        "compiled_artifacts.json", "definitions.py", "profiles.yml",
    ]  # fmt: skip


@pytest.mark.requirement("FLOE-332")
def test_validation_without_a_layer_or_a_compiler_says_what_to_do(tmp_path: Path) -> None:
    """`floe semantic validate` on a platform without a semantic layer is E682 at the
    manifest's plugins; a cube plugin whose compiler is not installed is E680 naming the
    folder, with `make setup` as the fix, and its health check is degraded, not failing."""
    from floe.app.semantic import validate_semantic
    from floe.errors import InputError
    from floe.plugins.base import HealthState

    product = _product(tmp_path / "tiny", TINY_MANIFEST)
    with pytest.raises(InputError) as err:
        validate_semantic(product, None, "dev")
    (diag,) = err.value.diagnostics
    assert (diag.code, diag.field_path) == ("E682", "plugins.semantic_layer")
    assert diag.message == "the platform of 'tiny' chooses no semantic layer"
    manifest = (product / "manifest.yaml").read_text().splitlines()
    assert diag.location is not None
    assert manifest[diag.location.line - 1] == "plugins:"
    empty = tmp_path / "no-compiler"
    empty.mkdir()
    plugin = CubeSemanticLayerPlugin.from_config({"compiler_dir": str(empty)})
    health = plugin.health_check()
    assert (health.state, health.message) == (
        HealthState.DEGRADED,
        f"Cube's schema compiler is not installed in {empty}",
    )
    with pytest.raises(InputError) as err:
        plugin.validate(tmp_path)
    (diag,) = err.value.diagnostics
    assert (diag.code, diag.message) == ("E680", health.message)
    assert diag.hint.startswith("run `make setup`")
