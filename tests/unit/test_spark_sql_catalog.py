"""Spark's view of floe's sql catalog on PostgreSQL and of s3 storage (issue 13)."""

from __future__ import annotations

from pathlib import Path

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
def test_s3_storage_on_spark_is_s3fileio_with_the_storage_settings_or_e690_without_the_sdk(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Storage s3 (the storage plugin's ``s3.*`` properties) on either catalog: Iceberg's
    S3FileIO with endpoint, keys, region and path-style access under Iceberg's names when the
    AWS SDK v2 jar is built; without it E690 at the manifest's storage plugin, naming the
    jar and ``make setup``."""
    from floe.runtime.spark.jars import AWS_SDK_JAR
    from floe.runtime.spark.session import iceberg_conf

    monkeypatch.setenv("FLOE_SPARK_JARS", str(tmp_path))
    props = {"type": kind, "uri": "sqlite:////tmp/c.db" if kind == "sql" else "http://p/api",
             "warehouse": "s3://lake/wh", "s3.endpoint": "http://127.0.0.1:9000",
             "s3.access-key-id": "AK", "s3.secret-access-key": "SK", "s3.region": "eu-west-1",
             "s3.force-virtual-addressing": "false"}  # fmt: skip
    with pytest.raises(FloeError) as info:
        iceberg_conf("floe", props)
    (diag,) = info.value.diagnostics
    assert (diag.code, diag.field_path) == ("E690", "plugins.storage")
    assert AWS_SDK_JAR in diag.message
    assert "make setup" in (diag.hint or "")
    (tmp_path / AWS_SDK_JAR).write_bytes(b"")
    conf = iceberg_conf("floe", props)
    assert {k: v for k, v in conf.items() if "s3" in k or "io-impl" in k or "region" in k} == {
        "spark.sql.catalog.floe.io-impl": "org.apache.iceberg.aws.s3.S3FileIO",
        "spark.sql.catalog.floe.s3.endpoint": "http://127.0.0.1:9000",
        "spark.sql.catalog.floe.s3.access-key-id": "AK",
        "spark.sql.catalog.floe.s3.secret-access-key": "SK",
        "spark.sql.catalog.floe.client.region": "eu-west-1",
        "spark.sql.catalog.floe.s3.path-style-access": "true",
    }
