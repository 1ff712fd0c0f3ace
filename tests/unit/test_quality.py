"""The quality plugin category (issue 16 point 2, FR-026): expectations declared in floe.yaml
are checked at compile (a model of the product, a type the chosen plugin provides, a plugin
that validates any), land in the artifacts, and the great_expectations plugin validates a
table through GX's own expectations."""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow as pa
import pytest

from floe.compile.api import compile_product
from floe.errors import InputError
from floe.plugins.builtin.quality import GX_EXPECTATIONS, GreatExpectationsQualityPlugin
from floe.plugins.records import QualityCheck
from tests.conftest import GX_MANIFEST, TINY_SPEC, tiny_quality, write_tiny

QUALITY = tiny_quality(100)


def _problems(product: Path) -> list[tuple[str, int, int, str, str, str]]:
    with pytest.raises(InputError) as err:
        compile_product(product, write=False)
    return [
        (d.code, d.location.line, d.location.col, d.field_path, d.message, d.hint)
        for d in err.value.diagnostics
        if d.location is not None
    ]


@pytest.mark.requirement("FLOE-301")
def test_declared_expectations_compile_into_the_artifacts(tmp_path: Path) -> None:
    """Two expectations of two models in floe.yaml with the great_expectations plugin: the
    artifacts carry, per model, each expectation's type, arguments and floe.yaml line."""
    product = write_tiny(tmp_path / "tiny", spec=TINY_SPEC + QUALITY, manifest=GX_MANIFEST)
    ctx = compile_product(product, out_dir=tmp_path / "out")
    assert ctx.artifacts is not None
    got = {
        model: [(c.type, c.kwargs, c.where) for c in checks]
        for model, checks in ctx.artifacts.quality.items()
    }
    line = len(TINY_SPEC.splitlines()) + 4  # the stg_orders expectation's line
    assert got == {
        "int_orders": [
            ("expect_column_values_to_be_between",
             {"column": "amount", "min_value": 0, "max_value": 100}, f"floe.yaml:{line + 2}:9"),
        ],
        "stg_orders": [
            ("expect_column_values_to_not_be_null", {"column": "id"}, f"floe.yaml:{line}:9"),
        ],
    }  # fmt: skip
    assert ctx.artifacts.plugins["quality"].type == "great_expectations"


@pytest.mark.requirement("FLOE-302")
def test_an_unknown_model_or_expectation_type_is_a_located_error(tmp_path: Path) -> None:
    """An expectation of a model the product does not have (E651, the model's key, 'did you
    mean' the transform) and a misspelt expectation type (E652, the type's key, 'did you
    mean' GX's name) are reported together at file:line:col."""
    spec = TINY_SPEC + QUALITY.replace("    int_orders:", "    int_order:").replace(
        "expect_column_values_to_not_be_null", "expect_column_values_to_not_be_nul"
    )
    product = write_tiny(tmp_path / "tiny", spec=spec, manifest=GX_MANIFEST)
    line = len(TINY_SPEC.splitlines()) + 3  # quality.expectations.stg_orders
    assert _problems(product) == [
        ("E651", line + 2, 5, "quality.expectations.int_order",
         "quality.expectations names 'int_order', which is not a transform of this product",
         "did you mean 'int_orders'?"),
        ("E652", line + 1, 9, "quality.expectations.stg_orders.0",
         "unknown expectation type 'expect_column_values_to_not_be_nul' (quality plugin "
         "'great_expectations')",
         "did you mean 'expect_column_values_to_not_be_null'?"),
    ]  # fmt: skip


@pytest.mark.requirement("FLOE-302")
def test_expectations_without_a_validating_quality_plugin_are_refused(tmp_path: Path) -> None:
    """The platform chooses no quality plugin (the default, dbt tests only): declared
    expectations are E650 at the first one in floe.yaml, saying how to choose GX."""
    product = write_tiny(tmp_path / "tiny", spec=TINY_SPEC + QUALITY)
    line = len(TINY_SPEC.splitlines()) + 4
    ((code, at, col, field, message, hint),) = _problems(product)
    assert (code, at, col, field) == ("E650", line, 9, "quality.expectations.stg_orders.0")
    assert message == (
        "floe.yaml declares expectations but the platform's quality plugin 'dbt' validates "
        "none (dbt tests only)"
    )
    assert "plugins: {quality: {type: great_expectations}}" in hint


BESIDE = """expectations:
  - expect_table_row_count_to_equal: {value: 2}
  - expect_column_values_to_be_unique: {column: id}
"""


@pytest.mark.requirement("FLOE-301")
def test_an_expectations_file_beside_the_model_adds_its_checks(tmp_path: Path) -> None:
    """models/int_orders.expectations.yml declares two more expectations of int_orders: they
    follow floe.yaml's in the artifacts, located in their own file."""
    product = write_tiny(tmp_path / "tiny", spec=TINY_SPEC + QUALITY, manifest=GX_MANIFEST)
    (product / "models" / "int_orders.expectations.yml").write_text(BESIDE)
    ctx = compile_product(product, out_dir=tmp_path / "out")
    assert ctx.artifacts is not None
    got = [(c.type, c.kwargs, c.where) for c in ctx.artifacts.quality["int_orders"]]
    line = len(TINY_SPEC.splitlines()) + 6
    assert got == [
        ("expect_column_values_to_be_between",
         {"column": "amount", "min_value": 0, "max_value": 100}, f"floe.yaml:{line}:9"),
        ("expect_table_row_count_to_equal", {"value": 2},
         "models/int_orders.expectations.yml:2:5"),
        ("expect_column_values_to_be_unique", {"column": "id"},
         "models/int_orders.expectations.yml:3:5"),
    ]  # fmt: skip


@pytest.mark.requirement("FLOE-302")
def test_errors_in_an_expectations_file_are_located_in_it(tmp_path: Path) -> None:
    """An unknown type in stg_orders' file is E652 at its line in that file; an entry of two
    expectations in int_orders' file is refused at its line (one expectation per entry)."""
    product = write_tiny(tmp_path / "tiny", manifest=GX_MANIFEST)
    models = product / "models"
    (models / "stg_orders.expectations.yml").write_text(
        "expectations:\n  - expect_column_values_to_be_uniq: {column: id}\n"
    )
    (models / "int_orders.expectations.yml").write_text(
        "expectations:\n  - {expect_column_to_exist: {column: id},"
        " expect_column_values_to_be_unique: {column: id}}\n"
    )
    with pytest.raises(InputError) as err:
        compile_product(product, write=False)
    found = sorted(
        (Path(d.location.file).name, d.location.line, d.code, d.field_path, d.hint)
        for d in err.value.diagnostics
        if d.location is not None
    )
    assert len(found) == 2
    assert found[1] == (
        "stg_orders.expectations.yml", 2, "E652", "expectations.0",
        "did you mean 'expect_column_values_to_be_unique'?",
    )  # fmt: skip
    assert found[0][:4] == ("int_orders.expectations.yml", 2, "E110", "expectations[0]")


@pytest.mark.requirement("FLOE-303")
def test_gx_validates_a_table_naming_each_failed_expectation() -> None:
    """Three rows through the great_expectations plugin: a passing not-null, a failing range
    (the unexpected value quoted), arguments GX refuses (a failed result saying so) and a
    table-level row count; one result per check, in order."""
    table = pa.table({"id": [1, 2, 3], "amount": [5, 50, 500]})
    checks = [
        QualityCheck("expect_column_values_to_not_be_null", {"column": "id"}),
        QualityCheck(
            "expect_column_values_to_be_between",
            {"column": "amount", "min_value": 0, "max_value": 100},
        ),
        QualityCheck("expect_column_values_to_be_between", {"colum": "amount"}),
        QualityCheck("expect_table_row_count_to_equal", {"value": 3}),
    ]
    results = GreatExpectationsQualityPlugin().validate("tiny.orders", table, checks)
    assert [(r.name, r.success, r.column) for r in results] == [
        ("expect_column_values_to_not_be_null(column=id)", True, "id"),
        ("expect_column_values_to_be_between(column=amount)", False, "amount"),
        ("expect_column_values_to_be_between", False, None),
        ("expect_table_row_count_to_equal", True, None),
    ]
    assert results[1].detail == "1 of 3 values unexpected, e.g. [500]"
    assert results[2].detail == (
        "invalid expectation: column: field required; colum: extra fields not permitted; "
        "min_value and max_value cannot both be None"
    )


@pytest.mark.requirement("FLOE-303")
def test_the_declarable_expectations_are_gx_core_expectations() -> None:
    """Every type compile accepts for great_expectations is registered by the installed GX
    (compile knows them without importing GX)."""
    from great_expectations.expectations.registry import (
        list_registered_expectation_implementations,
    )

    registered = set(list_registered_expectation_implementations())
    assert set(GX_EXPECTATIONS) <= registered
    assert len(GX_EXPECTATIONS) == len(set(GX_EXPECTATIONS)) == 56


@pytest.mark.requirement("FLOE-383")
def test_expectations_of_a_spark_product_compile(tmp_path: Path) -> None:
    """A product on Spark compute declaring expectations compiles (E653 is retired: the Spark
    runner validates them on the audit branch): the artifacts carry them as for DuckDB."""
    manifest = GX_MANIFEST.replace(
        "governance:\n",
        "approved_compute: [duckdb, spark]\ncompute_configs:\n  spark: {master: 'local[2]'}\n"
        "governance:\n",
    )
    spec = TINY_SPEC.replace("transforms:\n", "compute: spark\ntransforms:\n") + QUALITY
    product = write_tiny(tmp_path / "tiny", spec=spec, manifest=manifest)
    ctx = compile_product(product, out_dir=tmp_path / "out")
    assert ctx.artifacts is not None
    assert ctx.artifacts.plugins["compute"].type == "spark"
    line = len(spec.splitlines()) - 2  # the stg_orders expectation
    assert [(c.type, c.kwargs, c.where) for c in ctx.artifacts.quality["stg_orders"]] == [
        ("expect_column_values_to_not_be_null", {"column": "id"}, f"floe.yaml:{line}:9")
    ]


@pytest.mark.requirement("FLOE-303")
def test_without_gx_installed_the_plugin_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Great Expectations not importable: validating expectations is E655 naming the extra to
    install (the health check, which never imports GX, stays an answer)."""
    from floe.errors import FloeError

    monkeypatch.setitem(sys.modules, "great_expectations", None)  # import fails
    plugin = GreatExpectationsQualityPlugin()
    with pytest.raises(FloeError) as err:
        plugin.validate(
            "tiny.orders",
            pa.table({"id": [1]}),
            [QualityCheck("expect_column_to_exist", {"column": "id"})],
        )
    (diag,) = err.value.diagnostics
    assert diag.code == "E655"
    assert diag.hint == "pip install 'floe-platform[quality]'"
    assert diag.field_path == "plugins.quality.type"
    assert plugin.health_check().ok
