"""The jars a local Spark needs to read and write floe's Iceberg tables.

* the Iceberg Spark runtime 1.10 (Spark 3.5, Scala 2.12) from the PyPI package
  ``snowpark-connect-deps-iceberg`` (installed with ``floe-platform[spark]``);
* Iceberg's relocated Jackson, which that runtime jar lacks (``NoClassDefFoundError:
  org/apache/iceberg/shaded/com/fasterxml/jackson/…`` on the first write): built once from
  PySpark's own jackson-core/databind/annotations jars by Debian's ``jarjar``, relocated into
  ``org.apache.iceberg.shaded.com.fasterxml.jackson``, cached in ``<venv>/spark-jars/``
  (``FLOE_SPARK_JARS`` overrides) — ``python -m floe.runtime.spark.jars`` builds it
  (``make setup`` does), a second call finds it and returns at once;
* the SQLite JDBC driver from Debian (``libxerial-sqlite-jdbc-java``) with its JNI library
  (``libxerial-sqlite-jdbc-jni``), for Iceberg's JDBC catalog on floe's ``catalog.db``;
* the PostgreSQL JDBC driver from Debian (``libpostgresql-jdbc-java``), the AWS SDK v2
  (:mod:`floe.runtime.spark.aws_sdk`, for s3 storage) and the HttpComponents 5 of Iceberg's
  REST catalog client (built from the same jar) when they are there (``make setup``
  installs them) — always on the classpath, since the JVM's jars are fixed for the process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from floe.errors import FloeError, Location

JARS_ENV = "FLOE_SPARK_JARS"
JARJAR = Path("/usr/share/java/jarjar.jar")
SQLITE_JDBC = Path("/usr/share/java/sqlite-jdbc.jar")
SQLITE_JNI = "libsqlitejdbc.so"
POSTGRES_JDBC = Path("/usr/share/java/postgresql.jar")
#: the AWS SDK v2 for S3FileIO, built by floe.runtime.spark.aws_sdk into the jar cache
AWS_SDK_JAR = "aws-sdk-v2-from-sagemaker-feature-store-pyspark-2.2.2.jar"
#: HttpComponents 5 for Iceberg's REST catalog client, built by floe.runtime.spark.aws_sdk too
REST_HTTP_JAR = "iceberg-shaded-httpclient5-from-sagemaker-feature-store-pyspark-2.2.2.jar"
SCALA = "2.12"  # PySpark 3.5's Scala
JACKSON = ("jackson-core", "jackson-databind", "jackson-annotations")
RELOCATION = "rule com.fasterxml.jackson.** org.apache.iceberg.shaded.com.fasterxml.jackson.@1\n"
E_SPARK_SETUP = "E580"


@dataclass(frozen=True)
class SparkJars:
    """What a SparkSession puts on its classpath and library path."""

    jars: tuple[Path, ...]
    library_path: Path  # the folder holding the SQLite JDBC driver's JNI library

    def conf(self) -> dict[str, str]:
        """Spark settings: the jars, and the JNI folder on the driver's library path. The
        driver also has the jars on its class path: ``spark.jars`` alone puts them in a class
        loader that Hive 2.3 closes when a Spark Thrift Server session ends
        (``NoClassDefFoundError`` on the next Iceberg class a later session needs)."""
        return {
            "spark.jars": ",".join(str(j) for j in self.jars),
            "spark.driver.extraClassPath": ":".join(str(j) for j in self.jars),
            "spark.driver.extraLibraryPath": str(self.library_path),
            "spark.executor.extraLibraryPath": str(self.library_path),
        }


def cache_dir() -> Path:
    """Where the relocated Jackson jar is kept (``$FLOE_SPARK_JARS``, else the venv's)."""
    env = os.environ.get(JARS_ENV)
    return Path(env) if env else Path(sys.prefix) / "spark-jars"


def _missing(what: str, hint: str) -> FloeError:
    return FloeError.single(
        E_SPARK_SETUP,
        f"Spark compute is not installed: {what}",
        Location("manifest.yaml"),
        field_path="plugins.compute",
        hint=hint,
    )


def iceberg_runtime() -> Path:
    """The Iceberg Spark runtime jar of ``snowpark-connect-deps-iceberg``."""
    try:
        from snowpark_connect_deps_iceberg import get_jars_dir
    except ImportError:
        raise _missing(
            "the Python package snowpark-connect-deps-iceberg",
            "install floe-platform[spark] (make setup does)",
        ) from None
    found = sorted(get_jars_dir().glob(f"iceberg-spark-runtime-3.5_{SCALA}-*.jar"))
    if not found:
        raise _missing("the Iceberg Spark runtime jar", "reinstall floe-platform[spark]")
    return Path(found[-1])


def pyspark_jars() -> Path:
    """PySpark's own jar folder."""
    try:
        import pyspark
    except ImportError:
        raise _missing("pyspark", "install floe-platform[spark] (make setup does)") from None
    return Path(pyspark.__file__).parent / "jars"


def _jackson_jars() -> list[Path]:
    folder = pyspark_jars()
    out = []
    for name in JACKSON:
        found = sorted(folder.glob(f"{name}-2.*.jar"))
        if not found:
            raise _missing(f"{name} in {folder}", "reinstall pyspark")
        out.append(found[-1])
    return out


def relocated_jackson(cache: Path | None = None) -> Path:
    """The relocated Jackson jar, built by jarjar on first use (idempotent: the name carries
    the Jackson version, so an existing jar is returned as it is)."""
    sources = _jackson_jars()
    version = sources[0].stem.rsplit("-", 1)[-1]
    target = (cache or cache_dir()) / f"iceberg-shaded-jackson-{version}.jar"
    if target.is_file():
        return target
    if not JARJAR.is_file():
        raise _missing(str(JARJAR), "apt-get install libjarjar-java (make setup does)")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        merged, out = Path(tmp, "jackson.jar"), Path(tmp, "out.jar")
        _merge(sources, merged)
        relocate(RELOCATION, merged, out)
        out.replace(target)  # atomic: a concurrent build finds a whole jar or none
    return target


def relocate(rules: str, source: Path, out: Path) -> None:
    """``out``: ``source`` with its classes renamed by jarjar's ``rules`` (``rule a.** b.@1``
    lines), written next to it."""
    if not JARJAR.is_file():
        raise _missing(str(JARJAR), "apt-get install libjarjar-java (make setup does)")
    rules_file = out.with_name(out.name + ".rules")
    rules_file.write_text(rules, encoding="utf-8")
    java = shutil.which("java") or "java"
    subprocess.run([java, "-jar", str(JARJAR), "process", str(rules_file), str(source), str(out)],
                   check=True, capture_output=True)  # fmt: skip


def _merge(sources: list[Path], merged: Path) -> None:
    """One jar of the classes of ``sources``, without the Java 9+ multi-release copies and
    module descriptors (relocated, they would collide with the base classes)."""
    seen: set[str] = set()
    with zipfile.ZipFile(merged, "w", zipfile.ZIP_DEFLATED) as out:
        for source in sources:
            with zipfile.ZipFile(source) as jar:
                for entry in jar.infolist():
                    name = entry.filename
                    if (
                        name in seen
                        or name.startswith("META-INF/versions/")
                        or name.endswith("module-info.class")
                        or not name.endswith(".class")
                    ):
                        continue
                    seen.add(name)
                    out.writestr(entry, jar.read(entry))


def sqlite_jdbc() -> tuple[Path, Path]:
    """Debian's SQLite JDBC jar and the folder of its JNI library."""
    if not SQLITE_JDBC.is_file():
        raise _missing(
            str(SQLITE_JDBC), "apt-get install libxerial-sqlite-jdbc-java (make setup does)"
        )
    for folder in (Path("/usr/lib/jni"), *sorted(Path("/usr/lib").glob("*-linux-gnu/jni"))):
        if (folder / SQLITE_JNI).is_file():
            return SQLITE_JDBC, folder
    raise _missing(SQLITE_JNI, "apt-get install libxerial-sqlite-jdbc-jni (make setup does)")


def spark_jars(cache: Path | None = None) -> SparkJars:
    """Everything a SparkSession needs for floe's Iceberg catalog, building what is missing."""
    jdbc, jni = sqlite_jdbc()
    sdk, http5 = ((cache or cache_dir()) / name for name in (AWS_SDK_JAR, REST_HTTP_JAR))
    optional = tuple(p for p in (POSTGRES_JDBC, sdk, http5) if p.is_file())
    return SparkJars((iceberg_runtime(), relocated_jackson(cache), jdbc, *optional), jni)


def postgresql_jdbc() -> Path:
    """Debian's PostgreSQL JDBC driver (E580 when it is not installed)."""
    if not POSTGRES_JDBC.is_file():
        raise _missing(str(POSTGRES_JDBC),
                       "apt-get install libpostgresql-jdbc-java (make setup does)")  # fmt: skip
    return POSTGRES_JDBC


if __name__ == "__main__":  # `python -m floe.runtime.spark.jars`: the build step of make setup
    print(relocated_jackson())
