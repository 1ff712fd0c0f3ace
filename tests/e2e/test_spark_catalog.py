"""Spark and PyIceberg on one embedded SQL catalog (issue 13, point 5): a real local Spark with
the Iceberg runtime, the relocated Jackson built by ``make setup`` and Debian's SQLite JDBC
driver writes tables PyIceberg reads row for row, and the other way round."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from floe.runtime.catalog import catalog_properties, open_catalog
from floe.runtime.home import PlatformHome
from floe.spec.common import PluginRef

PLUGINS = {"catalog": PluginRef(type="sql"), "storage": PluginRef(type="local")}


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    """One Spark session (per module) and the PyIceberg catalog of the same platform home."""
    from floe.runtime.spark.session import run_session

    home = PlatformHome(tmp_path_factory.mktemp("spark-home"))
    catalog = open_catalog(PLUGINS, home)
    props = catalog_properties(PLUGINS, home)
    session = run_session("local[2]", props.pop("name"), props)
    return session, catalog


@pytest.mark.requirement("FLOE-004")
def test_run_session_is_the_one_dbt_spark_gets(shared: tuple[Any, Any]) -> None:
    """The adapter over PySpark's process-wide session (runtime/adapters/pyspark_session.py):
    ``SparkSession.builder.getOrCreate()`` — what dbt-spark's session method calls — returns
    floe's run session (its own catalog settings), not the first session of the JVM."""
    from pyspark.sql import SparkSession

    session, _ = shared
    got = SparkSession.builder.getOrCreate()
    assert got is session
    assert got.conf.get("spark.sql.catalog.floe.type") == "jdbc"
    assert got.conf.get("spark.sql.timestampType") == "TIMESTAMP_NTZ"


@pytest.mark.requirement("FLOE-131")
def test_spark_writes_what_pyiceberg_reads(shared: tuple[Any, Any]) -> None:
    """A table Spark creates through Iceberg's JDBC catalog on floe's catalog.db (namespace made
    by PyIceberg) is read back by PyIceberg with the same rows and Iceberg types — timestamps
    without time zone as DuckDB writes them, decimals with their scale."""
    session, catalog = shared
    catalog.create_namespace_if_not_exists("shop")
    session.sql(
        "CREATE TABLE floe.shop.orders USING iceberg AS SELECT * FROM VALUES "
        "(1, 'ada', 12.50BD, TIMESTAMP '2026-01-02 03:04:05', DATE '2026-01-02'), "
        "(2, 'bob', 7.25BD, TIMESTAMP '2026-02-03 04:05:06', DATE '2026-02-03') "
        "AS t(id, name, amount, ordered_at, day)"
    )
    table = catalog.load_table("shop.orders")
    rows = sorted(table.scan().to_arrow().to_pylist(), key=lambda r: r["id"])
    assert rows == [
        {"id": 1, "name": "ada", "amount": Decimal("12.50"),
         "ordered_at": dt.datetime(2026, 1, 2, 3, 4, 5), "day": dt.date(2026, 1, 2)},
        {"id": 2, "name": "bob", "amount": Decimal("7.25"),
         "ordered_at": dt.datetime(2026, 2, 3, 4, 5, 6), "day": dt.date(2026, 2, 3)},
    ]  # fmt: skip
    types = {f.name: str(f.field_type) for f in table.schema().fields}
    assert types == {"id": "int", "name": "string", "amount": "decimal(4, 2)",
                     "ordered_at": "timestamp", "day": "date"}  # fmt: skip


@pytest.mark.requirement("FLOE-131")
def test_pyiceberg_writes_what_spark_reads(shared: tuple[Any, Any]) -> None:
    """A table PyIceberg creates and appends to (floe's publish path) is read by Spark through
    the shared catalog, and a second PyIceberg commit is seen at once (no stale cache); Spark
    lists it among the namespace's tables."""
    import pyarrow as pa

    session, catalog = shared
    catalog.create_namespace_if_not_exists("crm")
    data = pa.table({"id": pa.array([1, 2, 3], pa.int64()), "tier": ["a", "b", "a"]})
    table = catalog.create_table("crm.customers", schema=data.schema)
    table.append(data)
    spark_rows = session.sql("SELECT tier, count(*) n FROM floe.crm.customers GROUP BY tier")
    assert sorted(tuple(r) for r in spark_rows.collect()) == [("a", 2), ("b", 1)]
    table.append(data.slice(0, 1))
    assert session.sql("SELECT count(*) FROM floe.crm.customers").collect()[0][0] == 4
    listed = {r.tableName for r in session.sql("SHOW TABLES IN floe.crm").collect()}
    assert listed == {"customers"}


@pytest.mark.requirement("FLOE-131")
def test_relocated_jackson_is_built_once(tmp_path: Path) -> None:
    """The build step makes the relocated Jackson jar from PySpark's own jars with jarjar (Iceberg's
    shaded package names inside) and a second call returns the same file untouched."""
    import zipfile

    from floe.runtime.spark.jars import relocated_jackson

    jar = relocated_jackson(tmp_path)
    names = zipfile.ZipFile(jar).namelist()
    shaded = "org/apache/iceberg/shaded/com/fasterxml/jackson/"
    assert f"{shaded}databind/ObjectMapper.class" in names
    assert f"{shaded}core/JsonFactory.class" in names
    assert f"{shaded}annotation/JsonProperty.class" in names
    assert not [n for n in names if n.startswith("com/fasterxml/")]
    stamp = jar.stat().st_mtime_ns
    assert relocated_jackson(tmp_path) == jar
    assert jar.stat().st_mtime_ns == stamp
