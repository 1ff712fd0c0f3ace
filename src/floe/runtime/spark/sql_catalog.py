"""floe's ``sql`` catalog on PostgreSQL seen from Spark, and what Spark cannot reach here.

PyIceberg's SQL catalog on PostgreSQL (``uri: postgresql+psycopg://user:pw@host:port/db``) is
Iceberg's Java JDBC catalog on the same database: the same ``iceberg_tables`` rows, made by
PyIceberg (Java is told not to create them; ``jdbc.schema-version=V1`` adds the column Java
reads), the Spark catalog named as PyIceberg's (``catalog_name`` in the rows). The SQLAlchemy
URI becomes ``jdbc:postgresql://host:port/db`` (its query kept: ``sslmode`` and the like are
pgjdbc's names too), the user and password go to ``jdbc.user``/``jdbc.password`` — session
settings, set after Spark started, never on the command line. The driver is Debian's
``libpostgresql-jdbc-java`` (:func:`floe.runtime.spark.jars.postgresql_jdbc`).

Storage ``s3``: Iceberg's ``S3FileIO`` (in the runtime jar) with the AWS SDK v2 floe builds
from a PyPI package (:mod:`floe.runtime.spark.aws_sdk`); the storage plugin's ``s3.*``
properties mapped to Iceberg's (``s3.region`` → ``client.region``, no virtual addressing →
``s3.path-style-access``); E690 when the SDK jar is not built.
"""

from __future__ import annotations

from collections.abc import Mapping

from floe.errors import FloeError, Location
from floe.runtime.spark.jars import AWS_SDK_JAR, cache_dir, postgresql_jdbc

E_SPARK_S3 = "E690"
POSTGRES_SCHEMES = ("postgresql", "postgres")
S3_FILE_IO = "org.apache.iceberg.aws.s3.S3FileIO"
#: PyIceberg s3 properties Iceberg's S3FileIO reads under the same names
S3_KEYS = ("s3.endpoint", "s3.access-key-id", "s3.secret-access-key", "s3.session-token")


def is_postgres(uri: str) -> bool:
    """True for a SQLAlchemy PostgreSQL URI (any driver: ``postgresql+psycopg://…``)."""
    return uri.split("://", 1)[0].split("+", 1)[0] in POSTGRES_SCHEMES


def postgres_conf(prefix: str, uri: str) -> dict[str, str]:
    """Iceberg JDBC catalog settings for PyIceberg's PostgreSQL ``uri``."""
    from sqlalchemy.engine import make_url

    postgresql_jdbc()  # E580 when the driver is missing
    url = make_url(uri)
    host = url.host or "localhost"
    where = f"{host}:{url.port}" if url.port else host
    query = "&".join(f"{k}={v}" for k, values in sorted(url.query.items())
                     for v in ([values] if isinstance(values, str) else values))  # fmt: skip
    jdbc = f"jdbc:postgresql://{where}/{url.database or ''}" + (f"?{query}" if query else "")
    conf = {f"{prefix}.uri": jdbc}
    if url.username:
        conf[f"{prefix}.jdbc.user"] = url.username
    if url.password is not None:
        conf[f"{prefix}.jdbc.password"] = str(url.password)
    return conf


def s3_conf(prefix: str, props: Mapping[str, str]) -> dict[str, str]:
    """Iceberg's ``S3FileIO`` settings from the s3 storage plugin's properties ({} without
    them); E690 when the AWS SDK v2 jar is not built."""
    if not any(k.startswith("s3.") for k in props):
        return {}
    if not (cache_dir() / AWS_SDK_JAR).is_file():
        raise FloeError.single(
            E_SPARK_S3,
            "the spark compute cannot write floe's tables on s3 storage: Iceberg's S3FileIO "
            f"needs the AWS SDK v2, and {cache_dir() / AWS_SDK_JAR} is not built",
            Location("manifest.yaml"),
            field_path="plugins.storage",
            hint="run `make setup` (it runs `python -m floe.runtime.spark.aws_sdk`), or use "
            "local storage with the spark compute, or the duckdb compute on s3",
        )
    conf = {f"{prefix}.io-impl": S3_FILE_IO}
    conf |= {f"{prefix}.{k}": str(props[k]) for k in S3_KEYS if props.get(k)}
    if props.get("s3.region"):
        conf[f"{prefix}.client.region"] = str(props["s3.region"])
    if str(props.get("s3.force-virtual-addressing", "")).lower() == "false":
        conf[f"{prefix}.s3.path-style-access"] = "true"
    return conf
