"""The scratch DuckDB of one run phase: empty at start, inputs read from Iceberg, then deleted.

Before dbt runs, every input that this phase does not build is created as a view over its
Iceberg table (``iceberg_scan`` of the current metadata), and every incremental model about to
be built incrementally is copied from Iceberg into a real table so that dbt's
``is_incremental()`` sees the published state — never a leftover from an earlier run.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

EXTENSIONS = ["httpfs", "avro", "iceberg"]


def connect(path: Path, setup: Sequence[str] = ()) -> duckdb.DuckDBPyConnection:
    """Open ``path`` with extensions loaded by path and downloads disabled, then run ``setup``
    (e.g. the temporary secret that reads the warehouse on S3)."""
    import duckdb

    from floe.runtime.duckdb_extensions import load_extensions

    con = duckdb.connect(
        str(path),
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False},
    )
    try:
        load_extensions(con, EXTENSIONS, duckdb.__version__)
        for statement in setup:
            con.execute(statement)
    except Exception:
        con.close()  # an open connection would keep the file's database alive in-process
        raise
    return con


def create_secret_sql(name: str, params: dict[str, str]) -> str:
    """``create or replace temporary secret <name> (type …, key 'value', …)``."""
    items = [f"type {params['type']}"] + [
        f"{key} {_literal(value)}" for key, value in params.items() if key != "type"
    ]
    return f"create or replace temporary secret {quote_ident(name)} ({', '.join(items)})"


def _local(location: str) -> str:
    return location.removeprefix("file://")


def quote_ident(name: str) -> str:
    """A double-quoted SQL identifier (embedded quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


def _from_iceberg(kind: str, name: str, location: str) -> str:
    """``create view|table main."name" as select * from iceberg_scan('<metadata>')``."""
    meta = _local(location).replace("'", "''")
    relation = f"main.{quote_ident(name)}"
    return f"create {kind} {relation} as select * from iceberg_scan('{meta}')"  # noqa: S608  # nosec B608


def prepare(
    path: Path, views: dict[str, str], copies: dict[str, str], setup: Sequence[str] = ()
) -> None:
    """Create an empty scratch file holding ``views`` and ``copies`` (name → metadata location)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    discard(path)
    con = connect(path, setup)
    try:
        for name, location in sorted(views.items()):
            con.execute(_from_iceberg("view", name, location))
        for name, location in sorted(copies.items()):
            con.execute(_from_iceberg("table", name, location))
    finally:
        con.close()


def load_csv(
    path: Path, name: str, csv_file: Path, column_types: dict[str, str], delimiter: str = ","
) -> None:
    """Load a seed CSV into ``main.<name>`` with DuckDB's (parallel) CSV reader.

    Configured dbt ``column_types`` are applied exactly; other columns are auto-detected.
    """
    import duckdb

    con = connect(path)
    try:
        options = ["header = true", f"delim = {_literal(delimiter)}"]
        if column_types:
            pairs = ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in column_types.items())
            options.append(f"types = {{{pairs}}}")
        sql = (
            f"create table main.{quote_ident(name)} as select * from "  # noqa: S608  # nosec B608
            f"read_csv({_literal(str(csv_file))}, {', '.join(options)})"
        )
        con.execute(sql)
    except duckdb.Error as exc:
        raise ValueError(f"seed {name}: {exc}") from None
    finally:
        con.close()


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def read_relation(path: Path, name: str, setup: Sequence[str] = ()) -> pa.Table:
    """The content of ``main.<name>`` in the scratch file as Arrow."""
    con = connect(path, setup)
    try:
        sql = f"select * from main.{quote_ident(name)}"  # noqa: S608  # nosec B608 - quoted
        return con.execute(sql).to_arrow_table()
    finally:
        con.close()


def discard(path: Path) -> None:
    """Delete the scratch database: DuckDB keeps no state between runs."""
    for leftover in (path, path.with_suffix(path.suffix + ".wal")):
        leftover.unlink(missing_ok=True)
