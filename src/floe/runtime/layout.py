"""A table's partition spec and sort order from its dbt config, applied through PyIceberg.

``partition_by``/``sort_by`` (see :mod:`floe.spec.partitioning`) come from dbt's manifest
node config. A new table is created with them; a table whose spec or sort order differs is
**evolved in place** (``update_spec`` / ``update_sort_order``): the data files already written
keep the spec they were written with, new files use the new one, every read sees all rows.
PyIceberg's writer partitions the rows by the table's current spec (every transform floe accepts
is one PyIceberg 0.12 writes, through pyiceberg-core); floe sorts the rows by ``sort_by`` before
writing (PyIceberg records no sort order id on the files).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from floe.errors import FloeError, Location
from floe.spec.partitioning import (
    E_LAYOUT,
    E_LAYOUT_COLUMN,
    Layout,
    PartitionField,
    SortField,
    check_columns,
    from_iceberg,
)

if TYPE_CHECKING:
    import pyarrow as pa
    from pyiceberg.table import Table, Transaction


def table_layout(table: Table) -> Layout:
    """The table's current partition spec and sort order as floe spells them."""
    schema = table.schema()
    parts: list[PartitionField] = []
    for pf in table.spec().fields:
        column = schema.find_column_name(pf.source_id)
        field = from_iceberg(str(pf.transform), column) if column else None
        if field is not None:
            parts.append(field)
    sorts = [
        SortField(str(schema.find_column_name(sf.source_id)), sf.direction.value == "desc")
        for sf in table.sort_order().fields
    ]
    return Layout(tuple(parts), tuple(sorts))


def check(layout: Layout, columns: Sequence[str], identifier: str, where: Location | None) -> None:
    """E216 when the layout names a column the data (``columns``) lacks."""
    for key, part in (("partition_by", Layout(partition_by=layout.partition_by)),
                      ("sort_by", Layout(sort_by=layout.sort_by))):  # fmt: skip
        missing = check_columns(part, list(columns))
        if missing is not None:
            raise FloeError.single(
                E_LAYOUT_COLUMN,
                f"{identifier}: column '{missing}' is not among the model's columns "
                f"({', '.join(columns)})",
                where,
                field_path=key,
                hint="name one of the model's columns",
            )


def apply(tx: Transaction, wanted: Layout, identifier: str, where: Location | None) -> bool:
    """Evolve the transaction's table to ``wanted`` (fields no longer wanted are removed,
    new ones added; the sort order replaced); whether anything changed. A transform that
    cannot apply to its column's type (``day()`` of a string) is E215."""
    try:
        return _apply(tx, wanted)
    except ValueError as exc:
        raise FloeError.single(
            E_LAYOUT,
            f"{identifier}: {wanted.partition_text}: {exc}",
            where,
            field_path="partition_by",
            hint="year/month/day need a date or timestamp column, hour a timestamp; truncate "
            "a string, integer, decimal or binary column; bucket and identity any column",
        ) from None


def _apply(tx: Transaction, wanted: Layout) -> bool:
    from pyiceberg.table.sorting import NullOrder
    from pyiceberg.transforms import IdentityTransform, parse_transform

    meta = tx.table_metadata
    schema = meta.schema()
    wanted = _named_as(wanted, {f.name.lower(): f.name for f in schema.fields})
    current = {}
    for pf in meta.spec().fields:
        column = schema.find_column_name(pf.source_id)
        field = from_iceberg(str(pf.transform), column) if column else None
        if field is not None:
            current[field] = pf.name
    changed = False
    if set(current) != set(wanted.partition_by):
        with tx.update_spec() as update:
            for field, name in current.items():
                if field not in wanted.partition_by:
                    update.remove_field(name)
            for field in wanted.partition_by:
                if field not in current:
                    update.add_field(field.column, parse_transform(field.iceberg))
        changed = True
    sorts = [
        SortField(str(schema.find_column_name(sf.source_id)), sf.direction.value == "desc")
        for sf in meta.sort_order().fields
    ]
    if sorts != list(wanted.sort_by):
        with tx.update_sort_order(case_sensitive=False) as order:
            for s in wanted.sort_by:
                add = order.desc if s.descending else order.asc
                add(s.column, IdentityTransform(), NullOrder.NULLS_LAST)
        changed = True
    return changed


def _named_as(layout: Layout, names: dict[str, str]) -> Layout:
    """``layout`` with its columns spelled as the table's schema spells them."""

    def name(column: str) -> str:
        return names.get(column.lower(), column)

    return Layout(
        tuple(f._replace(column=name(f.column)) for f in layout.partition_by),
        tuple(s._replace(column=name(s.column)) for s in layout.sort_by),
    )


def sort_rows(df: pa.Table, layout: Layout) -> pa.Table:
    """``df`` in ``sort_by`` order (nulls last), as the table's sort order declares."""
    if not layout.sort_by:
        return df
    names = {n.lower(): n for n in df.column_names}
    keys = [
        (names[s.column.lower()], "descending" if s.descending else "ascending", "at_end")
        for s in layout.sort_by
    ]
    return df.sort_by(keys)
