"""``partition_by``/``sort_by``: the transform parser, compile errors at file:line, and the
gate's report of a changed layout (no catalog, no dbt run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from floe.compile.api import compile_product
from floe.errors import InputError
from floe.spec.partitioning import (
    Layout,
    LayoutError,
    PartitionField,
    SortField,
    from_iceberg,
    parse_partition_by,
    parse_sort_by,
)


@pytest.mark.requirement("FLOE-008")
def test_every_transform_and_spelling_parses_to_one_canonical_form() -> None:
    """Identity, the four time transforms (and dbt-spark's plurals), bucket and truncate (in
    either argument order), as a list or one comma-separated string; each has one text and
    one Iceberg spelling that reads back to the same field."""
    parsed = parse_partition_by(
        ["region", "identity(country)", "days(ts)", "MONTH(created)", "hours(at)", "years(d)",
         "bucket(16, id)", "truncate(name, 4)"]
    )  # fmt: skip
    assert [f.text for f in parsed] == [
        "region", "country", "day(ts)", "month(created)", "hour(at)", "year(d)",
        "bucket(16, id)", "truncate(4, name)",
    ]  # fmt: skip
    assert [f.iceberg for f in parsed][-2:] == ["bucket[16]", "truncate[4]"]
    assert [from_iceberg(f.iceberg, f.column) for f in parsed] == list(parsed)
    assert parse_partition_by("day(ts), bucket(4, id)") == (
        PartitionField("day", "ts"), PartitionField("bucket", "id", 4),
    )  # fmt: skip
    assert from_iceberg("void", "x") is None
    assert parse_sort_by(["ts desc", "id", "name ASC"]) == (
        SortField("ts", True), SortField("id"), SortField("name"),
    )  # fmt: skip
    assert parse_partition_by(None) == ()
    assert parse_sort_by(None) == ()


@pytest.mark.requirement("FLOE-008")
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("week(ts)", "unknown transform 'week'"),
        ("day(ts, 2)", "day() takes 1 argument, got 2"),
        ("bucket(id)", "bucket() takes 2 arguments, got 1"),
        ("bucket(0, id)", "the bucket count of 'bucket(0, id)' must be a positive integer"),
        ("bucket(-3, id)", "must be a positive integer (got '-3')"),
        ("bucket(n, id)", "must be a positive integer (got 'n')"),
        ("truncate(2.5, s)", "the truncate width of 'truncate(2.5, s)' must be a positive"),
        ("day(ts - 1)", "'ts - 1' in 'day(ts - 1)' is not a column name"),
        (["day(ts)", "month(ts)"], "two time transforms of 'ts': day(ts) and month(ts)"),
        (["id", "identity(id)"], "id is named twice"),
        ({"field": "ts"}, "must be a string or a list of strings"),
    ],
)
def test_invalid_partition_by_is_e215_naming_the_problem(value: object, message: str) -> None:
    """Unknown transforms, bad arity, a bucket/truncate width that is not a positive integer,
    an expression instead of a column, two time transforms of one column, duplicates and a
    value of the wrong shape are E215 with the reason."""
    with pytest.raises(LayoutError) as err:
        parse_partition_by(value)
    assert err.value.code == "E215"
    assert message in err.value.message
    assert err.value.hint


@pytest.mark.requirement("FLOE-008")
def test_invalid_sort_by_is_e215() -> None:
    """A sort key is a column with an optional asc/desc."""
    for value, message in (("id descending", "'id descending' is not a column with"),
                           (["id", "id desc"], "'id' is named twice")):  # fmt: skip
        with pytest.raises(LayoutError) as err:
            parse_sort_by(value)
        assert (err.value.code, err.value.key) == ("E215", "sort_by")
        assert message in err.value.message


def _config(tiny: Path, model: str, config: str) -> None:
    path = tiny / "models" / f"{model}.sql"
    path.write_text(f"{{{{ config(materialized='table',\n    {config}) }}}}\n" + path.read_text())


@pytest.mark.requirement("FLOE-008")
def test_compile_reports_bad_transforms_and_unknown_columns_at_file_and_line(tiny: Path) -> None:
    """floe validate: a bad transform in a model's config() is E215 at its line and column; a
    column the model's documented columns lack is E216 — in config(), the properties YAML and
    dbt_project.yml alike, each at its own file:line."""
    _config(tiny, "stg_orders", "partition_by=['bucket(0, id)'], sort_by='amount desc'")
    _config(tiny, "int_orders", "partition_by='day(created_at)'")
    (tiny / "models" / "schema.yml").write_text(
        (tiny / "models" / "schema.yml")
        .read_text()
        .replace(
            "  - name: mart_revenue\n    description: Revenue.\n",
            "  - name: mart_revenue\n    description: Revenue.\n    config:\n"
            "      sort_by: [total]\n",
        )
    )
    (tiny / "dbt_project.yml").write_text(
        (tiny / "dbt_project.yml")
        .read_text()
        .replace(
            "    +materialized: table\n", "    +materialized: table\n    +partition_by: [nope]\n"
        )
    )
    with pytest.raises(InputError) as err:
        compile_product(tiny, write=False)
    found = {(d.code, Path(d.location.file).name, d.location.line, d.location.col, d.field_path)
             for d in err.value.diagnostics if d.location}  # fmt: skip
    assert ("E215", "stg_orders.sql", 2, 5, "partition_by") in found
    assert ("E216", "int_orders.sql", 2, 5, "partition_by") in found
    assert ("E216", "schema.yml", 23, 16, "sort_by") in found
    assert ("E216", "dbt_project.yml", 7, 20, "partition_by") in found  # mart_revenue's
    texts = [d.message for d in err.value.diagnostics]
    assert "model 'int_orders': column 'created_at' is not among its columns (id, amount)" in texts
    assert len(err.value.diagnostics) == 4  # stg_orders' sort_by (amount) is fine


@pytest.mark.requirement("FLOE-008")
def test_a_layout_set_through_jinja_is_left_to_the_run(tiny: Path) -> None:
    """A value compile cannot read without dbt (a var) is no compile error; the run checks it."""
    _config(tiny, "int_orders", "partition_by=var('parts', 'day(nope)')")
    ctx = compile_product(tiny, write=False)
    model = ctx.need_project().models["int_orders"]
    assert model.config_unknown == frozenset({"partition_by"})
    assert model.layout() is None


@pytest.mark.requirement("FR-091")
def test_the_gate_reports_a_changed_partition_spec_and_sort_order_as_non_breaking(
    tiny: Path,
) -> None:
    """Live int_orders is partitioned by bucket(4, id) and sorted by id; the model now says
    truncate(10, amount), id sorted by amount desc: two non-breaking changes, old → new. An
    unchanged layout (same fields in another order) and a model without config on an
    unpartitioned table report nothing."""
    _config(tiny, "int_orders", "partition_by=['truncate(10, amount)', 'id'], "
                                "sort_by=['amount desc']")  # fmt: skip
    _config(tiny, "stg_orders", "partition_by=['id', 'bucket(4, amount)']")
    live = {t: [("id", "long"), ("amount", "long")] for t in ("stg_orders", "int_orders")}
    layouts = {
        "int_orders": Layout((PartitionField("bucket", "id", 4),), (SortField("id"),)),
        "stg_orders": Layout(
            (PartitionField("bucket", "amount", 4), PartitionField("identity", "id"))
        ),
        "mart_revenue": Layout(),
    }
    ctx = compile_product(tiny, write=False, live_schema=live, live_layouts=layouts)
    gate = ctx.enforcement.schema_gate  # type: ignore[union-attr]
    assert [(c.table, c.change, c.old, c.new, c.breaking) for c in gate.changes] == [
        ("int_orders", "partition_spec", "bucket(4, id)", "truncate(10, amount), id", False),
        ("int_orders", "sort_order", "id", "amount desc", False),
    ]
