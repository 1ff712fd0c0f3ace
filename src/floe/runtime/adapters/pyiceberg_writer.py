"""PyIceberg's private writer: Arrow rows → Parquet data files of a table.

Wraps: ``pyiceberg.io.pyarrow._dataframe_to_data_files(table_metadata=, df=, io=,
write_uuid=)`` and the ``commit_uuid`` of the snapshot producer it writes for
(``_SnapshotProducer``, returned by ``Transaction.update_snapshot().overwrite()`` /
``.fast_append()``).

Why: floe's publish step commits a delete of some data files and the append of new ones in
ONE snapshot (replace, copy-on-write merge). PyIceberg's public ``Table.overwrite`` /
``append`` write whole tables or filter-deletes and cannot add files to a producer that also
deletes chosen files; ``add_files`` only registers files written elsewhere. The private
helper writes Parquet files named and sized as PyIceberg's own writes do.

Partitioned tables: the private helper splits its input by filtering the *whole* table once per
distinct partition (``_determine_partitions``), which grows with rows × partitions (1M rows in
360 partitions: ~8× an unpartitioned write at 100k rows, worse at 1M). ``write_rows`` first
groups the rows by partition itself — the spec's transforms (public
``Transform.pyarrow_transform``), one stable sort, contiguous slices — and hands the helper one
slice per partition, sharing one file ``counter`` so file names stay unique.

Checked against pyiceberg 0.12.0.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa
    from pyiceberg.io import FileIO
    from pyiceberg.table import Transaction
    from pyiceberg.table.metadata import TableMetadata

#: The private function this adapter calls and the keyword arguments it passes to it.
WRITER = "pyiceberg.io.pyarrow._dataframe_to_data_files"
WRITER_ARGUMENTS = ("table_metadata", "df", "io", "write_uuid", "counter")


def write_rows(tx: Transaction, producer: Any, io: FileIO, df: pa.Table) -> int:
    """Write ``df`` (already in the table's schema) as data files of the transaction's table
    and add them to ``producer``; the number of files written."""
    import itertools

    from pyiceberg.io.pyarrow import _dataframe_to_data_files

    written = 0
    counter = itertools.count(0)
    for part in by_partition(tx.table_metadata, df):
        for data_file in _dataframe_to_data_files(
            table_metadata=tx.table_metadata, df=part, io=io, write_uuid=producer.commit_uuid,
            counter=counter,
        ):  # fmt: skip
            producer.append_data_file(data_file)
            written += 1
    return written


def by_partition(metadata: TableMetadata, df: pa.Table) -> list[pa.Table]:
    """``df`` cut into one slice per partition of the table's current spec (rows keep their
    order within a partition: the sort is stable); ``[df]`` when unpartitioned."""
    spec, schema = metadata.spec(), metadata.schema()
    if spec.is_unpartitioned() or df.num_rows == 0:
        return [df]
    keys = []
    for i, field in enumerate(spec.fields):
        name = schema.find_column_name(field.source_id)
        if name is None or name not in df.column_names:
            return [df]  # a nested source column: the helper splits it itself
        source = schema.find_field(field.source_id).field_type
        keys.append((f"_floe_part_{i}", field.transform.pyarrow_transform(source)(df[name])))
    keyed = df
    for key, values in keys:
        keyed = keyed.append_column(key, values)
    names = [k for k, _ in keys]
    keyed = keyed.sort_by([(k, "ascending", "at_end") for k in names])
    sizes = keyed.select(names).group_by(names, use_threads=False).aggregate([([], "count_all")])
    data = keyed.drop_columns(names)
    out, offset = [], 0
    for size in sizes.column("count_all").to_pylist():
        out.append(data.slice(offset, size))
        offset += size
    return out
