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

#: The private function this adapter calls and the keyword arguments it passes to it.
WRITER = "pyiceberg.io.pyarrow._dataframe_to_data_files"
WRITER_ARGUMENTS = ("table_metadata", "df", "io", "write_uuid", "counter")


def write_rows(tx: Transaction, producer: Any, io: FileIO, df: pa.Table) -> int:
    """Write ``df`` (already in the table's schema) as data files of the transaction's table
    and add them to ``producer``; the number of files written."""
    from pyiceberg.io.pyarrow import _dataframe_to_data_files

    written = 0
    for data_file in _dataframe_to_data_files(
        table_metadata=tx.table_metadata, df=df, io=io, write_uuid=producer.commit_uuid
    ):
        producer.append_data_file(data_file)
        written += 1
    return written


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
