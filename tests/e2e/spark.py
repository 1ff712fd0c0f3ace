"""Helpers of the Spark tests: a ``floe run`` on its own platform home, and tables compared
across engines by an order-free checksum of their values."""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from floe.app.run import RunSummary, run


def catalog_of(product: Path, manifest: str = "manifest.yaml") -> Any:
    """The Iceberg catalog of the platform ``product``'s manifest names."""
    from floe.runtime.platform import catalog_for_manifest

    return catalog_for_manifest(product / manifest)


def value(v: Any) -> Any:
    """A number as its normalised decimal text: the engines agree on values, not on every
    type (DuckDB's sum of bigints is a decimal(38,0), Spark's a bigint)."""
    if isinstance(v, bool) or not isinstance(v, int | float | Decimal):
        return v
    return str(Decimal(repr(v) if isinstance(v, float) else v).normalize())


def checksum(table: Any, run_id: str | None = None, ref: str | None = None) -> tuple[int, str]:
    """Row count and an order-free digest of the rows (each row as sorted column=value text),
    current, as the run ``run_id`` published them (its ``run-<id>`` tag) or at the branch or
    tag ``ref``."""
    name = ref or (f"run-{run_id}" if run_id else None)
    snapshot = table.metadata.refs[name].snapshot_id if name else None
    rows = table.scan(snapshot_id=snapshot).to_arrow().to_pylist()
    lines = sorted(repr(sorted((k, value(v)) for k, v in r.items())) for r in rows)
    digest = hashlib.md5("\n".join(lines).encode(), usedforsecurity=False)  # a fingerprint
    return len(rows), digest.hexdigest()


def run_in(product: Path, home: Path | None = None) -> RunSummary:
    """``floe run`` of ``product`` with its own platform home (beside it unless ``home``)."""
    with home_of(home or product / ".floe"):
        return run(product)


@contextmanager
def home_of(home: Path) -> Iterator[None]:
    """``FLOE_HOME`` set to ``home`` meanwhile."""
    saved = os.environ.get("FLOE_HOME")
    os.environ["FLOE_HOME"] = str(home)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("FLOE_HOME", None)
        else:
            os.environ["FLOE_HOME"] = saved


def free_port() -> int:
    """A TCP port free on the loopback interface now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def thrift_server(catalog_conf: dict[str, str], scratch: Path) -> Iterator[int]:
    """A Spark Thrift Server (Spark's own HiveThriftServer2, speaking Thrift on a loopback port)
    started inside this process's Spark — the JVM floe's session method starts, shared by the
    worker's Spark tests — with ``catalog_conf`` (an Iceberg catalog) for the sessions it opens;
    its port. The sessions' catalog lives in the SparkContext's settings (a new session reads
    them), removed again when the server stops."""
    from floe.runtime.spark.session import base_session

    spark = base_session("local[2]", {"spark.driver.memory": "2g"})
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    jvm.java.lang.System.setProperty("derby.stream.error.file", str(scratch / "derby.log"))
    context_conf = spark.sparkContext._jsc.sc().conf()  # the live settings new sessions read
    for key, value in catalog_conf.items():
        context_conf.set(key, value)
    port = free_port()
    own = spark.newSession()
    for key, value in {
        "hive.server2.thrift.port": str(port),
        "hive.server2.thrift.bind.host": "127.0.0.1",
        "hive.server2.logging.operation.enabled": "false",
        "hive.exec.scratchdir": str(scratch / "hive"),
        "hive.exec.local.scratchdir": str(scratch / "hive-local"),
    }.items():
        own.conf.set(key, value)
    server_class = jvm.org.apache.spark.sql.hive.thriftserver.HiveThriftServer2
    server = server_class.startWithContext(own._jsparkSession.sqlContext())
    try:
        _wait_listening(port, deadline=time.monotonic() + 120)
        yield port
    finally:
        server.stop()
        for key in catalog_conf:
            context_conf.remove(key)


def _wait_listening(port: int, deadline: float) -> None:
    """Poll until something accepts connections on the loopback ``port``."""
    import socket

    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            threading.Event().wait(0.1)


def run_failing_unique_test(product: Path, tables: tuple[str, ...]) -> tuple[RunSummary, Any]:
    """Run the tiny product again with order id 2 duplicated in its seed (restored after):
    stg_orders' unique test fails on the audit branch. Checks what every Spark method shares —
    the run fails naming the test, only the seed is published, int_orders and mart_revenue are
    held back, dbt's test results on the branch (unique fails, not_null passes), stg_orders'
    ``main`` keeps its snapshot and rows and the branch holds the three rows the test saw.
    The run, and stg_orders' table."""
    catalog = catalog_of(product)
    before = {n: catalog.load_table(f"tiny.{n}").current_snapshot().snapshot_id for n in tables}
    seed = product / "seeds" / "raw_orders.csv"
    original = seed.read_text()
    seed.write_text("id,amount\n1,10\n2,20\n2,25\n")
    try:
        second = run_in(product)
    finally:
        seed.write_text(original)
    assert not second.success
    assert [a.name for a in second.assets if a.status == "published"] == ["raw_orders"]
    failure = second.failure or ""
    assert "stg_orders: test_failed: test failed: unique_stg_orders_id" in failure
    assert "int_orders: skipped" in failure
    assert "mart_revenue: skipped" in failure
    tested = json.loads((product / ".floe" / "runs" / second.run_id / "dbt-test" /
                         "run_results.json").read_text())["results"]  # fmt: skip
    status = {r["unique_id"].split(".")[2]: r["status"] for r in tested}
    assert (status["unique_stg_orders_id"], status["not_null_stg_orders_id"]) == ("fail", "pass")
    catalog = catalog_of(product)
    branch = "audit_" + second.run_id.replace("-", "_")
    stg = catalog.load_table("tiny.stg_orders")
    assert stg.current_snapshot().snapshot_id == before["stg_orders"]
    assert sorted(stg.scan().to_arrow()["id"].to_pylist()) == [1, 2]
    held = stg.scan(snapshot_id=stg.metadata.refs[branch].snapshot_id).to_arrow()
    assert sorted(held["id"].to_pylist()) == [1, 2, 2]
    for name in ("int_orders", "mart_revenue"):
        table = catalog.load_table(f"tiny.{name}")
        assert table.current_snapshot().snapshot_id == before[name], name
        assert [r for r in table.metadata.refs if not r.startswith("run-")] == ["main"], name
    assert catalog.load_table("tiny.raw_orders").scan().to_arrow().num_rows == 3
    return second, stg
