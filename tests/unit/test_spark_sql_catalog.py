"""Spark's view of floe's sql catalog on PostgreSQL, and s3 storage refused (issue 13)."""

from __future__ import annotations

import pytest

from floe.errors import FloeError


@pytest.mark.requirement("FLOE-373")
def test_postgres_sql_catalog_becomes_icebergs_jdbc_catalog_on_the_same_database() -> None:
    """PyIceberg's SQLAlchemy URI becomes pgjdbc's URL (host, port, database, query kept), the
    user and the URL-decoded password separate settings; the rest as on SQLite (schema V1,
    Java does not create the tables), under the same catalog name."""
    from floe.runtime.spark.session import iceberg_conf

    uri = "postgresql+psycopg://floe:p%40ss%3Aword@127.0.0.1:5433/catalog?sslmode=disable"
    conf = iceberg_conf("floe", {"type": "sql", "uri": uri, "warehouse": "file:///w"})
    assert conf == {
        "spark.sql.catalog.floe": "org.apache.iceberg.spark.SparkCatalog",
        "spark.sql.catalog.floe.cache-enabled": "false",
        "spark.sql.catalog.floe.type": "jdbc",
        "spark.sql.catalog.floe.uri": "jdbc:postgresql://127.0.0.1:5433/catalog?sslmode=disable",
        "spark.sql.catalog.floe.jdbc.user": "floe",
        "spark.sql.catalog.floe.jdbc.password": "p@ss:word",
        "spark.sql.catalog.floe.jdbc.schema-version": "V1",
        "spark.sql.catalog.floe.jdbc.init-catalog-tables": "false",
        "spark.sql.catalog.floe.warehouse": "file:///w",
    }
    bare = iceberg_conf("c", {"type": "sql", "uri": "postgresql://db/cat", "warehouse": "w"})
    assert bare["spark.sql.catalog.c.uri"] == "jdbc:postgresql://db/cat"
    assert not any(k.endswith(("jdbc.user", "jdbc.password")) for k in bare)


@pytest.mark.requirement("FLOE-374")
@pytest.mark.parametrize("kind", ["sql", "rest"])
def test_s3_storage_on_spark_is_refused_with_the_missing_sdk_and_the_fix(kind: str) -> None:
    """Storage s3 (the ``s3.*`` properties of the storage plugin) on either catalog: E690 at
    the manifest's storage plugin, naming the AWS SDK v2 and what to use instead."""
    from floe.runtime.spark.session import iceberg_conf

    props = {"type": kind, "uri": "sqlite:////tmp/c.db" if kind == "sql" else "http://p/api",
             "warehouse": "s3://lake/wh", "s3.endpoint": "http://127.0.0.1:9000"}  # fmt: skip
    with pytest.raises(FloeError) as info:
        iceberg_conf("floe", props)
    (diag,) = info.value.diagnostics
    assert (diag.code, diag.field_path) == ("E690", "plugins.storage")
    assert "AWS SDK v2" in diag.message
    assert "local storage" in (diag.hint or "")
