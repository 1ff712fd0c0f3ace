"""A product's bundle: everything it needs to run, packed as a deterministic ``tar.gz``.

The bundle holds the product's files (``floe.yaml`` and the dbt project: SQL, YAML, seeds,
macros, …), the compiled artifacts (``compiled/compiled_artifacts.json``) and the lock of the
platform that compiled them (``platform.lock.json``: floe's version and the installed
versions of its dependencies). The same inputs give the same bytes, hence the same digest:
entries sorted, mtime 0, uid/gid 0, no owner names, fixed modes, gzip without a time stamp.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import sys
import tarfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from floe.errors import FloeError, Location

ARTIFACTS_ENTRY = "compiled/compiled_artifacts.json"
LOCK_ENTRY = "platform.lock.json"
#: Folders of a product directory that are build output or local state, never packed.
SKIPPED_DIRS = frozenset({"target", "logs", "dbt_packages", "__pycache__", "node_modules"})
SKIPPED_SUFFIXES = (".pyc", ".duckdb", ".wal", ".log", ".tmp")
E_UNSAFE_ENTRY = "E627"
MAX_BUNDLE_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class Bundle:
    """A packed bundle: its bytes and the files it holds (sorted, with their sha256)."""

    data: bytes
    files: Mapping[str, str]

    @property
    def digest(self) -> str:
        """``sha256:<hex>`` of the bytes."""
        return sha256_digest(self.data)


def sha256_digest(data: bytes) -> str:
    """An OCI digest of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def product_files(product_dir: Path, exclude: set[Path] | None = None) -> Iterator[Path]:
    """The product's own files: everything below it except build output, hidden entries and
    ``exclude`` (the platform manifest when it lies inside)."""
    skip = {p.resolve() for p in exclude or set()}
    for path in sorted(product_dir.rglob("*")):
        rel = path.relative_to(product_dir)
        if any(part.startswith(".") or part in SKIPPED_DIRS for part in rel.parts):
            continue
        if path.name.endswith(SKIPPED_SUFFIXES) or path.is_symlink() or not path.is_file():
            continue
        if path.resolve() not in skip:
            yield path


def platform_lock() -> dict[str, object]:
    """floe's version, the Python version and the installed versions of every package floe
    depends on (directly or not): what compiled the artifacts and what runs them."""
    from importlib import metadata

    from floe import __version__

    seen: dict[str, str] = {}
    todo = ["floe-platform"]
    while todo:
        name = _normal(todo.pop())
        if name in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen[name] = dist.version
        for req in dist.requires or []:
            if "extra ==" in req:
                continue
            match = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)", req)
            if match:
                todo.append(match.group(1))
    seen.pop("floe-platform", None)
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    return {"floe": __version__, "python": python, "packages": dict(sorted(seen.items()))}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pack(entries: Mapping[str, bytes]) -> Bundle:
    """The deterministic ``tar.gz`` of ``entries`` (archive name → content)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(entries):
            content = entries[name]
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(content))
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    files = {n: hashlib.sha256(c).hexdigest() for n, c in sorted(entries.items())}
    return Bundle(out.getvalue(), files)


def product_bundle(
    product_dir: Path, artifacts_json: bytes, exclude: set[Path] | None = None
) -> Bundle:
    """The bundle of a compiled product (see the module docstring)."""
    entries = {
        path.relative_to(product_dir).as_posix(): path.read_bytes()
        for path in product_files(product_dir, exclude)
    }
    entries[ARTIFACTS_ENTRY] = artifacts_json
    lock = json.dumps(platform_lock(), indent=2, sort_keys=True) + "\n"
    entries[LOCK_ENTRY] = lock.encode("utf-8")
    return pack(entries)


def read_entries(data: bytes) -> dict[str, bytes]:
    """The files of a bundle (regular files only; an absolute or ``..`` name is an error)."""
    out: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        total = 0
        for info in tar:
            name = info.name
            if not info.isfile() or name.startswith("/") or ".." in Path(name).parts:
                raise FloeError.single(
                    E_UNSAFE_ENTRY,
                    f"the bundle holds an unsafe entry '{name}'",
                    Location("bundle.tar.gz"),
                    hint="the artifact was not written by floe: push it again with floe",
                )
            total += info.size
            if total > MAX_BUNDLE_BYTES:
                raise FloeError.single(E_UNSAFE_ENTRY, "the bundle unpacks to more than 512 MiB",
                                       Location("bundle.tar.gz"))  # fmt: skip
            handle = tar.extractfile(info)
            assert handle is not None
            out[name] = handle.read()
    return out


def unpack(data: bytes, dest: Path) -> list[Path]:
    """Write the bundle's files below ``dest``; the paths written."""
    written = []
    for name, content in sorted(read_entries(data).items()):
        path = dest / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        written.append(path)
    return written
