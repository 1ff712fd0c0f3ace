"""``floe run`` on the Spark compute's ``thrift`` method (issue 13): dbt-spark's ``thrift``
method and floe's write–audit–publish, all over SQL, on a real Spark Thrift Server — Spark's
HiveThriftServer2 listening on a loopback port, reached by PyHive exactly as a remote one —
carrying floe's Iceberg catalog (the embedded SQLite catalog, through Iceberg's JDBC catalog).
The same floe.yaml gives the same tables as on DuckDB, each through an audit branch whose
snapshot carries floe's properties; a failing test leaves ``main`` untouched and the branch.

One server for the module, started inside the worker's Spark (the JVM the other Spark modules
share: tests/e2e/schedule.py); the runs themselves start no Spark (floe only talks SQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from floe.errors import FloeError
from tests.conftest import TINY_SPEC, write_tiny
from tests.e2e.spark import (
    catalog_of,
    checksum,
    free_port,
    home_of,
    run_failing_unique_test,
    run_in,
    thrift_server,
    value,
)
from tests.unit.test_compute_spark import SPARK_MANIFEST, SPARK_SPEC

TABLES = ("raw_orders", "stg_orders", "int_orders", "mart_revenue")
NTZ = ("spark.sql.timestampType", "TIMESTAMP_NTZ")
SESSION_CONFIG = "  spark: {master: 'local[2]', conf: {spark.driver.memory: 2g}}\n"


def _thrift_manifest(port: int) -> str:
    return SPARK_MANIFEST.replace(
        SESSION_CONFIG, f"  spark: {{method: thrift, host: 127.0.0.1, port: {port}}}\n"
    )


def _server_catalog(product: Path) -> dict[str, str]:
    """The Spark settings of floe's Iceberg catalog of ``product``'s platform home, as the
    platform would configure its Thrift server (the SQLite file prepared for Java)."""
    from floe.runtime.platform import platform_plugins
    from floe.runtime.spark.session import iceberg_conf, prepare_sqlite

    with home_of(product / ".floe"):
        plugins = platform_plugins(product / "manifest.yaml")
        plugins.home.ensure()
        props = plugins.catalog_properties()
    name = str(props.pop("name", "floe"))
    prepare_sqlite(name, props)
    return iceberg_conf(name, props)


@pytest.fixture(scope="module")
def thrift(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The tiny product on DuckDB, and the same floe.yaml with ``compute: spark`` on a platform
    whose spark compute is a Thrift server (fresh home), run once each."""
    root = tmp_path_factory.mktemp("thrift")
    duck = write_tiny(root / "duck", spec=TINY_SPEC, manifest=SPARK_MANIFEST)
    product = write_tiny(root / "thrift", spec=SPARK_SPEC, manifest=SPARK_MANIFEST)
    with thrift_server(_server_catalog(product), root) as port:
        (product / "manifest.yaml").write_text(_thrift_manifest(port))
        yield {"port": port, "duck": (duck, run_in(duck)), "thrift": (product, run_in(product))}


@pytest.mark.timeout(600)
@pytest.mark.requirement("FLOE-361")
@pytest.mark.requirement("FR-052")
def test_thrift_run_gives_the_tables_of_duckdb(thrift: dict[str, Any]) -> None:
    """Only the platform's spark compute differs (``method: thrift``): the run publishes the
    four tables, each with the rows (order-free checksum) and column names the DuckDB run
    published — dbt-spark built them on the server, reading the seed's table through the
    catalog."""
    (duck, duck_run), (product, run) = thrift["duck"], thrift["thrift"]
    assert duck_run.success, duck_run.failure
    assert run.success, run.failure
    assert sorted(a.name for a in run.assets if a.status == "published") == sorted(TABLES)
    ducks, ours = catalog_of(duck), catalog_of(product)
    for name in TABLES:
        left, right = ducks.load_table(f"tiny.{name}"), ours.load_table(f"tiny.{name}")
        assert checksum(left) == checksum(right, run.run_id), name
        assert [f.name for f in left.schema().fields] == [f.name for f in right.schema().fields]
    revenue = ours.load_table("tiny.mart_revenue")
    rows = revenue.scan(snapshot_id=revenue.metadata.refs[f"run-{run.run_id}"].snapshot_id)
    assert [value(r["revenue"]) for r in rows.to_arrow().to_pylist()] == ["6E+1"]


@pytest.mark.timeout(600)
@pytest.mark.requirement("FLOE-362")
@pytest.mark.requirement("FLOE-363")
def test_thrift_publishes_audited_snapshots_with_floes_properties(thrift: dict[str, Any]) -> None:
    """Each table's snapshot of the run (its ``run-<id>`` tag) carries the run id, product,
    dbt node and trace id — the trace of the run's spans, which show the server session, one
    audit branch and one publish per table — holds the rows dbt built (added-records), and is
    the one main was fast-forwarded to: the run's audit and staging branches are gone."""
    product, run = thrift["thrift"]
    catalog = catalog_of(product)
    from floe.observe.spanfile import read_spans

    spans = read_spans(product / ".floe" / "telemetry" / "spans.jsonl")
    (root,) = [s for s in spans if s["name"] == "floe.run"
               and s["attributes"].get("floe.run_id") == run.run_id]  # fmt: skip
    ours = [s for s in spans if s["trace_id"] == root["trace_id"]]
    session = [s["attributes"]["spark.thrift"] for s in ours if s["name"] == "spark.thrift"]
    assert session == [f"127.0.0.1:{thrift['port']}"]
    for phase in ("iceberg.branch", "iceberg.publish"):
        tables = sorted(s["attributes"]["iceberg.table"] for s in ours
                        if s["name"].startswith(phase + " "))  # fmt: skip
        assert tables == sorted(f"tiny.{t}" for t in TABLES), phase
    rows = {"raw_orders": 2, "stg_orders": 2, "int_orders": 2, "mart_revenue": 1}
    for name in TABLES:
        table = catalog.load_table(f"tiny.{name}")
        snapshot = table.snapshot_by_id(table.metadata.refs[f"run-{run.run_id}"].snapshot_id)
        summary = dict(snapshot.summary.additional_properties)
        assert summary["floe.run_id"] == run.run_id
        assert summary["floe.product"] == "tiny"
        assert summary["floe.dbt_unique_id"].endswith(f"tiny.{name}")
        assert summary["floe.trace_id"] == root["trace_id"]
        assert summary["added-records"] == str(rows[name])
        branches = [r for r in table.metadata.refs if r.endswith(run.run_id.replace("-", "_"))]
        assert branches == [], name


@pytest.mark.timeout(600)
@pytest.mark.requirement("FLOE-362")
def test_a_failing_test_on_thrift_leaves_main_untouched(thrift: dict[str, Any]) -> None:
    """A duplicated order id fails stg_orders' unique test, run by dbt on the server against
    the audit branch: the run fails naming it; stg_orders keeps its snapshot on ``main`` and its
    audit branch, holding the three rows the test saw, stays for inspection; what is downstream
    is held back (branches dropped); the seed, whose own checks passed, is published."""
    product, first = thrift["thrift"]
    second, stg = run_failing_unique_test(product, TABLES)
    branch = "audit_" + second.run_id.replace("-", "_")
    assert sorted(stg.metadata.refs) == sorted(["main", f"run-{first.run_id}", branch])
    held = stg.snapshot_by_id(stg.metadata.refs[branch].snapshot_id)
    assert dict(held.summary.additional_properties)["floe.run_id"] == second.run_id
    raw = catalog_of(product).load_table("tiny.raw_orders")
    assert raw.current_snapshot().summary.additional_properties["floe.run_id"] == second.run_id


@pytest.mark.timeout(120)
@pytest.mark.requirement("FLOE-364")
def test_a_server_without_floes_catalog_or_no_server_is_refused(thrift: dict[str, Any]) -> None:
    """The run's connection checks the server sees floe's catalog under its name: a catalog
    name the server lacks is E585 naming it; a port nobody listens on is E584 naming the
    server's address — before anything is built. floe's session, and a session opened as
    dbt-spark opens it from the compiled profile, write timestamps without time zone (the
    profile's ``server_side_parameters`` reach Spark's session)."""
    from pyhive import hive

    from floe.runtime.spark.thrift import ThriftServer, open_backend

    server = ThriftServer("127.0.0.1", thrift["port"], "floe", "NONE")
    with pytest.raises(FloeError) as refused:
        open_backend(server, "elsewhere", "tiny")
    assert [d.code for d in refused.value.diagnostics] == ["E585"]
    assert "no catalog 'elsewhere'" in str(refused.value)
    sql, _, _, close = open_backend(server, "floe", "tiny")
    try:
        assert ("tiny",) in sql.execute("SHOW NAMESPACES IN floe")
        assert sql.execute("SET spark.sql.timestampType") == [NTZ]
    finally:
        close()
    product, _ = thrift["thrift"]
    profiles = yaml.safe_load((product / "target" / "floe" / "profiles.yml").read_text())
    profile = profiles["tiny"]["outputs"]["dev"]
    dbt_session = hive.connect(host=profile["host"], port=profile["port"],
                               username=profile["user"],
                               configuration=profile["server_side_parameters"])  # fmt: skip
    try:
        cursor = dbt_session.cursor()
        cursor.execute("SET spark.sql.timestampType")
        assert cursor.fetchall() == [NTZ]  # dbt's seeds and models: timestamps as DuckDB's
    finally:
        dbt_session.close()
    nobody = ThriftServer("127.0.0.1", free_port(), "floe", "NONE")
    with pytest.raises(FloeError) as unreachable:
        open_backend(nobody, "floe", "tiny")
    assert [d.code for d in unreachable.value.diagnostics] == ["E584"]
    assert nobody.address in str(unreachable.value)
