"""floe's ``sql`` catalog on PostgreSQL seen from Spark, and what Spark cannot reach here.

PyIceberg's SQL catalog on PostgreSQL (``uri: postgresql+psycopg://user:pw@host:port/db``) is
Iceberg's Java JDBC catalog on the same database: the same ``iceberg_tables`` rows, made by
PyIceberg (Java is told not to create them; ``jdbc.schema-version=V1`` adds the column Java
reads), the Spark catalog named as PyIceberg's (``catalog_name`` in the rows). The SQLAlchemy
URI becomes ``jdbc:postgresql://host:port/db`` (its query kept: ``sslmode`` and the like are
pgjdbc's names too), the user and password go to ``jdbc.user``/``jdbc.password`` — session
settings, set after Spark started, never on the command line. The driver is Debian's
``libpostgresql-jdbc-java`` (:func:`floe.runtime.spark.jars.postgresql_jdbc`).

Storage ``s3`` is refused before the run (E690): Iceberg's ``S3FileIO`` is in the runtime jar,
the AWS SDK v2 it calls is not, and no package of the registries reachable here ships it
unshaded (docs/compute.md, "Spark's Iceberg catalog").
"""

from __future__ import annotations

from collections.abc import Mapping

from floe.errors import FloeError, Location
from floe.runtime.spark.jars import postgresql_jdbc

E_SPARK_S3 = "E690"
POSTGRES_SCHEMES = ("postgresql", "postgres")


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


def refuse_s3(props: Mapping[str, str]) -> None:
    """E690 when the storage is s3 (the AWS SDK v2 is not on Spark's classpath)."""
    if not any(k.startswith("s3.") for k in props):
        return
    raise FloeError.single(
        E_SPARK_S3,
        "the spark compute cannot write floe's tables on s3 storage: Iceberg's S3FileIO needs "
        "the AWS SDK v2 (iceberg-aws-bundle), which is not on Spark's classpath",
        Location("manifest.yaml"),
        field_path="plugins.storage",
        hint="use local storage with the spark compute, or the duckdb compute on s3 "
        "(docs/compute.md: Spark on s3 needs iceberg-aws-bundle, which no PyPI or Debian "
        "package ships)",
    )
