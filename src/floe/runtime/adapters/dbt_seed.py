"""dbt's reading of a seed CSV, exactly as dbt's ``seed`` materialization does it.

Wraps: ``dbt_common.clients.agate_helper.from_csv`` — what dbt-core's ``load_agate_table()``
context function calls (the seed's ``column_types`` keys as text columns, its ``delimiter``);
the adapter classmethod ``convert_type`` (``BaseAdapter.convert_agate_type``: the type
``create_csv_table`` gives a column without a ``column_types`` entry); and
``BaseAdapter.quote_seed_column``'s rule (``quote_columns`` unset quotes).

Why: floe loads seeds into Spark itself (:mod:`floe.runtime.spark.seeds`) instead of
dbt-spark's per-cell ``INSERT … VALUES`` path, and must give the table ``dbt seed`` gives: the
same values (agate's type inference, nulls, booleans, dates) and the same column types. None of
these is documented API of dbt; all are what dbt's seed code calls.

Checked against dbt-core 1.11, dbt-common 1.x and dbt-spark 1.11.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any


def read_seed(path: Path, column_types: Mapping[str, str], delimiter: str) -> Any:
    """The seed's agate table, as ``load_agate_table()`` reads it."""
    from dbt_common.clients import agate_helper

    return agate_helper.from_csv(str(path), text_columns=dict(column_types), delimiter=delimiter)


def spark_column_types(table: Any, column_types: Mapping[str, str]) -> list[str]:
    """Each column's type in dbt-spark's ``create_csv_table``: ``column_types`` when it names
    the column, else the adapter's conversion of agate's inferred type."""
    from dbt.adapters.spark.impl import SparkAdapter

    return [
        str(column_types[name] if name in column_types else SparkAdapter.convert_type(table, index))
        for index, name in enumerate(table.column_names)
    ]


def agate_kinds(table: Any) -> list[str]:
    """Each column's agate type as ``text``, ``boolean``, ``datetime``, ``date``, ``number``
    (dbt's ``Integer`` too) or the type's class name."""
    import agate  # type: ignore[import-untyped]
    from dbt_common.clients.agate_helper import Integer

    kinds: list[tuple[type, str]] = [
        (agate.Text, "text"), (agate.Boolean, "boolean"), (agate.DateTime, "datetime"),
        (agate.Date, "date"), (agate.Number, "number"), (Integer, "number"),
    ]  # fmt: skip
    return [next((name for cls, name in kinds if isinstance(kind, cls)), type(kind).__name__)
            for kind in table.column_types]  # fmt: skip


def quotes_seed_columns(quote_columns: object) -> bool:
    """``BaseAdapter.quote_seed_column``'s rule: quoted unless ``quote_columns`` is false."""
    return quote_columns is not False
