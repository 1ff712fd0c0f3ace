"""The SparkSession floe starts, with floe's Iceberg catalog under floe's catalog name.

One JVM per process: the first call starts it (``local[*]``, ``local[2]``, or a ``spark://`` /
``k8s://`` master) with the jars of :mod:`floe.runtime.spark.jars`; every run then gets a
**new session** of it (its own SQL settings and catalogs, the same SparkContext), whose
Iceberg catalog is configured from floe's catalog plugin at run time — so a second platform
home in the same process gets its own catalog, and secret values are set on the session (never
on the ``spark-submit`` command line).

The embedded SQL catalog is shared with Iceberg's Java JDBC catalog: the same SQLite file, the
same tables (``jdbc.schema-version=V1`` adds the column Java needs to what PyIceberg made), and
the Spark catalog named as PyIceberg's (``catalog_name`` in the rows). The SQLite file is put
in WAL mode, so that Java's pooled connections never lock PyIceberg's commits out.

dbt's relations live in Spark's session catalog (``spark_catalog``, in memory): a scratch
space like the DuckDB path's scratch database, dropped after every run.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from floe.errors import FloeError, Location
from floe.runtime.spark.jars import spark_jars
from floe.runtime.spark.sql_catalog import is_postgres, postgres_conf, s3_conf

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

E_SPARK_CATALOG = "E581"
EXTENSIONS = "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"
SPARK_CATALOG = "org.apache.iceberg.spark.SparkCatalog"
#: Settings of the JVM (fixed for the process).
STATIC_CONF = {
    "spark.sql.extensions": EXTENSIONS,
    "spark.sql.catalogImplementation": "in-memory",  # no Hive metastore, no Derby files
    "spark.sql.legacy.createHiveTableByDefault": "false",  # scratch tables are plain Parquet
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}
#: Settings of every session: floe's tables hold timestamps without time zone, as DuckDB's.
SESSION_CONF = {
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.session.timeZone": "UTC",
}
#: PyIceberg REST/Polaris properties Iceberg's Java REST catalog reads under the same names.
REST_KEYS = ("uri", "warehouse", "token", "credential", "scope", "oauth2-server-uri", "prefix")


def iceberg_conf(name: str, props: Mapping[str, str]) -> dict[str, str]:
    """Spark settings of the Iceberg catalog ``name`` from PyIceberg's catalog properties
    (:func:`floe.runtime.catalog.catalog_properties`: secrets already resolved)."""
    prefix = f"spark.sql.catalog.{name}"
    conf = {prefix: SPARK_CATALOG, f"{prefix}.cache-enabled": "false"}
    kind = props.get("type", "sql")
    warehouse = props.get("warehouse", "")
    if kind == "sql":
        uri = props.get("uri", "")
        if not uri.startswith("sqlite:///") and not is_postgres(uri):
            raise _unsupported(f"the sql catalog at a {uri.split(':', 1)[0]} URI")
        conf |= {
            f"{prefix}.type": "jdbc",
            f"{prefix}.uri": "jdbc:sqlite:" + uri.removeprefix("sqlite:///"),
            **(postgres_conf(prefix, uri) if is_postgres(uri) else {}),
            f"{prefix}.jdbc.schema-version": "V1",
            # PyIceberg made the tables (with the V1 column); Java's own check leaves a read
            # transaction open on its pooled SQLite connection, which then never sees a
            # PyIceberg commit
            f"{prefix}.jdbc.init-catalog-tables": "false",
            f"{prefix}.warehouse": warehouse,
            **s3_conf(prefix, props),
        }
    elif kind == "rest":
        conf |= s3_conf(prefix, props)
        conf[f"{prefix}.type"] = "rest"
        conf |= {f"{prefix}.{k}": str(props[k]) for k in REST_KEYS if props.get(k)}
        conf |= {f"{prefix}.{k}": str(v) for k, v in props.items() if k.startswith("header.")}
    else:
        raise _unsupported(f"a '{kind}' catalog")
    return conf


def _unsupported(what: str) -> FloeError:
    return FloeError.single(
        E_SPARK_CATALOG,
        f"the spark compute cannot reach {what} yet",
        Location("manifest.yaml"),
        field_path="plugins.catalog",
        hint="use the sql catalog on SQLite (the embedded platform) or PostgreSQL, or a "
        "REST/Polaris catalog, or the duckdb compute",
    )


def prepare_sqlite(name: str, props: Mapping[str, str]) -> None:
    """The SQL catalog's tables made by PyIceberg (Java is told not to); a SQLite file in WAL
    mode (persistent, idempotent)."""
    uri = props.get("uri", "")
    if props.get("type", "sql") != "sql" or not (uri.startswith("sqlite:///") or is_postgres(uri)):
        return
    from pyiceberg.catalog import load_catalog

    load_catalog(name, **{**props, "init_catalog_tables": "true"})
    if is_postgres(uri):
        return
    con = sqlite3.connect(Path(uri.removeprefix("sqlite:///")))
    try:
        con.execute("PRAGMA journal_mode=WAL")
    finally:
        con.close()


def base_session(master: str, conf: Mapping[str, str] | None = None) -> SparkSession:
    """The process's Spark (started on first use with floe's jars and ``conf``)."""
    from pyspark.sql import SparkSession

    from floe.runtime.adapters.pyspark_session import current_session

    running = current_session()
    if running is not None:
        if running.conf.get("spark.sql.extensions", "") != EXTENSIONS:
            raise FloeError.single(
                "E580",
                "a Spark session without floe's Iceberg setup is already running in this "
                "process (something started Spark before floe)",
                Location("manifest.yaml"),
                field_path="plugins.compute",
                hint="run the spark product in a process of its own (floe run does)",
            )
        return running
    warehouse = tempfile.mkdtemp(prefix="floe-spark-scratch-")
    builder = SparkSession.builder.master(master).appName("floe")
    settings: dict[str, Any] = {
        **STATIC_CONF,
        **spark_jars().conf(),
        "spark.sql.warehouse.dir": warehouse,
        **(conf or {}),
    }
    for key, value in settings.items():
        builder = builder.config(key, str(value))
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def run_session(
    master: str, catalog_name: str, props: Mapping[str, str], conf: Mapping[str, str] | None = None
) -> SparkSession:
    """A new session of the process's Spark with floe's Iceberg catalog as ``catalog_name``,
    made the session dbt-spark's ``session`` method picks up."""
    from floe.runtime.adapters.pyspark_session import make_current

    prepare_sqlite(catalog_name, props)
    session = base_session(master, conf).newSession()
    for key, value in {**SESSION_CONF, **iceberg_conf(catalog_name, props)}.items():
        session.conf.set(key, value)
    make_current(session)
    return session
