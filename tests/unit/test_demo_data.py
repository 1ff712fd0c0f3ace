"""The demo seed generator: deterministic, scalable, referentially intact, fixture-shaped."""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import pytest

from floe.demo_data import (
    PRESET_ROWS,
    PRODUCTS,
    SCALE_ENV,
    columns,
    generate,
    parse_scale,
    resolve_rows,
    scale_from_env,
)
from tests.conftest import DEMO

FR = "FR-083"
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
BIGGEST = {
    "customer-360": "raw_transactions.csv",
    "iot-telemetry": "raw_readings.csv",
    "financial-risk": "raw_positions.csv",
}

Rows = list[dict[str, str]]


def _read(path: Path) -> Rows:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _key(value: str) -> str:
    """What the staging models make of an id or code: ``upper(trim(x))``."""
    return value.strip().upper()


def _word(value: str) -> str:
    """What the staging models make of an enumeration: ``lower(trim(x))``."""
    return value.strip().lower()


def _latest(rows: Rows, key: str) -> dict[str, dict[str, str]]:
    """Staging deduplication: per cleaned key, the row with the latest ``_loaded_at``."""
    out: dict[str, dict[str, str]] = {}
    for row in rows:
        k = _key(row[key])
        if k not in out or row["_loaded_at"] > out[k]["_loaded_at"]:
            out[k] = row
    return out


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict[str, int]]]:
    """Every product generated once at the default (small) scale and seed."""
    root = tmp_path_factory.mktemp("small")
    return {p: (root / p, generate(p, "small", root / p)) for p in PRODUCTS}


def _tables(small: dict[str, tuple[Path, dict[str, int]]], product: str) -> dict[str, Rows]:
    out_dir, _ = small[product]
    return {name: _read(out_dir / name) for name in columns(product)}


# --------------------------------------------------------------------------- scale
@pytest.mark.requirement(FR)
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("small", "small"),
        (" Medium ", "medium"),
        ("LARGE", "large"),
        ("2000", 2000),
        ("250_000", 250_000),
        ("1,000,000", 1_000_000),
    ],
)
def test_parse_scale_accepts_presets_and_row_counts(text: str, expected: int | str) -> None:
    """Preset names (any case, padded) and row counts (with _ or , separators) parse."""
    assert parse_scale(text) == expected


@pytest.mark.requirement(FR)
@pytest.mark.parametrize("text", ["tiny", "", "  ", "-500", "1.5", "1e6", "99", "small!"])
def test_invalid_scale_text_raises_value_error_naming_accepted_values(text: str) -> None:
    """Unknown names, signs, decimals and counts below the minimum are rejected with a
    message that lists every accepted value."""
    with pytest.raises(ValueError, match="invalid demo seed scale") as caught:
        parse_scale(text)
    message = str(caught.value)
    for accepted in ("small", "medium", "large", "integer row count", "100"):
        assert accepted in message


@pytest.mark.requirement(FR)
def test_scale_presets_resolve_to_documented_row_counts() -> None:
    """small/medium/large fix 1,000 / 25,000 / 1,000,000 rows in the biggest table; an
    integer passes through; scale text is parsed the same way as the environment value."""
    assert PRESET_ROWS == {"small": 1_000, "medium": 25_000, "large": 1_000_000}
    assert resolve_rows("small") == 1_000
    assert resolve_rows("medium") == 25_000
    assert resolve_rows("large") == 1_000_000
    assert resolve_rows(4_321) == 4_321
    assert resolve_rows("4321") == 4_321
    with pytest.raises(ValueError, match="small, medium, large"):
        resolve_rows(10)


@pytest.mark.requirement(FR)
def test_scale_from_env_defaults_to_small_and_reads_the_variable() -> None:
    """FLOE_DEMO_SEED_SCALE unset or blank means small; otherwise it is parsed."""
    assert SCALE_ENV == "FLOE_DEMO_SEED_SCALE"
    assert scale_from_env({}) == "small"
    assert scale_from_env({SCALE_ENV: "  "}) == "small"
    assert scale_from_env({SCALE_ENV: "large"}) == "large"
    assert scale_from_env({SCALE_ENV: "30000"}) == 30_000
    with pytest.raises(ValueError, match="expected small, medium, large"):
        scale_from_env({SCALE_ENV: "huge"})


@pytest.mark.requirement(FR)
def test_unknown_product_raises_value_error(tmp_path: Path) -> None:
    """A product name outside PRODUCTS is rejected before anything is written."""
    assert PRODUCTS == ("customer-360", "iot-telemetry", "financial-risk")
    with pytest.raises(ValueError, match="customer-360, iot-telemetry, financial-risk"):
        generate("web-analytics", "small", tmp_path / "out")
    assert sorted(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- determinism
@pytest.mark.requirement(FR)
@pytest.mark.parametrize("product", PRODUCTS)
def test_same_scale_and_seed_give_byte_identical_files(
    product: str, small: dict[str, tuple[Path, dict[str, int]]], tmp_path: Path
) -> None:
    """Generating again with the same scale and seed reproduces every file byte for byte."""
    first_dir, first_counts = small[product]
    again = generate(product, "small", tmp_path, seed=42)
    assert again == first_counts
    for name in columns(product):
        assert (tmp_path / name).read_bytes() == (first_dir / name).read_bytes(), name


@pytest.mark.requirement(FR)
@pytest.mark.parametrize("product", PRODUCTS)
def test_different_seed_gives_different_data(
    product: str, small: dict[str, tuple[Path, dict[str, int]]], tmp_path: Path
) -> None:
    """Another seed changes the content of every table (the headers stay the same)."""
    first_dir, _ = small[product]
    generate(product, "small", tmp_path, seed=43)
    for name in columns(product):
        ours, theirs = (tmp_path / name).read_bytes(), (first_dir / name).read_bytes()
        assert ours != theirs, name
        assert ours.split(b"\n", 1)[0] == theirs.split(b"\n", 1)[0]


# --------------------------------------------------------------------------- shape
@pytest.mark.requirement(FR)
@pytest.mark.parametrize("product", PRODUCTS)
def test_headers_equal_the_committed_seed_headers(
    product: str, small: dict[str, tuple[Path, dict[str, int]]]
) -> None:
    """Each generated CSV has the committed fixture's file name and exact header line."""
    out_dir, counts = small[product]
    committed = sorted(p.name for p in (DEMO / product / "seeds").glob("*.csv"))
    assert sorted(counts) == committed
    assert sorted(columns(product)) == committed
    for name in committed:
        expected = (DEMO / product / "seeds" / name).read_text().splitlines()[0]
        assert (out_dir / name).read_text().splitlines()[0] == expected
        assert ",".join(columns(product)[name]) == expected


@pytest.mark.requirement(FR)
@pytest.mark.parametrize("product", PRODUCTS)
def test_small_scale_gives_100_to_1000_rows_per_table(
    product: str, small: dict[str, tuple[Path, dict[str, int]]]
) -> None:
    """At the default scale every table has 100-1,000 data rows, the biggest exactly
    1,000, and the returned counts are the data lines actually written."""
    out_dir, counts = small[product]
    for name, rows in counts.items():
        assert 100 <= rows <= 1_000, (name, rows)
        assert len((out_dir / name).read_text().splitlines()) == rows + 1
    assert counts[BIGGEST[product]] == 1_000


@pytest.mark.requirement(FR)
@pytest.mark.parametrize("product", PRODUCTS)
def test_integer_scale_sets_rows_of_the_biggest_table(product: str, tmp_path: Path) -> None:
    """An integer scale gives that many rows (within 10 %) in the biggest table, which stays
    the biggest, while the other tables grow with it."""
    small_counts = generate(product, 500, tmp_path / "a")
    counts = generate(product, "3000", tmp_path / "b")
    biggest = BIGGEST[product]
    assert abs(counts[biggest] - 3_000) <= 300
    assert counts[biggest] == max(counts.values())
    for name, rows in counts.items():
        assert rows > small_counts[name], name


@pytest.mark.requirement(FR)
@pytest.mark.parametrize("product", PRODUCTS)
def test_timestamps_use_the_seed_layout(
    product: str, small: dict[str, tuple[Path, dict[str, int]]]
) -> None:
    """Every table has _loaded_at on every row and every *_at value is YYYY-MM-DD HH:MM:SS."""
    for name, rows in _tables(small, product).items():
        stamps = [c for c in columns(product)[name] if c.endswith("_at")]
        assert "_loaded_at" in stamps
        for row in rows:
            assert TIMESTAMP.fullmatch(row["_loaded_at"]), (name, row)
            for col in stamps:
                assert row[col] == "" or TIMESTAMP.fullmatch(row[col]), (name, col, row[col])


# --------------------------------------------------------------------------- integrity
@pytest.mark.requirement(FR)
def test_customer_360_foreign_keys_resolve(
    small: dict[str, tuple[Path, dict[str, int]]],
) -> None:
    """Every transaction and ticket names a customer that exists once ids are trimmed and
    upper-cased as stg_* does; after deduplication emails are unique."""
    t = _tables(small, "customer-360")
    customers = _latest(t["raw_customers.csv"], "customer_id")
    assert len(customers) >= 180
    for table in ("raw_transactions.csv", "raw_support_tickets.csv"):
        missing = [r for r in t[table] if _key(r["customer_id"]) not in customers]
        assert missing == [], table
    emails = [_word(r["email"]) for r in customers.values()]
    assert len(set(emails)) == len(emails)


@pytest.mark.requirement(FR)
def test_iot_telemetry_foreign_keys_resolve(
    small: dict[str, tuple[Path, dict[str, int]]],
) -> None:
    """Every reading names an existing, active sensor and every work order an existing
    machine from the sensor register."""
    t = _tables(small, "iot-telemetry")
    sensors = _latest(t["raw_sensors.csv"], "sensor_id")
    active = {k for k, r in sensors.items() if r["is_active"] == "true"}
    machines = {_key(r["equipment_id"]) for r in sensors.values()}
    assert len(sensors) == 120
    assert len(active) < len(sensors)
    assert {_key(r["sensor_id"]) for r in t["raw_readings.csv"]} <= active
    assert {_key(r["equipment_id"]) for r in t["raw_maintenance.csv"]} <= machines


@pytest.mark.requirement(FR)
def test_financial_risk_foreign_keys_resolve(
    small: dict[str, tuple[Path, dict[str, int]]],
) -> None:
    """Every position names an existing counterparty and an instrument with a priced
    market-data row on the position's as_of_date; counterparty names are unique."""
    t = _tables(small, "financial-risk")
    counterparties = _latest(t["raw_counterparties.csv"], "counterparty_id")
    priced = {
        (_key(r["instrument_id"]), r["price_date"])
        for r in t["raw_market_data.csv"]
        if r["close_price"] and float(r["close_price"]) > 0
    }
    positions = t["raw_positions.csv"]
    assert [p for p in positions if _key(p["counterparty_id"]) not in counterparties] == []
    assert [p for p in positions if (_key(p["instrument_id"]), p["as_of_date"]) not in priced] == []
    names = [r["counterparty_name"].strip() for r in counterparties.values()]
    assert len(set(names)) == len(names)


# --------------------------------------------------------------------------- dirt and rules
def _duplicates(rows: Rows) -> int:
    counts = Counter(tuple(r.values()) for r in rows)
    return sum(n - 1 for n in counts.values())


def _padded_or_cased(rows: Rows, column: str, *, upper: bool) -> int:
    norm = _key if upper else _word
    return sum(1 for r in rows if r[column] and r[column] != norm(r[column]))


@pytest.mark.requirement(FR)
@pytest.mark.parametrize("product", PRODUCTS)
def test_every_table_has_a_few_exact_duplicates(
    product: str, small: dict[str, tuple[Path, dict[str, int]]]
) -> None:
    """Like the committed fixture, each table repeats 0.5-5 % of its rows verbatim."""
    for name, rows in _tables(small, product).items():
        share = _duplicates(rows) / len(rows)
        assert 0.005 <= share <= 0.05, (name, share)


@pytest.mark.requirement(FR)
def test_customer_360_dirty_rows_match_the_fixture_kinds(
    small: dict[str, tuple[Path, dict[str, int]]],
) -> None:
    """Customers get later corrections and padded/mis-cased values; transactions get
    negative and missing amounts and noisy enumerations; every cleaned enumeration and
    closed-ticket rule holds."""
    t = _tables(small, "customer-360")
    customers, txns, tickets = (
        t["raw_customers.csv"],
        t["raw_transactions.csv"],
        t["raw_support_tickets.csv"],
    )
    assert sum(r["_loaded_at"] == "2026-01-16 08:00:00" for r in customers) == 5
    assert _padded_or_cased(customers, "segment", upper=False) >= 1
    amounts = [r["amount"] for r in txns]
    assert sum(a == "" for a in amounts) == 15
    assert sum(a.startswith("-") for a in amounts) == 15
    assert _padded_or_cased(txns, "status", upper=False) >= 5
    assert {_word(r["status"]) for r in txns} == {"completed", "refunded", "pending"}
    assert {_word(r["channel"]) for r in txns} == {"online", "store", "mobile"}
    assert {_key(r["country_code"]) for r in customers} <= {
        "DE",
        "FR",
        "NL",
        "ES",
        "IT",
        "GB",
        "US",
        "SE",
    }
    closed = [r for r in tickets if _word(r["status"]) == "closed"]
    assert closed
    assert all(
        r["closed_at"] > r["opened_at"] and r["satisfaction_score"] in "12345" for r in closed
    )
    assert all(r["closed_at"] == r["satisfaction_score"] == "" for r in tickets if r not in closed)


@pytest.mark.requirement(FR)
def test_iot_telemetry_dirty_rows_match_the_fixture_kinds(
    small: dict[str, tuple[Path, dict[str, int]]],
) -> None:
    """Readings include dropouts without a value and some anomalies outside the sensor band;
    maintenance has in-progress orders (no completion, downtime or cost) and rejected
    negative costs; enumerations clean to the accepted values."""
    t = _tables(small, "iot-telemetry")
    sensors = _latest(t["raw_sensors.csv"], "sensor_id")
    readings, orders = t["raw_readings.csv"], t["raw_maintenance.csv"]
    assert sum(r["value"] == "" for r in readings) == 13
    bands = {k: (float(s["min_threshold"]), float(s["max_threshold"])) for k, s in sensors.items()}
    outside = [
        r
        for r in readings
        if r["value"]
        and not bands[_key(r["sensor_id"])][0]
        <= float(r["value"])
        <= bands[_key(r["sensor_id"])][1]
    ]
    assert 0.005 <= len(outside) / len(readings) <= 0.10
    assert {_word(r["quality_flag"]) for r in readings} == {"good", "suspect"}
    in_progress = [r for r in orders if r["completed_at"] == ""]
    assert in_progress
    assert all(r["downtime_minutes"] == r["cost"] == "" for r in in_progress)
    assert sum(r["cost"].startswith("-") for r in orders) >= 1
    assert {_word(r["maintenance_type"]) for r in orders} <= {
        "preventive",
        "corrective",
        "emergency",
    }
    assert {_word(r["sensor_type"]) for r in sensors.values()} == {
        "temperature",
        "vibration",
        "pressure",
    }
    assert {_key(r["production_line"]) for r in sensors.values()} == {"LINE-A", "LINE-B", "LINE-C"}


@pytest.mark.requirement(FR)
def test_financial_risk_dirty_rows_match_the_fixture_kinds(
    small: dict[str, tuple[Path, dict[str, int]]],
) -> None:
    """Positions include bookings without a quantity and short positions; market data has
    quotes without a price outside the priced window; counterparties get next-morning
    downgrades and mis-cased ratings that clean to the AAA-CCC scale."""
    t = _tables(small, "financial-risk")
    positions, market, cps = (
        t["raw_positions.csv"],
        t["raw_market_data.csv"],
        t["raw_counterparties.csv"],
    )
    quantities = [p["quantity"] for p in positions]
    assert sum(q == "" for q in quantities) == 17
    assert "0" not in quantities
    shorts = sum(q.startswith("-") for q in quantities) / len(quantities)
    assert 0.1 <= shorts <= 0.3
    priced_days = {r["price_date"] for r in market if r["close_price"]}
    unpriced = {r["price_date"] for r in market if not r["close_price"]}
    assert len(unpriced) == 1
    assert unpriced.isdisjoint(priced_days)
    assert sum(r["_loaded_at"] == "2026-01-15 08:00:00" for r in cps) == 4
    assert _padded_or_cased(cps, "credit_rating", upper=True) >= 1
    assert {_key(r["credit_rating"]) for r in cps} <= {"AAA", "AA", "A", "BBB", "BB", "B", "CCC"}
    assert {_word(p["book"]) for p in positions} == {"trading", "banking"}
    assert all(float(r["credit_limit"]) >= 250_000 for r in cps)
