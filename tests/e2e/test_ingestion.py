"""Ingestion (issue 16 point 6): the `dlt` ingestion plugin loads a local paginated HTTP JSON
API (bearer token by secret reference), a table of a local PostgreSQL 15 and a folder of
JSONL and CSV files into the product's raw Iceberg tables; a dbt model over them publishes;
a second run after new rows loads only the new ones (cursors kept in Iceberg); the Dagster
asset graph has one ingestion asset per resource upstream of the dbt assets.

One product, two runs, shared by the module (the e2e budget)."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from floe.app.run import RunSummary, run_logged
from floe.runtime.platform import catalog_for_manifest
from tests.conftest import TINY_MANIFEST
from tests.e2e.servers import postgres_server

TOKEN = "api-token-7"
PAGE = 2


@dataclass
class Api:
    """A tiny JSON API: ``/orders?since=N&page=P`` → ``{"data": [...], "next": url|null}``,
    orders with ``updated >= since`` two per page; 401 without the bearer token."""

    orders: list[dict[str, Any]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    url: str = ""


def _serve(api: Api) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            api.requests.append(self.path)
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self.send_response(401)
                self.end_headers()
                return
            query = parse_qs(urlparse(self.path).query)
            since = int(query.get("since", ["0"])[0])
            page = int(query.get("page", ["1"])[0])
            rows = [o for o in api.orders if o["updated"] >= since]
            chunk = rows[(page - 1) * PAGE : page * PAGE]
            more = page * PAGE < len(rows)
            nxt = f"{api.url}/orders?since={since}&page={page + 1}" if more else None
            body = json.dumps({"data": chunk, "next": nxt}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    api.url = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


MANIFEST = TINY_MANIFEST.replace(
    "  storage:\n    type: local\n", "  storage:\n    type: local\n  ingestion:\n    type: dlt\n"
)

SPEC = """\
apiVersion: floe.dev/v1
kind: FloeSpec
metadata:
  name: shop
  version: 0.1.0
  owner: data@example.com
platform:
  manifest: manifest.yaml
transforms:
  - name: stg_orders
    tier: bronze
  - name: customer_revenue
    tier: gold
    dependsOn: [stg_orders]
  - name: event_counts
    tier: silver
ingestion:
  - name: api
    type: rest_api
    base_url: {api}
    token: {{secret: SHOP_API_TOKEN}}
    paginator: {{type: json_link, next_url_path: next}}
    resources:
      - name: orders
        data_selector: data
        primary_key: [id]
        incremental: {{cursor: updated, param: since, initial_value: 0}}
  - name: crm
    type: sql_database
    host: 127.0.0.1
    port: {pg_port}
    database: catalog
    username: floe
    password: {{secret: SHOP_PG_PASSWORD}}
    schema: public
    resources:
      - name: customers
        primary_key: [id]
        write_disposition: merge
        incremental: {{cursor: updated_at}}
  - name: landing
    type: filesystem
    bucket_url: landing
    resources:
      - name: events
        glob: "*.jsonl"
        format: jsonl
      - name: regions
        glob: "*.csv"
        format: csv
        write_disposition: replace
        incremental_files: false
"""

SOURCES = """\
version: 2
sources:
  - name: api
    tables: [{name: orders}]
  - name: crm
    tables: [{name: customers}]
  - name: landing
    tables: [{name: events}, {name: regions}]
models:
  - name: stg_orders
    columns:
      - name: id
        data_tests: [not_null, unique]
  - name: customer_revenue
    columns:
      - name: name
        data_tests: [not_null]
  - name: event_counts
    columns:
      - name: kind
        data_tests: [not_null]
"""

MODELS = {
    "stg_orders.sql": "select id, customer_id, amount, updated from {{ source('api', 'orders') }}",
    "customer_revenue.sql": (
        "select c.name, r.region, sum(o.amount) as revenue\n"
        "from {{ ref('stg_orders') }} o\n"
        "join {{ source('crm', 'customers') }} c on c.id = o.customer_id\n"
        "join {{ source('landing', 'regions') }} r on r.code = c.region\n"
        "group by c.name, r.region"
    ),
    "event_counts.sql": (
        "select kind, count(*) as n from {{ source('landing', 'events') }} group by kind"
    ),
}


def _write_product(root: Path, api: str, pg_port: int) -> Path:
    (root / "models").mkdir(parents=True)
    (root / "landing").mkdir()
    (root / "dbt_project.yml").write_text(
        "name: shop\nprofile: shop\nconfig-version: 2\nmodels:\n  shop:\n    +materialized: table\n"
    )
    for name, sql in MODELS.items():
        (root / "models" / name).write_text(sql)
    (root / "models" / "schema.yml").write_text(SOURCES)
    (root / "floe.yaml").write_text(SPEC.format(api=api, pg_port=pg_port))
    (root / "manifest.yaml").write_text(MANIFEST)
    (root / "landing" / "a.jsonl").write_text(
        "".join(json.dumps({"id": i, "kind": k}) + "\n" for i, k in enumerate("xyx", 1))
    )
    (root / "landing" / "regions.csv").write_text("code,region\nN,north\nS,south\n")
    return root


def _sql(uri: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(uri.replace("postgresql+psycopg", "postgresql")) as con:
        for statement in statements:
            con.execute(statement)


@dataclass
class Runs:
    """The product, its two runs and what the sources served."""

    product: Path
    api: Api
    first: RunSummary
    second: RunSummary
    tables_after_first: dict[str, list[dict[str, Any]]]
    tables_after_second: dict[str, list[dict[str, Any]]]
    properties: dict[str, dict[str, str]]
    requests_first: list[str]
    requests_second: list[str]
    graph: dict[str, tuple[str, list[str]]]


def _asset_graph(product: Path) -> dict[str, tuple[str, list[str]]]:
    """The product's code location (as Dagster loads it from the compiled definitions):
    each asset → (the step computing it, its upstream assets)."""
    from floe.app.location import load_location

    defs = load_location(compiled_dir=product / "target" / "floe", product_dir=product,
                         manifest=product / "manifest.yaml")  # fmt: skip
    graph = defs.resolve_asset_graph()
    out = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if not node.is_materializable:
            continue
        step = node.assets_def.node_def.name
        out[key.to_user_string()] = (step, sorted(k.to_user_string() for k in node.parent_keys))
    return out


def _tables(product: Path, names: list[str]) -> dict[str, list[dict[str, Any]]]:
    catalog = catalog_for_manifest(product / "manifest.yaml")
    out = {}
    for name in names:
        rows = catalog.load_table(f"shop.{name}").scan().to_arrow().to_pylist()
        out[name] = sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))
    return out


RAW = ["orders", "customers", "events", "regions"]
MODELLED = ["stg_orders", "customer_revenue", "event_counts"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    """Run the product, add rows at every source, run it again."""
    api = Api(orders=[
        {"id": i, "customer_id": 1 + i % 2, "amount": 10 * i, "updated": 100 + i}
        for i in range(1, 6)
    ])  # fmt: skip
    server = _serve(api)
    saved = {k: os.environ.get(k) for k in ("SHOP_API_TOKEN", "SHOP_PG_PASSWORD")}
    try:
        with postgres_server() as uri:
            _sql(uri,
                 "create table customers (id int primary key, name text, region text, "
                 "updated_at timestamptz)",
                 "insert into customers values (1, 'ada', 'N', '2026-01-01T00:00:00Z'), "
                 "(2, 'bob', 'S', '2026-01-02T00:00:00Z')")  # fmt: skip
            os.environ["SHOP_API_TOKEN"] = TOKEN
            os.environ["SHOP_PG_PASSWORD"] = "floe-test-pw"
            product = _write_product(
                tmp_path_factory.mktemp("ingest") / "shop", api.url, urlparse(uri).port or 0
            )
            first = run_logged(product)[0]
            after_first = _tables(product, RAW + MODELLED) if first.success else {}
            requests_first, api.requests = list(api.requests), []
            # new rows everywhere: 2 orders, 1 new customer and 1 changed, a new file
            api.orders += [
                {"id": 6, "customer_id": 3, "amount": 60, "updated": 106},
                {"id": 7, "customer_id": 1, "amount": 70, "updated": 107},
            ]
            _sql(uri,
                 "insert into customers values (3, 'cyd', 'N', '2026-01-03T00:00:00Z')",
                 "update customers set name = 'bobby', updated_at = '2026-01-04T00:00:00Z' "
                 "where id = 2")  # fmt: skip
            (product / "landing" / "b.jsonl").write_text(json.dumps({"id": 4, "kind": "z"}) + "\n")
            # dbt's selector: "+model" selects the ingestion resources upstream of it too
            second = run_logged(product, select=["+customer_revenue", "+event_counts"])[0]
            after_second = _tables(product, RAW + MODELLED) if second.success else {}
            catalog = catalog_for_manifest(product / "manifest.yaml")
            props = {n: dict(catalog.load_table(f"shop.{n}").properties) for n in RAW}
            yield Runs(product, api, first, second, after_first, after_second, props,
                       requests_first, list(api.requests), _asset_graph(product))  # fmt: skip
    finally:
        server.shutdown()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _assets(summary: RunSummary) -> dict[str, tuple[str, int | None]]:
    return {a.name: (a.tier, a.rows) for a in summary.assets}


@pytest.mark.requirement("FLOE-322")
def test_first_run_loads_every_source_and_models_publish(runs: Runs) -> None:
    """The first run publishes the four raw tables with exactly the rows served (API pages
    followed, bearer token resolved from its secret reference, dlt's columns dropped), and
    the dbt models over them as dbt sources."""
    assert runs.first.success, runs.first.failure
    assert _assets(runs.first) == {
        "orders": ("raw", 5), "customers": ("raw", 2), "events": ("raw", 3),
        "regions": ("raw", 2), "stg_orders": ("bronze", 5), "customer_revenue": ("gold", 2),
        "event_counts": ("silver", 2),
    }  # fmt: skip
    tables = runs.tables_after_first
    assert tables["orders"] == sorted(
        (
            {k: o[k] for k in ("amount", "customer_id", "id", "updated")}
            for o in runs.api.orders[:5]
        ),
        key=lambda r: json.dumps(r, sort_keys=True),
    )
    assert [r["name"] for r in tables["customers"]] == ["ada", "bob"]
    assert tables["regions"] == [{"code": "N", "region": "north"}, {"code": "S", "region": "south"}]
    # orders 1..5: customer 2 has 1, 3, 5 (10+30+50), customer 1 has 2, 4 (20+40)
    assert tables["customer_revenue"] == [
        {"name": "ada", "region": "north", "revenue": 60},
        {"name": "bob", "region": "south", "revenue": 90},
    ]
    assert tables["event_counts"] == [{"kind": "x", "n": 2}, {"kind": "y", "n": 1}]
    # 5 orders from since=0, two per page: three pages
    assert runs.requests_first == [
        "/orders?since=0", "/orders?since=0&page=2", "/orders?since=0&page=3",
    ]  # fmt: skip


@pytest.mark.requirement("FLOE-323")
def test_second_run_loads_only_new_rows_from_the_cursors_in_iceberg(runs: Runs) -> None:
    """After new rows at every source, the second run (``--select +customer_revenue
    +event_counts``: every model and, upstream of them, every resource) asks the API from the
    published cursor, appends only the 2 new orders and the new file's event, merges the new and the
    changed customer, replaces the regions; the cursors are the tables' Iceberg properties;
    the models see every row."""
    assert runs.second.success, runs.second.failure
    written = {a.name: a.rows for a in runs.second.assets}
    assert sorted(written) == sorted(RAW + MODELLED)
    assert written["orders"] == 7
    assert written["customers"] == 3
    assert written["events"] == 4
    # from the last published cursor (inclusive at the API: dlt drops order 5 again)
    assert runs.requests_second == ["/orders?since=105", "/orders?since=105&page=2"]
    tables = runs.tables_after_second
    assert sorted(r["id"] for r in tables["orders"]) == [1, 2, 3, 4, 5, 6, 7]
    assert {r["id"]: r["name"] for r in tables["customers"]} == {1: "ada", 2: "bobby", 3: "cyd"}
    assert tables["event_counts"] == [
        {"kind": "x", "n": 2}, {"kind": "y", "n": 1}, {"kind": "z", "n": 1},
    ]  # fmt: skip
    assert tables["customer_revenue"] == [
        {"name": "ada", "region": "north", "revenue": 130},
        {"name": "bobby", "region": "south", "revenue": 90},
        {"name": "cyd", "region": "north", "revenue": 60},
    ]
    assert json.loads(runs.properties["orders"]["floe.ingest.cursors"]) == {"updated": 107}
    customers = json.loads(runs.properties["customers"]["floe.ingest.cursors"])
    assert customers["updated_at"]["datetime"].startswith("2026-01-04T00:00:00")
    assert "modification_date" in json.loads(runs.properties["events"]["floe.ingest.cursors"])
    catalog = catalog_for_manifest(runs.product / "manifest.yaml")
    orders = catalog.load_table("shop.orders")
    snapshots = orders.snapshots()
    assert [s.summary.operation.value for s in snapshots] == ["append", "append"]
    assert [s.summary.additional_properties["floe.run_id"] for s in snapshots] == [
        runs.first.run_id, runs.second.run_id,
    ]  # fmt: skip
    assert snapshots[-1].summary.additional_properties["floe.rows_added"] == "2"


@pytest.mark.requirement("FLOE-322")
def test_raw_snapshots_carry_the_run_and_the_trace_of_the_ingestion_step(runs: Runs) -> None:
    """Each raw table's snapshot of a run carries the run id, its source and the trace id of
    that run's `floe.ingest` span, whose children are one span per resource (the spans the
    embedded file exporter wrote), and is tagged with the run."""
    from floe.observe.spanfile import read_spans

    catalog = catalog_for_manifest(runs.product / "manifest.yaml")
    spans = read_spans(runs.product / ".floe" / "telemetry" / "spans.jsonl")
    roots = {s["attributes"]["floe.run_id"]: s for s in spans if s["name"] == "floe.ingest"}
    assert set(roots) == {runs.first.run_id, runs.second.run_id}
    for run_id, root in roots.items():
        children = sorted(
            s["attributes"]["iceberg.table"] for s in spans
            if s["parent_span_id"] == root["span_id"] and s["trace_id"] == root["trace_id"]
        )  # fmt: skip
        assert children == ["shop.customers", "shop.events", "shop.orders", "shop.regions"]
        for name in RAW:
            table = catalog.load_table(f"shop.{name}")
            snap = table.snapshot_by_name(f"run-{run_id}")
            assert snap is not None, name
            props = snap.summary.additional_properties
            assert props["floe.run_id"] == run_id
            assert props["floe.trace_id"] == root["trace_id"]
    orders = catalog.load_table("shop.orders").current_snapshot()
    assert orders is not None
    assert orders.summary.additional_properties["floe.ingestion"] == "rest_api:api.orders"


@pytest.mark.requirement("FLOE-324")
def test_an_asset_per_resource_upstream_of_the_dbt_assets(runs: Runs) -> None:
    """The code location has one asset per ingestion resource, all computed by the
    ingestion step, and each dbt model selecting from a resource's dbt source has that
    resource's asset upstream of it."""
    graph = runs.graph
    assert {k: v for k, v in graph.items() if v[0] == "shop_ingestion"} == {
        "shop/orders": ("shop_ingestion", []), "shop/customers": ("shop_ingestion", []),
        "shop/events": ("shop_ingestion", []), "shop/regions": ("shop_ingestion", []),
    }  # fmt: skip
    assert graph["shop/stg_orders"] == ("shop_dbt", ["shop/orders"])
    assert graph["shop/customer_revenue"] == (
        "shop_dbt", ["shop/customers", "shop/regions", "shop/stg_orders"],
    )  # fmt: skip
    assert graph["shop/event_counts"] == ("shop_dbt", ["shop/events"])
