"""Time travel (run tags, `--as-of`, a source read as of a snapshot) and rollback (issue 12)."""

from __future__ import annotations

import csv
import getpass
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from floe.app.run import RunSummary, run
from tests.conftest import TINY_SPEC, floe_cli, write_tiny
from tests.e2e.conftest import Platform

SEED_1 = "id,amount\n1,10\n2,20\n"
SEED_2 = "id,amount\n1,10\n2,25\n3,30\n"
SEED_3 = "id,amount\n1,10\n2,20\n4,40\n"
SEED_4 = "id,amount\n1,10\n2,20\n5,50\n"

#: Incremental: appends the ids it has not seen, so its rows depend on the published state.
ORDERS_LOG = """\
{{ config(materialized='incremental') }}
select id, amount from {{ ref('stg_orders') }}
{% if is_incremental() %} where id not in (select id from {{ this }}) {% endif %}
"""
#: Incremental that never changes after its first run (mode "unchanged" later).
CONSTANT = """\
{{ config(materialized='incremental') }}
select 1 as k
{% if is_incremental() %} where 1 = 0 {% endif %}
"""
TABLES = ["constant", "int_orders", "mart_revenue", "orders_log", "raw_orders", "stg_orders"]


def _rows(seed: str) -> list[dict[str, int]]:
    """The seed CSV as rows of ints, sorted by id."""
    parsed = [{k: int(v) for k, v in r.items()} for r in csv.DictReader(io.StringIO(seed))]
    return sorted(parsed, key=lambda r: r["id"])


def _product(root: Path) -> Path:
    """The tiny product plus two incremental models (orders_log, constant)."""
    extra = "  - name: orders_log\n    tier: silver\n    dependsOn: [stg_orders]\n"
    product = write_tiny(root, spec=TINY_SPEC + extra + "  - name: constant\n    tier: bronze\n")
    (product / "models" / "orders_log.sql").write_text(ORDERS_LOG)
    (product / "models" / "constant.sql").write_text(CONSTANT)
    return product


def _run(product: Path, seed: str) -> RunSummary:
    (product / "seeds" / "raw_orders.csv").write_text(seed)
    summary = run(product)
    assert summary.success, summary.failure
    return summary


def _table_rows(cli_out: str) -> list[dict[str, int]]:
    """The rows of `floe tables head` (a rich table of id, amount), sorted by id."""
    cells = [
        [c.strip() for c in line.strip().strip("│┃").split("│")]
        for line in cli_out.splitlines()
        if line.strip().startswith("│")
    ]
    return sorted(({"id": int(a), "amount": int(b)} for a, b in cells), key=lambda r: r["id"])


@dataclass
class History:
    """A product run twice (SEED_1, then SEED_2) on its own platform."""

    product: Path
    first: RunSummary
    second: RunSummary

    def table(self, name: str):  # type: ignore[no-untyped-def]
        """A table of the product, loaded through the catalog."""
        return Platform(self.product, {}).catalog().load_table(f"tiny.{name}")


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    """Two runs of the product with changed seed data (read only: tests must not change it)."""
    product = _product(tmp_path_factory.mktemp("timetravel") / "tiny")
    return History(product, _run(product, SEED_1), _run(product, SEED_2))


@pytest.mark.requirement("FR-092")
def test_every_table_of_a_run_is_tagged_with_the_run(history: History) -> None:
    """Each run tags the snapshot it published in every table `run-<run id>`; the unchanged
    incremental table carries both runs' tags on its single snapshot."""
    for name in TABLES:
        table = history.table(name)
        for summary in (history.first, history.second):
            snap = table.snapshot_by_id(table.metadata.refs[f"run-{summary.run_id}"].snapshot_id)
            assert snap is not None
            assert snap.summary is not None
            published_by = history.first if name == "constant" else summary
            assert snap.summary["floe.run_id"] == published_by.run_id, name
    constant = history.table("constant")
    assert len(constant.snapshots()) == 1
    assert (
        constant.metadata.refs[f"run-{history.first.run_id}"].snapshot_id
        == constant.metadata.refs[f"run-{history.second.run_id}"].snapshot_id
        == constant.current_snapshot().snapshot_id
    )


@pytest.mark.requirement("FR-092")
def test_head_as_of_run_tag_timestamp_and_snapshot_id(history: History) -> None:
    """`floe tables head --as-of run-<first run>` shows the first run's seed rows while the
    table holds the second's; the snapshot id and the commit timestamp of that snapshot give
    the same rows; `show --as-of` marks the snapshot."""
    manifest = history.product / "manifest.yaml"
    tag = f"run-{history.first.run_id}"
    by_tag = floe_cli("tables", "head", "tiny.raw_orders", "-m", manifest, "--as-of", tag)
    assert by_tag.code == 0, by_tag.out + by_tag.err
    assert _table_rows(by_tag.out) == _rows(SEED_1)
    now = floe_cli("tables", "head", "tiny.raw_orders", "-m", manifest)
    assert _table_rows(now.out) == _rows(SEED_2)

    table = history.table("raw_orders")
    snapshot_id = table.metadata.refs[tag].snapshot_id
    committed = table.snapshot_by_id(snapshot_id).timestamp_ms
    moment = datetime.fromtimestamp(committed / 1000, UTC).isoformat(timespec="milliseconds")
    for as_of in (str(snapshot_id), moment):
        other = floe_cli("tables", "head", "tiny.raw_orders", "-m", manifest, "--as-of", as_of)
        assert other.code == 0, other.err
        assert _table_rows(other.out) == _rows(SEED_1), as_of
    shown = floe_cli("tables", "show", "tiny.raw_orders", "-m", manifest, "--as-of", tag)
    assert shown.code == 0, shown.err
    assert f"{snapshot_id} *" in shown.out
    assert tag in shown.out


@pytest.mark.requirement("FR-092")
def test_unknown_tag_and_timestamp_before_history_exit_2(history: History) -> None:
    """An unknown tag is E570, a timestamp before the first snapshot E571 and an unknown
    table E573 (naming the namespace's tables), exit 2, each with a hint."""
    manifest = history.product / "manifest.yaml"
    bad = floe_cli("tables", "head", "tiny.raw_orders", "-m", manifest, "--as-of", "run-nope")
    assert bad.code == 2, bad.out + bad.err
    assert "error[E570]: --as-of: tiny.raw_orders has no snapshot, tag or branch 'run-nope'" in (
        bad.err
    )
    assert "hint:" in bad.err
    early = floe_cli("tables", "head", "tiny.raw_orders", "-m", manifest, "--as-of", "2001-01-01")
    assert early.code == 2
    assert "error[E571]: --as-of: tiny.raw_orders has no snapshot at or before 2001-01-01" in (
        early.err
    )
    nope = floe_cli("tables", "head", "tiny.nope", "-m", manifest)
    assert nope.code == 2
    listed = ", ".join(f"tiny.{t}" for t in TABLES)
    assert f"error[E573]: table: no table tiny.nope (in tiny: {listed})" in nope.err


@pytest.mark.requirement("FR-092")
def test_source_with_floe_as_of_reads_the_older_snapshot(history: History) -> None:
    """A model of another product reading `source('hist', 'raw_orders')` with
    `meta: {floe_as_of: run-<first run>}` gets the first run's rows, not the current ones; a
    tag that does not exist fails the run with E570 at the sources file."""
    reader = history.product.parent / "reader"
    (reader / "models").mkdir(parents=True)
    (reader / "dbt_project.yml").write_text(
        "name: reader\nprofile: reader\nconfig-version: 2\nmodels:\n  reader:\n"
        "    +materialized: table\n"
    )
    (reader / "models" / "orders_then.sql").write_text(
        "select id, amount from {{ source('hist', 'raw_orders') }}\n"
    )
    (reader / "models" / "sources.yml").write_text(
        "version: 2\nsources:\n  - name: hist\n    schema: tiny\n    tables:\n"
        f"      - name: raw_orders\n        meta: {{floe_as_of: run-{history.first.run_id}}}\n"
    )
    spec = TINY_SPEC.replace("name: tiny", "name: reader").replace(
        "manifest: manifest.yaml", "manifest: ../tiny/manifest.yaml"
    )
    spec = (
        spec[: spec.index("transforms:")] + "transforms:\n  - name: orders_then\n    tier: bronze\n"
    )
    (reader / "floe.yaml").write_text(spec)
    summary = run(reader)
    assert summary.success, summary.failure
    rows = Platform(history.product, {}).catalog().load_table("reader.orders_then")
    got = sorted(rows.scan().to_arrow().to_pylist(), key=lambda r: r["id"])
    assert got == _rows(SEED_1)

    sources = (reader / "models" / "sources.yml").read_text()
    (reader / "models" / "sources.yml").write_text(sources.replace(history.first.run_id, "nope"))
    failed = run(reader)
    assert not failed.success
    assert "models/sources.yml: error[E570]: meta.floe_as_of: tiny.raw_orders has no" in (
        failed.failure
    )


def _record(table, key_count: int) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """The newest rollback record of a table (and that it has ``key_count`` of them)."""
    keys = sorted(k for k in table.properties if k.startswith("floe.rollback."))
    assert len(keys) == key_count
    return dict(json.loads(table.properties[keys[-1]]))


@pytest.mark.requirement("FLOE-007")
def test_rollback_table_then_product_and_the_next_runs_build_on_it(tmp_path: Path) -> None:
    """Rolling the incremental table back to run 1's snapshot id makes that snapshot current
    with a record (who, why); run 3 appends to run 1's rows, not run 2's. Rolling the whole
    product back to `run-<run 1>` makes every table's run-1 snapshot current; run 4 builds on
    that state again."""
    product = _product(tmp_path / "tiny")
    first = _run(product, SEED_1)
    second = _run(product, SEED_2)
    catalog = Platform(product, {}).catalog()
    tag = f"run-{first.run_id}"
    log = catalog.load_table("tiny.orders_log")
    before, target = log.current_snapshot().snapshot_id, log.metadata.refs[tag].snapshot_id

    out = floe_cli("tables", "rollback", "tiny.orders_log", "--to", str(target),
                   "--reason", "bad load", "-m", product / "manifest.yaml")  # fmt: skip
    assert out.code == 0, out.out + out.err
    log = catalog.load_table("tiny.orders_log")
    assert log.current_snapshot().snapshot_id == target
    record = _record(log, 1)
    assert (record["from"], record["to"]) == (before, target)
    assert (record["who"], record["why"], record["as"]) == (
        getpass.getuser(),
        "bad load",
        str(target),
    )
    shown = floe_cli("tables", "show", "tiny.orders_log", "-m", product / "manifest.yaml")
    assert f"by {getpass.getuser()}: {before} → {target}" in shown.out

    _run(product, SEED_3)  # orders_log: run 1's ids plus the new id 4 (id 3 was rolled away)
    log_rows = catalog.load_table("tiny.orders_log").scan().to_arrow().to_pylist()
    expected = _rows(SEED_1) + [r for r in _rows(SEED_3) if r["id"] not in {1, 2}]
    assert sorted(log_rows, key=lambda r: r["id"]) == expected

    out = floe_cli("tables", "rollback", product, "--to", tag, "--reason", "replay from run 1")
    assert out.code == 0, out.out + out.err
    assert out.out.count("rolled back tiny.") == len(TABLES)
    for name in TABLES:
        table = catalog.load_table(f"tiny.{name}")
        assert table.current_snapshot().snapshot_id == table.metadata.refs[tag].snapshot_id, name
        assert _record(table, 2 if name == "orders_log" else 1)["why"] == "replay from run 1"
    raw = catalog.load_table("tiny.raw_orders").scan().to_arrow().to_pylist()
    assert sorted(raw, key=lambda r: r["id"]) == _rows(SEED_1)
    assert second.run_id != first.run_id

    _run(product, SEED_4)
    log_rows = catalog.load_table("tiny.orders_log").scan().to_arrow().to_pylist()
    expected = _rows(SEED_1) + [r for r in _rows(SEED_4) if r["id"] not in {1, 2}]
    assert sorted(log_rows, key=lambda r: r["id"]) == expected


@pytest.mark.requirement("FLOE-007")
def test_product_rollback_needs_a_run_tag_or_timestamp(history: History) -> None:
    """A product cannot be rolled back to one table's snapshot id (E572, exit 2), and an
    unknown run tag changes nothing."""
    raw = history.table("raw_orders")
    current = raw.current_snapshot().snapshot_id
    out = floe_cli("tables", "rollback", history.product, "--to", str(current), "--reason", "x")
    assert out.code == 2
    assert "error[E572]: --to: a product is rolled back to a run tag or a timestamp" in out.err
    missing = floe_cli("tables", "rollback", history.product, "--to", "run-nope", "--reason", "x")
    assert missing.code == 2
    assert "error[E572]: --to: tables without the tag run-nope: tiny.constant" in missing.err
    assert history.table("raw_orders").current_snapshot().snapshot_id == current
