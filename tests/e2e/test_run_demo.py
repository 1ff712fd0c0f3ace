"""floe run publishes the demo products to Iceberg with the right values (FR-020..025)."""

from __future__ import annotations

import csv
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from tests.e2e import expected
from tests.e2e.conftest import Platform

CENT = Decimal("0.01")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)]


def _latest(rows: list[dict[str, str]], *key: str) -> list[dict[str, str]]:
    """Keep the most recently loaded row per key (the staging dedupe rule)."""
    best: dict[tuple[str, ...], dict[str, str]] = {}
    for row in rows:
        k = tuple(row[c].upper() for c in key)
        if k not in best or row["_loaded_at"] >= best[k]["_loaded_at"]:
            best[k] = row
    return list(best.values())


def _gold(platform: Platform, identifier: str, key: str) -> dict[str, dict[str, object]]:
    table = platform.catalog().load_table(identifier).scan().to_arrow()
    return {str(r[key]): r for r in table.to_pylist()}


@pytest.mark.requirement("TQR-022")
@pytest.mark.requirement("FR-022")
@pytest.mark.requirement("FR-080")
@pytest.mark.requirement("TQR-002")
@pytest.mark.requirement("TQR-014")
@pytest.mark.requirement("GAP-007")
def test_customer_360_gold_equals_independent_computation(demo_platform: Platform) -> None:
    """Revenue, order and ticket counts per customer, recomputed from the seed CSVs."""
    seeds = demo_platform.root / "customer-360" / "seeds"
    customers = {r["customer_id"].upper() for r in _latest(_rows(seeds / "raw_customers.csv"),
                                                            "customer_id")}  # fmt: skip
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    orders: dict[str, int] = defaultdict(int)
    for t in _latest(_rows(seeds / "raw_transactions.csv"), "transaction_id"):
        if not t["amount"] or Decimal(t["amount"]) < 0 or t["status"].lower() != "completed":
            continue
        revenue[t["customer_id"].upper()] += Decimal(t["amount"]).quantize(CENT)
        orders[t["customer_id"].upper()] += 1
    tickets: dict[str, int] = defaultdict(int)
    for t in _latest(_rows(seeds / "raw_support_tickets.csv"), "ticket_id"):
        tickets[t["customer_id"].upper()] += 1
    gold = _gold(demo_platform, "customer_360.mart_customer_360", "customer_id")
    assert set(gold) == customers
    assert len(gold) >= 100
    for cid, row in gold.items():
        assert Decimal(str(row["total_revenue"])) == revenue[cid], cid
        assert row["order_count"] == orders[cid], cid
        assert row["ticket_count"] == tickets[cid], cid
    assert sum(revenue.values()) > 0


@pytest.mark.requirement("FR-022")
@pytest.mark.requirement("FR-081")
def test_iot_gold_equals_independent_computation(demo_platform: Platform) -> None:
    """Readings and threshold anomalies per equipment, recomputed from the seed CSVs."""
    seeds = demo_platform.root / "iot-telemetry" / "seeds"
    sensors = {s["sensor_id"].upper(): s for s in _latest(_rows(seeds / "raw_sensors.csv"),
                                                           "sensor_id")}  # fmt: skip
    readings: dict[str, int] = defaultdict(int)
    anomalies: dict[str, int] = defaultdict(int)
    for r in _latest(_rows(seeds / "raw_readings.csv"), "reading_id"):
        if not r["value"]:
            continue
        sensor = sensors[r["sensor_id"].upper()]
        eq = sensor["equipment_id"].upper()
        value = Decimal(r["value"]).quantize(CENT, ROUND_HALF_UP)
        readings[eq] += 1
        low, high = Decimal(sensor["min_threshold"]), Decimal(sensor["max_threshold"])
        anomalies[eq] += int(value < low or value > high)
    gold = _gold(demo_platform, "iot_telemetry.mart_equipment_health", "equipment_id")
    assert set(gold) == {s["equipment_id"].upper() for s in sensors.values()}
    for eq, row in gold.items():
        assert row["reading_count"] == readings[eq], eq
        assert row["anomaly_count"] == anomalies[eq], eq
    assert sum(anomalies.values()) > 0


@pytest.mark.requirement("FR-022")
@pytest.mark.requirement("FR-082")
def test_financial_risk_gold_equals_independent_computation(demo_platform: Platform) -> None:
    """Position counts and gross exposure per counterparty, recomputed from the seed CSVs."""
    seeds = demo_platform.root / "financial-risk" / "seeds"
    prices: dict[tuple[str, str], Decimal] = {}
    for m in _latest(_rows(seeds / "raw_market_data.csv"), "instrument_id", "price_date"):
        if m["close_price"] and Decimal(m["close_price"]) > 0:
            prices[(m["instrument_id"].upper(), m["price_date"])] = Decimal(m["close_price"])
    count: dict[str, int] = defaultdict(int)
    gross: dict[str, Decimal] = defaultdict(Decimal)
    for p in _latest(_rows(seeds / "raw_positions.csv"), "position_id"):
        if not p["quantity"] or int(p["quantity"]) == 0:
            continue
        cp = p["counterparty_id"].upper()
        count[cp] += 1
        price = prices[(p["instrument_id"].upper(), p["as_of_date"])]
        gross[cp] += abs((Decimal(p["quantity"]) * price).quantize(CENT, ROUND_HALF_UP))
    gold = _gold(demo_platform, "financial_risk.mart_risk_dashboard", "counterparty_id")
    counterparties = _latest(_rows(seeds / "raw_counterparties.csv"), "counterparty_id")
    assert set(gold) == {c["counterparty_id"].upper() for c in counterparties}
    for cp, row in gold.items():
        assert row["position_count"] == count.get(cp, 0), cp
        assert abs(Decimal(str(row["gross_exposure"])) - gross.get(cp, Decimal(0))) <= CENT, cp


@pytest.mark.requirement("FR-093")
def test_each_product_has_its_own_namespace(demo_platform: Platform) -> None:
    """Three namespaces, each holding exactly its product's tables (one per seed and per
    model of its dbt project), no table shared."""
    catalog = demo_platform.catalog()
    namespaces = sorted(ns[0] for ns in catalog.list_namespaces())
    assert namespaces == ["customer_360", "financial_risk", "iot_telemetry"]
    for ns in namespaces:
        files = demo_platform.root / ns.replace("_", "-")
        own = [p.stem for p in (*files.glob("seeds/*.csv"), *files.glob("models/**/*.sql"))]
        names = sorted(t[1] for t in catalog.list_tables(ns))
        assert names == sorted(own)
        assert len(names) == expected.seeds(files) + expected.models(files)


@pytest.mark.requirement("WU5-AC2")
@pytest.mark.requirement("TQR-022")
@pytest.mark.requirement("TQR-003")
@pytest.mark.requirement("SC-003")
@pytest.mark.requirement("15-FR-008")
def test_materializations_report_rows_table_and_snapshot(demo_platform: Platform) -> None:
    """Every asset's metadata matches the Iceberg table it names; snapshots carry the run id."""
    catalog = demo_platform.catalog()
    for product, summary in demo_platform.first.items():
        assert summary.success, summary.failure
        files = demo_platform.root / product
        assert len(summary.assets) == expected.seeds(files) + expected.models(files)
        assert summary.tests_passed == expected.dbt_tests(files)
        for asset in summary.assets:
            assert asset.table is not None
            table = catalog.load_table(asset.table)
            snap = table.current_snapshot()
            assert snap is not None
            assert str(snap.snapshot_id) == asset.snapshot_id
            assert table.scan().to_arrow().num_rows == asset.rows
            props = snap.summary.additional_properties
            assert props["floe.run_id"] == summary.run_id
            assert props["floe.product"] == product
            kind = "seed" if asset.name.startswith("raw_") else "model"
            ns = product.replace("-", "_")
            assert props["floe.dbt_unique_id"] == f"{kind}.{ns}.{asset.name}"


@pytest.mark.requirement("FR-022")
def test_duckdb_keeps_no_state_between_runs(demo_platform: Platform) -> None:
    """After the runs no DuckDB file is left anywhere under the platform home or products."""
    leftovers = list(demo_platform.root.rglob("*.duckdb*"))
    assert leftovers == []


@pytest.mark.requirement("TQR-027")
@pytest.mark.requirement("FR-088")
def test_the_three_demo_products_run_within_ten_minutes(demo_platform: Platform) -> None:
    """The three demo products, each from a fresh platform (compile, dbt build, tests,
    publish), finish within the requirement's 10 minutes even run one after the other on
    this 2-core machine shared with the other test workers (`floe demo` runs them in
    parallel), every one successfully and with every model published."""
    runs = demo_platform.first
    assert sorted(runs) == sorted(p.name for p in demo_platform.root.iterdir()
                                  if (p / "floe.yaml").is_file())  # fmt: skip
    for product, summary in runs.items():
        assert summary.success, summary.failure
        files = demo_platform.root / product
        assert len(summary.assets) == expected.seeds(files) + expected.models(files)
        assert summary.seconds > 0
    assert sum(s.seconds for s in runs.values()) < 600
