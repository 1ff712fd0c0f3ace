"""The sql catalog plugin with a PostgreSQL URI, against a real PostgreSQL 15 on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from floe.runtime.catalog import open_catalog
from floe.runtime.home import PlatformHome
from floe.runtime.publish import replace, sync
from floe.spec.common import PluginRef
from tests.e2e.servers import postgres_server


@pytest.mark.requirement("FR-022")
def test_sql_catalog_on_postgresql_publishes_and_reads_back(tmp_path: Path) -> None:
    """Catalog rows live in PostgreSQL, data on the local warehouse: a replace and a merge each
    add one snapshot, and a second catalog connection reads the merged rows back."""
    with postgres_server() as uri:
        plugins = {
            "catalog": PluginRef(type="sql", config={"uri": uri}),
            "storage": PluginRef(type="local", config={"path": str(tmp_path / "wh")}),
        }
        home = PlatformHome(tmp_path / ".floe")
        catalog = open_catalog(plugins, home)
        assert type(catalog).__name__ == "SqlCatalog"
        first = pa.table({"id": pa.array([1, 2], pa.int64()), "v": ["a", "b"]})
        replace(catalog, "pg.items", first, {"floe.run_id": "r1"})
        second = pa.table({"id": pa.array([1, 2, 3], pa.int64()), "v": ["a", "B", "c"]})
        result = sync(catalog, "pg.items", second, {"floe.run_id": "r2"})
        assert (result.rows_inserted, result.rows_updated) == (1, 1)
        again = open_catalog(plugins, home)
        table = again.load_table("pg.items")
        assert [s.summary.additional_properties["floe.run_id"] for s in table.snapshots()] == [
            "r1", "r2",
        ]  # fmt: skip
        rows = sorted(table.scan().to_arrow().to_pylist(), key=lambda r: r["id"])
        assert rows == [{"id": 1, "v": "a"}, {"id": 2, "v": "B"}, {"id": 3, "v": "c"}]
        assert again.list_namespaces() == [("pg",)]
