"""The rows of PyIceberg's SQL catalog, read straight from its SQLite file.

Wraps: the schema PyIceberg's ``SqlCatalog`` creates (``pyiceberg.catalog.sql.IcebergTables``:
table ``iceberg_tables`` with columns ``catalog_name``, ``table_namespace``, ``table_name``,
``metadata_location``) — an implementation detail of PyIceberg, not an API.

Why: the breaking-change gate reads the live schemas at every ``floe compile``; importing
PyIceberg and SQLAlchemy to list a namespace costs more than the whole compile budget
(issue 11 point 7). The embedded catalog is one SQLite file, so one read-only query gives each
table's metadata file; anything this reader cannot follow goes through PyIceberg.

Checked against pyiceberg 0.12.0 (SQLAlchemy 2.1.9).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

TABLE = "iceberg_tables"
COLUMNS = ("catalog_name", "table_namespace", "table_name", "metadata_location")


def table_locations(db: Path, catalog: str, namespace: str) -> list[tuple[str, str]] | None:
    """``(table name, metadata location)`` of every table of ``namespace`` in the catalog
    file, by name; ``[]`` when nothing was ever published (no file, no catalog table yet);
    None when the file cannot be read now (locked…) and PyIceberg must read."""
    if not db.is_file():
        return []
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "select table_name, metadata_location from iceberg_tables "
            "where catalog_name = ? and table_namespace = ? order by table_name",
            (catalog, namespace),
        ).fetchall()
    except sqlite3.OperationalError as exc:
        return [] if "no such table" in str(exc) else None
    finally:
        con.close()
    return [(str(name), str(location or "")) for name, location in rows]
