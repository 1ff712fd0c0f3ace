"""The breaking-change gate's rules, on plain schemas and on the tiny dbt project (no catalog)."""

from __future__ import annotations

from pathlib import Path

import pytest

from floe.compile.api import compile_product
from floe.errors import PolicyError
from floe.govern.schema_gate import compare_table


def _changes(live: list[tuple[str, str]], new: list[tuple[str, str | None]]) -> list[tuple]:
    return [(c.column, c.change, c.old, c.new, c.breaking) for c in compare_table("t", live, new)]


@pytest.mark.requirement("FR-094")
def test_iceberg_promotions_pass_and_narrowing_fails() -> None:
    """int→long, float→double and a wider decimal are allowed promotions; the reverse and
    unrelated type changes are breaking; an unknown derived type is never a change."""
    live = [("a", "int"), ("b", "double"), ("c", "decimal(10, 2)"), ("d", "long"), ("e", "date")]
    new = [("a", "long"), ("b", "float"), ("c", "decimal(18,2)"), ("d", "string"), ("e", None)]
    assert _changes(live, new) == [
        ("a", "type_widened", "int", "long", False),
        ("b", "type_narrowed", "double", "float", True),
        ("c", "type_widened", "decimal(10,2)", "decimal(18,2)", False),
        ("d", "type_changed", "long", "string", True),
    ]


@pytest.mark.requirement("FR-094")
def test_drop_rename_and_add() -> None:
    """A column replaced in place by one of the same type is a rename; of another type, a drop
    plus an add; new columns at the end are additive."""
    live = [("id", "long"), ("amount", "long"), ("note", "string")]
    new: list[tuple[str, str | None]] = [("id", "long"), ("amt", "long"), ("flag", "boolean")]
    assert _changes(live, new) == [
        ("amount", "renamed", "amount", "amt", True),
        ("note", "dropped", "string", None, True),
        ("flag", "added", None, "boolean", False),
    ]


@pytest.mark.requirement("FR-094")
def test_dbt_contract_columns_are_the_models_schema(tiny: Path) -> None:
    """A model with an enforced contract is compared by its declared data types: declaring
    stg_orders.id as integer against a live bigint column is a narrowing (P470)."""
    schema = (tiny / "models" / "schema.yml").read_text()
    schema = schema.replace(
        "  - name: stg_orders\n    description: Orders.\n",
        "  - name: stg_orders\n    description: Orders.\n    config:\n"
        "      contract: {enforced: true}\n",
    )
    schema = schema.replace(
        "      - name: id\n        description: Order id.\n        data_tests: [not_null, unique]\n"
        "      - name: amount\n        description: Amount.\n",
        "      - name: id\n        description: Order id.\n        data_type: integer\n"
        "        data_tests: [not_null, unique]\n"
        "      - name: amount\n        description: Amount.\n        data_type: bigint\n",
    )
    (tiny / "models" / "schema.yml").write_text(schema)
    live = {"stg_orders": [("id", "long"), ("amount", "long")]}
    with pytest.raises(PolicyError) as info:
        compile_product(tiny, write=False, live_schema=live)
    assert [d.message for d in info.value.diagnostics] == [
        "breaking schema change in table 'stg_orders': column 'id' type narrowed: long → int"
    ]
    ok = compile_product(tiny, write=False, live_schema={"stg_orders": [("id", "int")]})
    assert ok.enforcement is not None
    gate = ok.enforcement.schema_gate
    assert (gate.checked, gate.tables_compared) == (True, ["stg_orders"])
    assert [(c.column, c.change) for c in gate.changes] == [("amount", "added")]
    assert gate.live_schema_sha256 is not None
    assert len(gate.live_schema_sha256) == 64


@pytest.mark.requirement("FR-094")
def test_without_live_schema_the_gate_is_recorded_as_not_checked(tiny: Path) -> None:
    """No live schema (offline, or no tables yet): the artifacts say the gate did not run."""
    ctx = compile_product(tiny, write=False)
    assert ctx.enforcement is not None
    gate = ctx.enforcement.schema_gate
    assert (gate.checked, gate.tables_compared, gate.changes) == (False, [], [])


@pytest.mark.requirement("FR-094")
def test_sql_whose_column_names_are_unknowable_is_not_guessed(tiny: Path) -> None:
    """An unnamed expression (DuckDB names it by its text) or unparseable SQL leaves the table
    'not derived': no invented drop, the gate says which tables it could not check."""
    live = {"stg_orders": [("id", "long"), ("amount", "long")]}
    (tiny / "models" / "stg_orders.sql").write_text(
        "select id, amount + 1 from {{ ref('raw_orders') }}\n"
    )
    ctx = compile_product(tiny, write=False, live_schema=live)
    assert ctx.enforcement is not None
    gate = ctx.enforcement.schema_gate
    assert (gate.tables_not_derived, gate.changes) == (["stg_orders"], [])
    (tiny / "models" / "stg_orders.sql").write_text(
        "select id, amount from {{ ref('raw_orders') }} where {% raw %}x{% endraw %}\n"
    )
    ctx = compile_product(tiny, write=False, live_schema=live)
    assert ctx.enforcement is not None
    assert ctx.enforcement.schema_gate.tables_not_derived == ["stg_orders"]
