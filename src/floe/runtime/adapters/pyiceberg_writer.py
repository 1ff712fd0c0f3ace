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

Also wraps the transaction's list of snapshot producers (``Transaction._snapshot_producers``)
and a producer's ``_clean_all_uncommitted()``: ``commit_once`` commits a transaction **without**
PyIceberg's rebase-and-retry. PyIceberg re-applies a snapshot on top of whatever another writer
committed meanwhile (a fast append always, an overwrite when its files still exist) and drops
the staged tag of the retried snapshot; floe's publish decides itself whether a change is safe
to re-apply (a replace is, an incremental difference computed against an older snapshot is not)
and keeps the snapshot and its run tag in one commit. There is no public switch per commit (the
retry count is a table property).

Compaction (``runtime/compaction.py``) writes each bin of small files as one file (per
partition of the table's spec): ``write_unsplit`` hands the helper the table metadata with the
target file size raised for that call only (the table's property is unchanged).

Checked against pyiceberg 0.12.0.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import itertools

    import pyarrow as pa
    from pyiceberg.io import FileIO
    from pyiceberg.manifest import DataFile
    from pyiceberg.table import Transaction
    from pyiceberg.table.metadata import TableMetadata

#: The private function this adapter calls and the keyword arguments it passes to it.
WRITER = "pyiceberg.io.pyarrow._dataframe_to_data_files"
WRITER_ARGUMENTS = ("table_metadata", "df", "io", "write_uuid", "counter")


#: The private attribute and method ``commit_once`` uses.
PRODUCERS = "pyiceberg.table.Transaction._snapshot_producers"
CLEAN_UNCOMMITTED = "pyiceberg.table.update.snapshot._SnapshotProducer._clean_all_uncommitted"


def write_rows(tx: Transaction, producer: Any, io: FileIO, df: pa.Table) -> list[str]:
    """Write ``df`` (already in the table's schema) as data files of the transaction's table
    and add them to ``producer``; the paths of the files written."""
    import itertools

    from pyiceberg.io.pyarrow import _dataframe_to_data_files

    written: list[str] = []
    counter = itertools.count(0)
    for part in by_partition(tx.table_metadata, df):
        for data_file in _dataframe_to_data_files(
            table_metadata=tx.table_metadata, df=part, io=io, write_uuid=producer.commit_uuid,
            counter=counter,
        ):  # fmt: skip
            producer.append_data_file(data_file)
            written.append(str(data_file.file_path))
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


def commit_once(tx: Transaction) -> None:
    """Commit ``tx`` exactly on the snapshot its producers started from: a concurrent commit
    raises ``CommitFailedException`` (nothing landed; the manifests written for it are deleted)
    instead of being rebased and retried by PyIceberg."""
    from pyiceberg.exceptions import CommitFailedException

    producers = list(tx._snapshot_producers)
    tx._snapshot_producers.clear()
    try:
        tx.commit_transaction()
    except CommitFailedException:
        for producer in producers:
            producer._clean_all_uncommitted()
        raise


#: The target file size ``write_unsplit`` passes: no bin of a compaction reaches it.
UNSPLIT_BYTES = 2**62


def write_unsplit(
    tx: Transaction, producer: Any, io: FileIO, df: pa.Table, counter: itertools.count[int]
) -> list[DataFile]:
    """Write ``df`` (in the table's schema) as ONE data file per partition of the table's
    current spec — not split by the target file size — and add them to ``producer``; the data
    files written (so that a refused commit can delete them). ``counter`` numbers the files:
    the same one for every call on one producer (file names are ``<n>-<counter>-<commit
    uuid>``, so two calls with fresh counters would write the same file twice)."""
    from pyiceberg.io.pyarrow import _dataframe_to_data_files
    from pyiceberg.table import TableProperties

    metadata = tx.table_metadata
    unsplit = metadata.model_copy(
        update={
            "properties": {
                **metadata.properties,
                TableProperties.WRITE_TARGET_FILE_SIZE_BYTES: str(UNSPLIT_BYTES),
            }
        }
    )
    files = list(
        _dataframe_to_data_files(
            table_metadata=unsplit,
            df=df,
            io=io,
            write_uuid=producer.commit_uuid,
            counter=counter,
        )
    )
    for data_file in files:
        producer.append_data_file(data_file)
    return files
