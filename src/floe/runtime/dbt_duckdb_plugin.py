"""dbt-duckdb plugin that loads DuckDB extensions by path on every new connection.

Referenced from the generated profiles.yml as
``plugins: [{module: floe.runtime.dbt_duckdb_plugin, config: {extensions: [...]}}]``.
"""

from __future__ import annotations

from typing import Any

import duckdb
from dbt.adapters.duckdb.plugins import BasePlugin

from floe.runtime.duckdb_extensions import load_extensions


class Plugin(BasePlugin):
    """Loads the configured extensions from their wheels."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        """Remember which extensions to load."""
        self._extensions = [str(e) for e in plugin_config.get("extensions", [])]

    def configure_connection(self, conn: duckdb.DuckDBPyConnection) -> None:
        """Load every extension by path (no download)."""
        load_extensions(conn, self._extensions, duckdb.__version__)
