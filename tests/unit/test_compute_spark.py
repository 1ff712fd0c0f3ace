"""The spark compute plugin (issue 13 point 1): approved in the manifest, chosen per product in
floe.yaml, it writes the dbt-spark profile (session or thrift, secrets by reference) and Spark's
Iceberg catalog settings come from floe's catalog plugin."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from floe.compile.api import compile_product
from floe.errors import FloeError
from tests.conftest import TINY_MANIFEST, TINY_SPEC

SPARK_MANIFEST = TINY_MANIFEST.replace(
    "governance:\n",
    "approved_compute: [duckdb, spark]\n"
    "compute_configs:\n  spark: {master: 'local[2]', conf: {spark.driver.memory: 2g}}\n"
    "governance:\n",
)
SPARK_SPEC = TINY_SPEC.replace("transforms:\n", "compute: spark\ntransforms:\n")


def _profile(product: Path) -> dict[str, object]:
    profiles = yaml.safe_load((product / "target" / "floe" / "profiles.yml").read_text())
    output: dict[str, object] = profiles["tiny"]["outputs"]["dev"]
    return output


def _compile(tiny: Path, spec: str, manifest: str) -> object:
    (tiny / "floe.yaml").write_text(spec)
    (tiny / "manifest.yaml").write_text(manifest)
    return compile_product(tiny)


@pytest.mark.requirement("FR-052")
@pytest.mark.requirement("FLOE-132")
def test_floe_yaml_compute_spark_compiles_to_a_dbt_spark_session_profile(tiny: Path) -> None:
    """The same floe.yaml with ``compute: spark`` (approved by the manifest, configured in its
    compute_configs) compiles to a dbt-spark ``session`` profile and artifacts naming the spark
    compute with its config; without the line it stays on the manifest's duckdb."""
    ctx = _compile(tiny, SPARK_SPEC, SPARK_MANIFEST)
    artifacts = ctx.artifacts  # type: ignore[attr-defined]
    assert artifacts.plugins["compute"].type == "spark"
    assert artifacts.plugins["compute"].config == {
        "master": "local[2]", "conf": {"spark.driver.memory": "2g"}
    }  # fmt: skip
    assert {t.compute for t in artifacts.transforms} == {"spark"}
    assert _profile(tiny) == {
        "type": "spark", "method": "session", "host": "localhost", "schema": "main", "threads": 1
    }  # fmt: skip
    _compile(tiny, TINY_SPEC, SPARK_MANIFEST)
    assert _profile(tiny)["type"] == "duckdb"


@pytest.mark.requirement("FLOE-132")
def test_thrift_profile_names_the_server_and_the_password_by_reference(tiny: Path) -> None:
    """``method: thrift`` points dbt-spark at the platform's Thrift server, in a schema of the
    product's own (the server's session catalog is shared by every product), its sessions
    writing timestamps without time zone as floe's tables hold them; the password is an
    ``env_var`` lookup of its secret reference, never a value, in profile and artifacts."""
    manifest = SPARK_MANIFEST.replace(
        "  spark: {master: 'local[2]', conf: {spark.driver.memory: 2g}}\n",
        "  spark: {method: thrift, host: sts.data.svc, port: 10001, user: floe,\n"
        "          auth_method: LDAP, password: {secret: SPARK_THRIFT_PASSWORD}}\n",
    )
    ctx = _compile(tiny, SPARK_SPEC, manifest)
    assert _profile(tiny) == {
        "type": "spark", "method": "thrift", "host": "sts.data.svc", "port": 10001,
        "schema": "floe_tiny", "threads": 1, "user": "floe", "auth": "LDAP",
        "password": "{{ env_var('SPARK_THRIFT_PASSWORD') }}", "poll_interval": 1,
        "server_side_parameters": {"set:hiveconf:spark.sql.timestampType": "TIMESTAMP_NTZ",
                                   "set:hiveconf:spark.sql.session.timeZone": "UTC"},
    }  # fmt: skip
    config = ctx.artifacts.plugins["compute"].config  # type: ignore[attr-defined]
    assert config["password"] == {"secret": "SPARK_THRIFT_PASSWORD"}


@pytest.mark.requirement("FR-012")
def test_product_compute_must_be_approved(tiny: Path) -> None:
    """``compute: spark`` on a platform that approves only duckdb is E303 at the floe.yaml line
    (a transform's own compute: tests/unit/test_engines_mixed.py)."""
    with pytest.raises(FloeError) as info:
        _compile(tiny, SPARK_SPEC, TINY_MANIFEST)
    assert [d.code for d in info.value.diagnostics] == ["E303"]
    assert info.value.diagnostics[0].location.line == 9
    assert "compute 'spark' is not approved by the platform (approved: duckdb)" in str(
        info.value.render()
    )


@pytest.mark.requirement("FLOE-132")
def test_thrift_without_host_is_refused_at_its_config_line(tiny: Path) -> None:
    """``method: thrift`` without ``host`` is a config error naming the manifest."""
    manifest = SPARK_MANIFEST.replace(
        "  spark: {master: 'local[2]', conf: {spark.driver.memory: 2g}}\n",
        "  spark: {method: thrift}\n",
    )
    with pytest.raises(FloeError) as info:
        _compile(tiny, SPARK_SPEC, manifest)
    assert "method thrift needs host" in info.value.render()
    where = info.value.diagnostics[0].location
    assert (Path(where.file).name, where.line) == ("manifest.yaml", 18)  # compute_configs.spark


@pytest.mark.requirement("FLOE-132")
def test_spark_iceberg_catalog_settings_from_floe_catalog_properties(tmp_path: Path) -> None:
    """The embedded SQL catalog becomes Iceberg's JDBC catalog on the same SQLite file under the
    same name (schema V1, Java does not create tables); a REST/Polaris catalog its REST catalog
    with URI, warehouse and OAuth2 credential; a sql catalog on another database than SQLite or
    PostgreSQL is refused (E581)."""
    from floe.runtime.spark.session import iceberg_conf

    db = tmp_path / "catalog.db"
    sql = iceberg_conf("floe", {"type": "sql", "uri": f"sqlite:///{db}",
                                "warehouse": "file:///w"})  # fmt: skip
    assert sql == {
        "spark.sql.catalog.floe": "org.apache.iceberg.spark.SparkCatalog",
        "spark.sql.catalog.floe.cache-enabled": "false",
        "spark.sql.catalog.floe.type": "jdbc",
        "spark.sql.catalog.floe.uri": f"jdbc:sqlite:{db}",
        "spark.sql.catalog.floe.jdbc.schema-version": "V1",
        "spark.sql.catalog.floe.jdbc.init-catalog-tables": "false",
        "spark.sql.catalog.floe.warehouse": "file:///w",
    }
    rest = iceberg_conf(
        "lake",
        {
            "type": "rest",
            "uri": "http://polaris:8181/api/catalog",
            "warehouse": "lake",
            "credential": "id:s3cr3t",
            "scope": "PRINCIPAL_ROLE:ALL",
            "header.X-Iceberg-Access": "v",
        },
    )
    assert rest == {
        "spark.sql.catalog.lake": "org.apache.iceberg.spark.SparkCatalog",
        "spark.sql.catalog.lake.cache-enabled": "false",
        "spark.sql.catalog.lake.type": "rest",
        "spark.sql.catalog.lake.uri": "http://polaris:8181/api/catalog",
        "spark.sql.catalog.lake.warehouse": "lake",
        "spark.sql.catalog.lake.credential": "id:s3cr3t",
        "spark.sql.catalog.lake.scope": "PRINCIPAL_ROLE:ALL",
        "spark.sql.catalog.lake.header.X-Iceberg-Access": "v",
    }  # fmt: skip
    with pytest.raises(FloeError) as info:
        iceberg_conf("floe", {"type": "sql", "uri": "mysql+pymysql://u@db/cat"})
    assert [d.code for d in info.value.diagnostics] == ["E581"]
