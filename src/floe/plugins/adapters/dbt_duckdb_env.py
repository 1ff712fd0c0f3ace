"""dbt-duckdb's process-wide DuckDB environment.

Wraps: ``dbt.adapters.duckdb.connections.DuckDBConnectionManager._ENV`` — a private class
attribute holding the one ``Environment`` (and with it the open DuckDB database) that every
in-process dbt invocation shares — and its ``close()``.

Why: floe runs dbt in-process (``dbtRunner``). Between invocations dbt-duckdb keeps the
scratch database open in ``_ENV``, so the file stays locked with dbt's configuration and a
later connection (floe's publish step, the next invocation with other settings) cannot open
it. dbt-duckdb has no public call that releases it; ``close_all_connections()`` alone closes
the cursors, not the database.

Checked against dbt-duckdb 1.11.1 (dbt-core 1.11.16, duckdb 1.5.5).
"""

from __future__ import annotations

#: The private attribute this adapter reads (tests/unit/test_adapters.py checks it exists).
ENV_ATTRIBUTE = "_ENV"


def release_environment() -> None:
    """Close dbt-duckdb's shared DuckDB database and its connections (the next invocation
    opens a new one); a no-op when dbt never opened one in this process."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # pragma: no cover - dbt-duckdb is a dependency
        return
    env = getattr(DuckDBConnectionManager, ENV_ATTRIBUTE, None)
    if env is not None:
        env.close()
    DuckDBConnectionManager.close_all_connections()  # type: ignore[no-untyped-call]
