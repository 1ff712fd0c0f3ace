"""Locate and load DuckDB extensions shipped as PyPI wheels (``duckdb-extension-<name>``).

``INSTALL`` cannot download here (and should not in production): every extension is loaded
from the installed wheel by absolute path, in dependency order.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any, Protocol


class _Connection(Protocol):
    def execute(self, query: str, parameters: Any = ...) -> Any: ...


def extension_path(name: str, duckdb_version: str) -> Path:
    """The ``.duckdb_extension`` file of ``name`` for this DuckDB version."""
    spec = importlib.util.find_spec(f"duckdb_extension_{name}")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"DuckDB extension '{name}' is not installed: pip install "
            f"duckdb-extension-{name}=={duckdb_version}"
        )
    root = Path(next(iter(spec.submodule_search_locations)))
    path = root / "extensions" / f"v{duckdb_version}" / f"{name}.duckdb_extension"
    if not path.is_file():
        raise FileNotFoundError(
            f"DuckDB extension '{name}' has no build for DuckDB {duckdb_version} ({path.name})"
        )
    return path


def load_extensions(conn: _Connection, names: list[str], duckdb_version: str) -> None:
    """``LOAD '<path>'`` each extension (order as given: httpfs, avro, iceberg)."""
    for name in names:
        path = extension_path(name, duckdb_version).as_posix().replace("'", "''")
        conn.execute(f"LOAD '{path}'")
