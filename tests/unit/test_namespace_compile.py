"""Namespace isolation at compile time (FR-093, issue 12 point 5): what floe can know without
the catalog — a model's dbt schema naming another product's namespace, and two products of one
namespace in a workspace — is an error at file:line (E217)."""

from __future__ import annotations

from pathlib import Path

import pytest

from floe.app.workspace import write_workspace
from floe.compile.api import compile_product
from floe.errors import FloeError, InputError
from tests.conftest import TINY_SPEC, write_tiny


@pytest.mark.requirement("FR-093")
def test_a_model_routed_to_another_products_namespace_is_refused(tiny: Path) -> None:
    """tiny reads customer-360's tables (floe.yaml sources); int_orders sets
    ``schema='customer_360'`` in its config(), mart_revenue ``+schema: customer-360`` from
    dbt_project.yml: both are E217 at the line that sets it, naming the namespace and the
    product's own one. A schema that is no other product's namespace is fine."""
    (tiny / "floe.yaml").write_text(
        TINY_SPEC + "sources:\n  - {name: crm, product: customer-360}\n"
    )
    model = tiny / "models" / "int_orders.sql"
    model.write_text("{{ config(\n    schema='customer_360') }}\n" + model.read_text())
    stg = tiny / "models" / "stg_orders.sql"
    stg.write_text("{{ config(schema='staging') }}\n" + stg.read_text())
    (tiny / "dbt_project.yml").write_text(
        (tiny / "dbt_project.yml")
        .read_text()
        .replace(
            "    +materialized: table\n",
            "    +materialized: table\n    mart_revenue:\n      +schema: customer-360\n",
        )
    )
    with pytest.raises(InputError) as err:
        compile_product(tiny, write=False)
    found = [(d.code, Path(d.location.file).name, d.location.line, d.field_path)
             for d in err.value.diagnostics if d.location]  # fmt: skip
    assert found == [
        ("E217", "int_orders.sql", 2, "schema"),
        ("E217", "dbt_project.yml", 8, "schema"),
    ]
    first = err.value.diagnostics[0]
    assert first.message == (
        "model 'int_orders' sets schema 'customer_360', the Iceberg namespace of product "
        "'customer-360' (read through floe.yaml sources); a product writes only into its own "
        "namespace 'tiny'"
    )
    assert "tiny.<alias or name>" in first.hint


@pytest.mark.requirement("FR-093")
def test_two_products_of_one_namespace_in_a_workspace_are_refused(tmp_path: Path) -> None:
    """Two floe.yaml below one directory both named tiny would write into one namespace: the
    workspace is E217 at the second one's metadata.name, naming the first."""
    write_tiny(tmp_path / "a")
    write_tiny(tmp_path / "b")
    with pytest.raises(FloeError) as err:
        write_workspace(tmp_path, None, "dev")
    d = err.value.diagnostics[0]
    assert (d.code, d.field_path) == ("E217", "metadata.name")
    assert d.location is not None
    assert (Path(d.location.file), d.location.line) == (tmp_path / "b" / "floe.yaml", 4)
    assert d.message.startswith("product 'tiny' would write into the Iceberg namespace 'tiny'")
    assert "a/floe.yaml" in d.message
