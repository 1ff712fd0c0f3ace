"""dbt-duckdb plugin that prepares every new connection: DuckDB extensions loaded by path,
then the secrets that read the warehouse (e.g. S3), which need those extensions loaded first.

Referenced from the generated profiles.yml as ``plugins: [{module:
floe.runtime.dbt_duckdb_plugin, config: {extensions: [...], secrets: [...]}}]``; secret values
in the profile are dbt ``env_var`` lookups, rendered by dbt at run time.
"""

from __future__ import annotations

from typing import Any

import duckdb
from dbt.adapters.duckdb.plugins import BasePlugin

from floe.runtime.duckdb_extensions import load_extensions
from floe.runtime.scratch import create_secret_sql


class Plugin(BasePlugin):
    """Loads the configured extensions from their wheels, then creates the secrets."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        """Remember which extensions to load and which secrets to create."""
        self._extensions = [str(e) for e in plugin_config.get("extensions", [])]
        self._secrets = [
            {str(k): str(v) for k, v in secret.items()}
            for secret in plugin_config.get("secrets", [])
        ]

    def configure_connection(self, conn: duckdb.DuckDBPyConnection) -> None:
        """Load every extension by path (no download), then create each temporary secret."""
        load_extensions(conn, self._extensions, duckdb.__version__)
        for i, secret in enumerate(self._secrets):
            conn.execute(create_secret_sql(f"floe_secret_{i}", secret))
