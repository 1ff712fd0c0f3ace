"""floe on a real Iceberg REST catalog (issue 13 point 1; FLOE-391, FLOE-392): the
``lakana-server`` control plane from PyPI (its own venv, ``make setup``; its metadata in a
private PostgreSQL 15, its warehouse a local folder) serves the Iceberg REST API; the manifest's
catalog is ``type: rest`` by URI, with its bearer token a floe secret reference. One server for
the module; the DuckDB run publishes into its environment (the REST ``prefix``); Spark's REST
catalog, configured by floe, reads and creates tables there in this worker's JVM — its writes
lakana refuses (see the Spark test).

lakana creates tables only under a top-level namespace ``bronze``, ``silver`` or ``gold``: the
product is named ``bronze`` (its namespace)."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TINY_MANIFEST, TINY_SPEC, write_tiny
from tests.e2e.servers import await_line, free_port, postgres_server
from tests.e2e.spark import run_in, value

LAKANA = Path(__file__).resolve().parents[2] / ".venv" / "lakana" / "bin" / "lakana-server"
KEY_ID, SECRET = "floetest", "floe-e2e-rest-secret-0123456789"
TOKEN = f"lakana_pat_{KEY_ID}_{SECRET}"
TOKEN_ENV = "FLOE_E2E_LAKANA_TOKEN"
TABLES = ("raw_orders", "stg_orders", "int_orders", "mart_revenue")
SPEC = TINY_SPEC.replace("name: tiny\n", "name: bronze\n")
#: The seed's rows, and what the models make of them (amount doubled, then summed).
EXPECTED = {
    "raw_orders": [(1, 10), (2, 20)],
    "stg_orders": [(1, 10), (2, 20)],
    "int_orders": [(1, 20), (2, 40)],
    "mart_revenue": [("6E+1",)],
}


def _manifest(uri: str, prefix: str) -> str:
    """The tiny manifest with its catalog the REST catalog at ``uri`` / ``prefix``."""
    catalog = (
        "  catalog:\n    type: rest\n    config:\n"
        f"      uri: {uri}\n      token: {{secret: {TOKEN_ENV}}}\n"
        f"      properties: {{prefix: {prefix}}}\n"
    )
    return TINY_MANIFEST.replace("  catalog:\n    type: sql\n", catalog)


def _environment(uri: str, name: str, root: Path) -> None:
    """A lakana environment (the REST prefix ``name``) whose tables live under ``root``."""
    body = {"name": name, "storage": {"scheme": "file", "root": root.as_uri()}}
    request = urllib.request.Request(
        f"{uri}/api/v1/environments",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 201


@pytest.fixture(scope="module")
def lakana(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """lakana-server on a loopback port (migrated, its first administrator's token fixed);
    its base URI. The token is in the environment only, as the env secrets plugin reads it."""
    with postgres_server() as db:
        port = free_port()
        env = {
            **os.environ,
            "LAKANA_DATABASE__URL": db.replace("+psycopg", "+pg8000"),
            "LAKANA_PORT": str(port),
            "LAKANA_BOOTSTRAP_PAT_KEY_ID": KEY_ID,
            "LAKANA_BOOTSTRAP_PAT_SECRET": SECRET,
            "LAKANA_LOG__ACCESS": "false",
        }
        subprocess.run([str(LAKANA), "migrate"], env=env, check=True, capture_output=True,
                       timeout=120)  # fmt: skip
        proc = subprocess.Popen([str(LAKANA)], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)  # fmt: skip
        saved = os.environ.get(TOKEN_ENV)
        os.environ[TOKEN_ENV] = TOKEN
        try:
            await_line(proc, b"Uvicorn running", 60)
            yield f"http://127.0.0.1:{port}"
        finally:
            os.environ.pop(TOKEN_ENV) if saved is None else os.environ.update({TOKEN_ENV: saved})
            proc.terminate()
            proc.wait(timeout=30)


@pytest.fixture(scope="module")
def runs(lakana: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The product run on DuckDB into lakana's environment ``duck``: the run, PyIceberg's
    RestCatalog of the environment and its warehouse folder; the product folder."""
    from pyiceberg.catalog.rest import RestCatalog

    root = tmp_path_factory.mktemp("restcat")
    _environment(lakana, "duck", root / "warehouse")
    product = write_tiny(root / "duck", spec=SPEC, manifest=_manifest(lakana, "duck"))
    catalog = RestCatalog("duck", uri=lakana, token=TOKEN, prefix="duck")
    return {"duck": (run_in(product), catalog, root / "warehouse"), "product": product}


def _rows(table: Any) -> list[tuple[Any, ...]]:
    rows = table.scan().to_arrow().to_pylist()
    return sorted(tuple(value(v) for v in r.values()) for r in rows)


@pytest.mark.timeout(600)
@pytest.mark.requirement("FLOE-391")
def test_duckdb_run_publishes_every_table_through_a_real_rest_catalog(
    runs: dict[str, Any],
) -> None:
    """``floe run`` on DuckDB publishes the four tables through lakana's Iceberg REST API (the
    token from the secret reference): read back through PyIceberg's RestCatalog, each holds
    the rows the seed makes of it, its current snapshot carries the run id and product, and
    its files are in the environment's local warehouse folder."""
    run, catalog, warehouse = runs["duck"]
    assert run.success, run.failure
    assert sorted(a.name for a in run.assets if a.status == "published") == sorted(TABLES)
    assert sorted(t[1] for t in catalog.list_tables("bronze")) == sorted(TABLES)
    for name in TABLES:
        table = catalog.load_table(f"bronze.{name}")
        assert _rows(table) == [tuple(map(value, r)) for r in EXPECTED[name]], name
        summary = dict(table.current_snapshot().summary.additional_properties)
        assert (summary["floe.run_id"], summary["floe.product"]) == (run.run_id, "bronze")
        assert table.metadata.location.startswith(warehouse.as_uri()), table.metadata.location


@pytest.mark.timeout(600)
@pytest.mark.requirement("FLOE-392")
def test_spark_reaches_the_real_rest_catalog_floe_configures(
    runs: dict[str, Any],
) -> None:
    """Spark's Iceberg REST catalog as floe configures it for a run (``run_session`` from the
    catalog plugin's properties: URI, prefix, the token resolved from the secret reference and
    set on the session) loads with floe's jars and works against lakana: it lists the tables
    DuckDB's run published and reads their rows; a table it creates (with a property) is seen
    by PyIceberg. Its writes are refused by lakana: Hadoop's FileIO names the manifest list
    ``file:/…`` where the table's location is ``file:///…``, and lakana checks the prefix
    literally — so a Spark run cannot publish into a lakana ``file://`` warehouse."""
    from floe.runtime.spark.session import run_session
    from tests.e2e.spark import catalog_of

    _, catalog, _ = runs["duck"]
    props = {k: str(v) for k, v in catalog_of(runs["product"]).properties.items()}
    assert props["token"] == TOKEN  # resolved from the secret reference, on no command line
    spark = run_session("local[2]", "floe", props, {"spark.driver.memory": "2g"})
    listed = spark.sql("SHOW TABLES IN floe.bronze").collect()
    assert sorted(r["tableName"] for r in listed) == sorted(TABLES)
    revenue = spark.sql("SELECT revenue FROM floe.bronze.mart_revenue").collect()
    assert [value(r["revenue"]) for r in revenue] == ["6E+1"]
    spark.sql("CREATE TABLE floe.bronze.spark_made (id bigint, note string) USING iceberg "
              "TBLPROPERTIES ('floe.probe' = 'spark')")  # fmt: skip
    made = catalog.load_table("bronze.spark_made")
    assert [f.name for f in made.schema().fields] == ["id", "note"]
    assert made.properties["floe.probe"] == "spark"
    with pytest.raises(Exception, match="manifest list must lie under the table's own location"):
        spark.sql("INSERT INTO floe.bronze.spark_made VALUES (1, 'a')")
