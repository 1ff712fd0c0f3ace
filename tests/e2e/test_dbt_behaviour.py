"""What dbt decides, floe honours: relation collisions, failures that are never retried, a
source read from another product's Iceberg table, dbt's selector syntax."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from floe.app.run import run
from floe.runtime.home import PlatformHome
from floe.runtime.platform import catalog_for_manifest
from tests.conftest import TINY_MODELS, CliResult, floe_cli, write_tiny

SEED_ROWS = [(1, 10), (2, 20)]  # write_tiny's raw_orders.csv


TINY_TABLES = ("raw_orders", "stg_orders", "int_orders", "mart_revenue")


def _tiny(root: Path) -> Path:
    return write_tiny(root / "tiny")


@dataclass
class Ran:
    """The tiny product after one `floe run` (piped), shared by the module's tests that only
    read it or build on it without changing its sources."""

    product: Path
    cli: CliResult
    run_id: str  # the run that published every table of the product


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Ran:
    """One `floe run` of a fresh tiny product (its output and the run id its tables carry)."""
    product = _tiny(tmp_path_factory.mktemp("ran"))
    result = floe_cli("run", product)
    assert result.code == 0, result.out + result.err
    catalog = catalog_for_manifest(product / "manifest.yaml")
    run_ids = {
        catalog.load_table(f"tiny.{t}").current_snapshot().summary["floe.run_id"]
        for t in TINY_TABLES
    }
    assert len(run_ids) == 1, run_ids
    return Ran(product, result, run_ids.pop())


@pytest.mark.requirement("FR-093")
def test_two_nodes_on_one_iceberg_table_are_an_input_error(tmp_path: Path) -> None:
    """A model whose alias is another node's table name would overwrite it in the product's
    namespace: ``floe validate`` and ``floe run`` stop before dbt runs (exit 2), naming both
    nodes and files."""
    root = _tiny(tmp_path)
    (root / "models" / "int_orders.sql").write_text(
        "{{ config(alias='stg_orders', schema='other') }}\n" + TINY_MODELS["int_orders.sql"]
    )
    checked = floe_cli("validate", root)
    assert checked.code == 2, checked.err
    assert "error[E230]" in checked.err
    result = floe_cli("run", root)
    assert result.code == 2, result.err
    assert "error[E230]" in result.err
    assert "'stg_orders' (models/stg_orders.sql)" in result.err
    assert "'int_orders' (models/int_orders.sql)" in result.err
    assert "Iceberg table 'stg_orders'" in result.err
    assert not (root / ".floe" / "warehouse" / "tiny").exists()


@pytest.mark.requirement("FR-024")
def test_a_sql_error_is_not_retried_and_the_summary_counts_what_was_published(
    tmp_path: Path,
) -> None:
    """The gold model fails in DuckDB: the run fails once (the retry policy of floe.yaml is
    not used for a deterministic failure), everything upstream whose tests passed is published
    and the summary lists exactly those tables."""
    root = _tiny(tmp_path)
    (root / "models" / "mart_revenue.sql").write_text(
        "select sum(amount) / 'x' as revenue from {{ ref('int_orders') }}\n"
    )
    summary = run(root)
    assert not summary.success
    assert "mart_revenue" in summary.failure
    assert sorted(a.name for a in summary.assets) == ["int_orders", "raw_orders", "stg_orders"]
    catalog = catalog_for_manifest(root / "manifest.yaml")
    assert sorted(t for _, t in catalog.list_tables("tiny")) == [
        "int_orders", "raw_orders", "stg_orders",
    ]  # fmt: skip
    home = PlatformHome.for_manifest(root / "manifest.yaml")
    with dg.DagsterInstance.from_config(str(home.dagster)) as instance:
        records = instance.get_records_for_run(summary.run_id).records
        kinds = [r.event_log_entry.dagster_event_type for r in records
                 if r.event_log_entry.dagster_event_type is not None]  # fmt: skip
    assert dg.DagsterEventType.STEP_UP_FOR_RETRY not in kinds
    assert kinds.count(dg.DagsterEventType.STEP_FAILURE) == 1


CONSUMER_SPEC = """\
apiVersion: floe.dev/v1
kind: FloeSpec
metadata: {name: consumer, version: 0.1.0, owner: data@example.com}
platform: {manifest: ../tiny/manifest.yaml}
sources:
  - {name: orders_product, product: tiny}
transforms:
  - {name: big_orders, tier: gold}
"""


def _consumer(tmp_path: Path, sql: str) -> Path:
    """Product ``consumer``: one model ``big_orders`` (``sql``) over the dbt source
    ``orders_product``, which floe.yaml maps to product ``tiny``."""
    consumer = tmp_path / "consumer"
    (consumer / "models").mkdir(parents=True)
    (consumer / "dbt_project.yml").write_text(
        "name: consumer\nprofile: consumer\nconfig-version: 2\n"
        "models:\n  consumer:\n    +materialized: table\n"
    )
    (consumer / "models" / "sources.yml").write_text(
        "version: 2\nsources:\n  - name: orders_product\n    tables: [{name: int_orders}]\n"
    )
    (consumer / "models" / "big_orders.sql").write_text(sql)
    (consumer / "floe.yaml").write_text(CONSUMER_SPEC)
    return consumer


@pytest.mark.requirement("FR-093")
def test_a_source_reads_another_products_table_and_lineage_names_it(ran: Ran) -> None:
    """Product ``consumer`` declares that its dbt source ``orders_product`` is published by
    ``tiny``: its model reads tiny's Iceberg table, its asset depends on tiny's asset, and the
    OpenLineage input is tiny's dataset."""
    tiny = ran.product
    consumer = _consumer(
        tiny.parent,
        "select id, amount from {{ source('orders_product', 'int_orders') }} where amount > 20\n",
    )
    summary = run(consumer)
    assert summary.success, summary.failure
    catalog = catalog_for_manifest(tiny / "manifest.yaml")
    rows = catalog.load_table("consumer.big_orders").scan().to_arrow().to_pylist()
    expected = [{"id": i, "amount": a * 2} for i, a in SEED_ROWS if a * 2 > 20]
    assert rows == expected

    from floe.orchestrate.definitions import build_definitions

    home = PlatformHome.for_manifest(tiny / "manifest.yaml")
    defs = build_definitions(consumer, consumer / "target" / "floe", home)
    graph = defs.resolve_asset_graph()
    parents = graph.get(dg.AssetKey(["consumer", "big_orders"])).parent_keys
    assert parents == {dg.AssetKey(["tiny", "int_orders"])}

    events = [json.loads(line) for line in
              (home.root / "lineage" / "events.jsonl").read_text().splitlines()]  # fmt: skip
    starts = [e for e in events if e["job"]["name"] == "consumer.big_orders"
              and e["eventType"] == "COMPLETE"]  # fmt: skip
    assert starts, "no COMPLETE event for the consumer model"
    assert [i["name"] for i in starts[-1]["inputs"]] == ["tiny.int_orders"]


@pytest.mark.requirement("FR-020")
def test_select_and_exclude_take_dbts_selector_syntax(ran: Ran) -> None:
    """``--select +int_orders --exclude raw_orders``: dbt's graph operators and exclusion pick
    the nodes; only those are built and published, reading the rest from Iceberg (which keeps
    the first run's snapshots of the others)."""
    root = ran.product
    again = run(root, select=["+int_orders"], exclude=["raw_orders"])
    assert again.success, again.failure
    assert sorted(a.name for a in again.assets) == ["int_orders", "stg_orders"]
    catalog = catalog_for_manifest(root / "manifest.yaml")
    ids = {
        t: catalog.load_table(f"tiny.{t}").current_snapshot().summary["floe.run_id"]
        for t in TINY_TABLES
    }
    assert ids == {"raw_orders": ran.run_id, "mart_revenue": ran.run_id,
                   "stg_orders": again.run_id, "int_orders": again.run_id}  # fmt: skip


@pytest.mark.requirement("FR-020")
def test_floe_run_prints_dbts_node_lines_then_what_it_published(ran: Ran) -> None:
    """Piped, ``floe run`` prints dbt build's own line per node start and end (``n of N``,
    the node, its status) and one line per published table, before the result table."""
    result = ran.cli
    lines = result.out.splitlines()
    total = 1 + len(TINY_MODELS) + 5  # one seed, the models, five data tests
    starts = [line for line in lines if f" of {total} START " in line]
    ends = [line for line in lines if f" of {total} " in line and " START " not in line]
    assert len(starts) == len(ends) == total
    assert any("OK loaded seed file main.raw_orders" in line for line in ends)
    assert any("OK created sql table model main.mart_revenue" in line for line in ends)
    assert sum("PASS " in line for line in ends) == 5
    published = [line.split(":")[0] for line in lines if line.startswith("published ")]
    assert sorted(published) == sorted(f"published tiny.{n}" for n in TINY_TABLES)
    assert lines.index(ends[-1]) < min(i for i, x in enumerate(lines) if x.startswith("published"))


@pytest.mark.requirement("FR-025")
def test_on_schema_change_fail_fails_the_model_as_dbt_does(tmp_path: Path) -> None:
    """An incremental model with ``on_schema_change: fail`` whose SQL gains a column: dbt
    refuses the incremental run against the published table, so floe fails the model, keeps
    its Iceberg table as it was and does not retry."""
    root = _tiny(tmp_path)
    inc = "{{ config(materialized='incremental', unique_key='id', on_schema_change='fail') }}\n"
    (root / "models" / "int_orders.sql").write_text(inc + TINY_MODELS["int_orders.sql"])
    first = run(root)
    assert first.success, first.failure
    (root / "models" / "int_orders.sql").write_text(
        inc + "select id, amount * 2 as amount, 'x' as note from {{ ref('stg_orders') }}\n"
    )
    second = run(root)
    assert not second.success
    assert "int_orders" in second.failure
    assert "schema" in second.failure.lower()
    catalog = catalog_for_manifest(root / "manifest.yaml")
    table = catalog.load_table("tiny.int_orders")
    assert [f.name for f in table.schema().fields] == ["id", "amount"]
    assert table.current_snapshot().summary["floe.run_id"] == first.run_id
    assert "int_orders" not in {a.name for a in second.assets}


@pytest.mark.requirement("FR-093")
def test_a_model_in_another_database_is_refused_before_anything_runs(tmp_path: Path) -> None:
    """``config(database=…)`` would put a table outside the product's one scratch database and
    namespace: ``floe validate`` and ``floe run`` say so (E231, the model's file), exit 2, and
    nothing is published."""
    root = _tiny(tmp_path)
    (root / "models" / "int_orders.sql").write_text(
        "{{ config(database='archive') }}\n" + TINY_MODELS["int_orders.sql"]
    )
    for command in ("validate", "run"):
        result = floe_cli(command, root)
        assert result.code == 2, result.err
        assert "models/int_orders.sql: error[E231]" in result.err
        assert "database 'archive'" in result.err
    assert not (root / ".floe" / "warehouse" / "tiny").exists()


@pytest.mark.requirement("FR-093")
def test_a_source_without_its_iceberg_table_stops_the_run_before_dbt(tmp_path: Path) -> None:
    """The consumer's source maps to product ``tiny``, which has not run yet: the run stops
    before dbt with E545 naming the source and the Iceberg table it needs; nothing is
    published and the failure is not retried."""
    tiny = _tiny(tmp_path)
    consumer = _consumer(tmp_path, "select id from {{ source('orders_product', 'int_orders') }}\n")
    summary = run(consumer)
    assert not summary.success
    assert "error[E545]" in summary.failure
    assert "source('orders_product', 'int_orders') → tiny.int_orders" in summary.failure
    assert summary.assets == []
    catalog = catalog_for_manifest(tiny / "manifest.yaml")
    assert ("consumer",) not in catalog.list_namespaces()
