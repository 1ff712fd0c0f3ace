"""Column lineage from compiled SQL (sqlglot), as dbt-duckdb compiles it."""

from __future__ import annotations

from pathlib import Path

import pytest

from floe.observe.column_lineage import cached_column_sources, column_sources

SQL = """
with orders as (
    select o.id, o.customer_id, o.amount from "scratch"."main"."stg_orders" as o
), customers as (
    select * from "scratch"."main"."stg_customers"
)
select c.id as customer_id, upper(c.name) as name, sum(o.amount) as revenue,
       count(*) as orders
from customers as c left join orders as o on o.customer_id = c.id
group by 1, 2
"""
KNOWN = {"stg_orders": ["id", "customer_id", "amount"], "stg_customers": ["id", "name"]}


@pytest.mark.requirement("FR-041")
def test_each_output_column_names_its_upstream_columns() -> None:
    """Through CTEs, a join, `select *` and aggregates, each output column maps to the
    upstream table columns it is computed from."""
    out = column_sources(SQL, ["customer_id", "name", "revenue", "orders"], KNOWN)
    assert out["customer_id"] == [("stg_customers", "id")]
    assert out["name"] == [("stg_customers", "name")]
    assert out["revenue"] == [("stg_orders", "amount")]
    assert "orders" not in out or all(t in KNOWN for t, _ in out["orders"])


@pytest.mark.requirement("FR-041")
def test_unparseable_sql_gives_no_lineage_instead_of_an_error() -> None:
    """Column lineage is best effort: SQL sqlglot cannot read yields nothing, never raises."""
    assert column_sources("select from where (", ["x"], {}) == {}


@pytest.mark.requirement("FR-041")
def test_column_lineage_is_remembered_per_sql(tmp_path: Path) -> None:
    """The second analysis of the same SQL and schema comes from the cache directory (one
    file per SQL) with the same result; other SQL gets its own entry."""
    first = cached_column_sources(tmp_path, SQL, ["customer_id", "revenue"], KNOWN)
    assert len(list(tmp_path.iterdir())) == 1
    (entry,) = tmp_path.iterdir()
    entry.write_text('{"revenue": [["from_cache", "x"]]}')
    assert cached_column_sources(tmp_path, SQL, ["customer_id", "revenue"], KNOWN) == {
        "revenue": [("from_cache", "x")]
    }
    assert first["revenue"] == [("stg_orders", "amount")]
    cached_column_sources(tmp_path, "select 1 as one", ["one"], {})
    assert len(list(tmp_path.iterdir())) == 2
