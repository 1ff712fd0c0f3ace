"""The files of an Iceberg table: what its snapshots reference, what its location holds.

Both through the table's own FileIO: the metadata through PyIceberg, the listing through the
PyArrow filesystem PyIceberg opened for the table's location (local disk, or S3 with the
storage plugin's credentials). Paths are compared without their scheme (``file:///w/t/x`` and
``/w/t/x`` are one file; ``s3://bucket/k`` is ``bucket/k``), as the filesystem lists them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from pyarrow.fs import FileSystem
    from pyiceberg.manifest import ManifestFile
    from pyiceberg.table import Table
    from pyiceberg.table.snapshots import Snapshot


@dataclass(frozen=True)
class StoredFile:
    """One file under a table's location."""

    path: str  # as the filesystem lists it (no scheme)
    size: int
    modified: datetime


@dataclass(frozen=True)
class Usage:
    """A count of files and their bytes."""

    files: int
    bytes: int


def snapshot_files(table: Table, snapshots: Iterable[Snapshot], *, live_only: bool) -> set[str]:
    """Files the snapshots reference: manifest lists, manifests and their data files (only the
    files live in the snapshot with ``live_only``: an entry marking a file DELETED does not
    keep it). Each manifest is read once, however many snapshots share it."""
    io = table.io
    out: set[str] = set()
    manifests: dict[str, ManifestFile] = {}
    for snap in snapshots:
        out.add(snap.manifest_list)
        for manifest in snap.manifests(io):
            manifests.setdefault(manifest.manifest_path, manifest)
    for path, manifest in manifests.items():
        out.add(path)
        for entry in manifest.fetch_manifest_entry(io, discard_deleted=live_only):
            out.add(entry.data_file.file_path)
    return out


def referenced_files(table: Table) -> set[str]:
    """Every file any part of the table's metadata names (scheme-less paths): the current and
    the logged metadata files, statistics files, and everything of every snapshot — a file
    marked deleted by one snapshot counts too (an older one may still read it)."""
    meta = table.metadata
    named = {table.metadata_location, *(e.metadata_file for e in meta.metadata_log)}
    named |= {s.statistics_path for s in meta.statistics}
    named |= {s.statistics_path for s in meta.partition_statistics}
    named |= snapshot_files(table, table.snapshots(), live_only=False)
    return {plain_path(p) for p in named}


def data_usage(table: Table) -> Usage:
    """The data files the current snapshot reads: how many, how many bytes."""
    if table.current_snapshot() is None:
        return Usage(0, 0)
    sizes = [task.file.file_size_in_bytes for task in table.scan().plan_files()]
    return Usage(len(sizes), sum(sizes))


def stored_files(table: Table) -> list[StoredFile]:
    """Every file under the table's location, with its size and modification time."""
    from pyarrow.fs import FileSelector, FileType

    fs, root = location_filesystem(table)
    infos = fs.get_file_info(FileSelector(root, recursive=True, allow_not_found=True))
    return [
        StoredFile(i.path, int(i.size or 0), _aware(i.mtime))
        for i in infos
        if i.type == FileType.File
    ]


def storage_usage(files: Iterable[StoredFile]) -> Usage:
    """How many files, how many bytes."""
    listed = list(files)
    return Usage(len(listed), sum(f.size for f in listed))


def location_filesystem(table: Table) -> tuple[FileSystem, str]:
    """The PyArrow filesystem of the table's location and the location's path in it."""
    from pyarrow.fs import LocalFileSystem
    from pyiceberg.io.pyarrow import PyArrowFileIO

    scheme, netloc, path = PyArrowFileIO.parse_location(table.location())
    io = table.io
    if isinstance(io, PyArrowFileIO):
        return io.fs_by_scheme(scheme, netloc), path
    if scheme == "file":
        return LocalFileSystem(), path
    raise NotImplementedError(
        f"listing {scheme}:// needs PyIceberg's PyArrow FileIO (py-io-impl), not {type(io)}"
    )


def plain_path(location: str) -> str:
    """A file's location without its scheme, as the filesystem lists it."""
    from pyiceberg.io.pyarrow import PyArrowFileIO

    return PyArrowFileIO.parse_location(location)[2]


def _aware(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.fromtimestamp(0, UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
