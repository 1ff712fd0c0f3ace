"""Seeds for demo/financial-risk: positions, end-of-day market data and counterparties.

Sizes for ``rows`` positions: about 4 x sqrt(rows) counterparties and sqrt(rows)
instruments (at least the 16 of the committed fixture) priced over 4 to 60 business days
ending 2026-01-14. Every position's instrument has a price on the position's as_of_date,
and credit limits are set from each counterparty's gross exposure so the dashboard shows
a realistic spread of limit utilisation (a few breaches, some on watch). Dirty rows
mirror the committed fixture: duplicates, a rating downgrade loaded the next morning,
bookings without a quantity, quotes without a price, and ids / enumerations with stray
whitespace or the wrong case.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from floe.demo_data._common import (
    TableWriter,
    id_width,
    noisy_lower,
    noisy_upper,
    pick,
    share,
    table_rng,
)

PRODUCT = "financial-risk"
POSITIONS = "raw_positions.csv"
MARKET_DATA = "raw_market_data.csv"
COUNTERPARTIES = "raw_counterparties.csv"

# fmt: off
COLUMNS: dict[str, tuple[str, ...]] = {
    POSITIONS: (
        "position_id", "counterparty_id", "instrument_id", "quantity", "entry_price",
        "as_of_date", "book", "_loaded_at",
    ),
    MARKET_DATA: (
        "instrument_id", "asset_class", "price_date", "close_price", "daily_volatility",
        "_loaded_at",
    ),
    COUNTERPARTIES: (
        "counterparty_id", "counterparty_name", "country_code", "sector", "credit_rating",
        "credit_limit", "is_active", "onboarded_on", "_loaded_at",
    ),
}

# The committed fixture's instruments: id, asset class, close on 2026-01-14 (EUR), daily vol.
CORE_INSTRUMENTS: tuple[tuple[str, str, float, float], ...] = (
    ("SAP", "equity", 235.40, 0.0185), ("ASML", "equity", 721.60, 0.0240),
    ("SIE", "equity", 196.35, 0.0160), ("TTE", "equity", 57.12, 0.0145),
    ("ALV", "equity", 298.80, 0.0120), ("BNP", "equity", 61.94, 0.0170),
    ("MC", "equity", 648.20, 0.0210), ("AIR", "equity", 163.58, 0.0175),
    ("BUND10Y", "bond", 99.12, 0.0042), ("OAT10Y", "bond", 96.85, 0.0048),
    ("BTP10Y", "bond", 101.37, 0.0061), ("BONO10Y", "bond", 98.64, 0.0055),
    ("XAUEUR", "commodity", 2548.30, 0.0110), ("BRENTEUR", "commodity", 71.84, 0.0185),
    ("USDEUR", "fx", 0.9216, 0.0045), ("GBPEUR", "fx", 1.1893, 0.0050),
)
EXTRA_FX: tuple[tuple[str, float, float], ...] = (
    ("CHFEUR", 1.0652, 0.0040), ("SEKEUR", 0.0871, 0.0052), ("NOKEUR", 0.0846, 0.0061),
    ("DKKEUR", 0.1340, 0.0008), ("PLNEUR", 0.2342, 0.0047), ("CZKEUR", 0.0398, 0.0039),
    ("CADEUR", 0.6512, 0.0055), ("AUDEUR", 0.5985, 0.0068), ("SGDEUR", 0.7010, 0.0041),
    ("HKDEUR", 0.1185, 0.0044),
)
EXTRA_COMMODITIES: tuple[tuple[str, float, float], ...] = (
    ("XAGEUR", 29.85, 0.0180), ("XPTEUR", 905.40, 0.0160), ("WTIEUR", 67.90, 0.0200),
    ("NATGASEUR", 31.20, 0.0320), ("COPPEREUR", 8620.00, 0.0140), ("WHEATEUR", 221.50, 0.0150),
)
GOVIES = ("BUND", "OAT", "BTP", "BONO", "OLO", "DSL", "RAGB", "GILT", "UST", "SGB")
TENORS = (2, 5, 7, 10, 20, 30)
NOTIONALS = (100_000.0, 250_000.0, 500_000.0, 1_000_000.0, 2_000_000.0, 4_000_000.0)

COUNTRIES = ("GB", "FR", "DE", "NL", "CH", "US", "JP", "IT", "ES", "SE")
LEGAL_FORMS = {
    "GB": ("plc", "Ltd"), "FR": ("SA", "SAS"), "DE": ("AG", "GmbH"), "NL": ("NV", "BV"),
    "CH": ("AG", "SA"), "US": ("Inc.", "LLC", "LP"), "JP": ("KK",), "IT": ("SpA", "Srl"),
    "ES": ("SA", "SL"), "SE": ("AB",),
}
STEMS = (
    "Aldermoor", "Rhone", "Hanse", "Lowlands", "Helvetia", "Meridian", "Kitakaze", "Adriatica",
    "Iberia", "Nordstjarna", "Thames", "Rhein", "Lumiere", "Harbor Point", "Polder", "Alpine",
    "Sakura", "Vesuvio", "Costa Brava", "Oresund", "Granite Peak", "Elbe", "Pennine",
    "Lakeshore", "Tiber", "Zuiderzee", "Ticino", "Baltic", "Danube", "Loire", "Seine", "Mosel",
    "Tagus", "Arno", "Skagerrak", "Highland", "Cotswold", "Silverlake", "Redwood", "Bluewater",
    "Ironbridge", "Oakridge", "Kestrel", "Falcon", "Heron", "Osprey", "Aurora", "Boreal",
    "Cascade", "Summit", "Pinnacle", "Horizon", "Atlas", "Orion", "Vega", "Sirius", "Castello",
    "Montblanc", "Dolomiti", "Sierra", "Mistral", "Sirocco", "Fuji", "Hokuto", "Kanto", "Solent",
)
SECTOR_WORDS = {
    "banking": ("Bank", "Kreditbank", "Savings Bank", "Merchant Bank", "Privatbank", "Trust Bank"),
    "insurance": ("Insurance", "Reinsurance", "Assurance", "Mutual", "Life", "Forsakring"),
    "asset_management": ("Capital", "Asset Management", "Partners", "Investments", "Credit Fund",
                         "Family Office"),
    "corporate": ("Energy", "Logistics", "Chemicals", "Shipping", "Hotels", "Construction",
                  "Engineering", "Foods", "Telecom", "Steel", "Pharma", "Motors", "Retail"),
}
SOVEREIGN_FORMS = ("Republic of", "Kingdom of", "Principality of", "Free City of", "Canton of")
SECTOR_MIX = ("banking",) * 4 + ("insurance",) * 3 + ("asset_management",) * 4 + (
    "corporate",
) * 8 + ("sovereign",)
RATING_MIX = {
    "sovereign": ("AAA", "AAA", "AA", "AA", "A"),
    "banking": ("AA", "AA", "A", "A", "A", "A", "BBB", "BBB", "BBB", "BB"),
    "insurance": ("AA", "A", "A", "A", "A", "BBB", "BBB", "BBB", "BB"),
    "asset_management": ("A", "A", "BBB", "BBB", "BBB", "BBB", "BB", "BB", "BB", "B"),
    "corporate": ("A", "A", "A", "BBB", "BBB", "BBB", "BBB", "BB", "BB", "BB", "B", "B", "CCC"),
}
# fmt: on

RATINGS = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC")
COUNTERPARTIES_LOADED = "2026-01-14 19:00:00"
DOWNGRADE_LOADED = "2026-01-15 08:00:00"
LAST_CLOSE = date(2026, 1, 14)
# Fixed-date exchange holidays (month, day): no closes are published on them.
HOLIDAYS = {(1, 1), (5, 1), (12, 25), (12, 26)}


@dataclass(frozen=True)
class Instrument:
    """One instrument with its closes (oldest first) and a lot size for position sizing."""

    instrument_id: str
    asset_class: str
    closes: tuple[str, ...]
    volatility: float
    quantities: tuple[int, ...]


def business_days(count: int, last: date = LAST_CLOSE) -> list[date]:
    """The ``count`` business days (weekdays, no fixed holidays) up to ``last``, oldest first."""
    days: list[date] = []
    day = last
    while len(days) < count:
        if day.weekday() < 5 and (day.month, day.day) not in HOLIDAYS:
            days.append(day)
        day -= timedelta(days=1)
    return days[::-1]


def _lot(asset_class: str, price: float) -> int:
    if asset_class == "equity":
        return 100
    if asset_class == "bond":
        return 1_000
    if asset_class == "fx":
        return 50_000
    return 10 if price > 500 else 500


# --------------------------------------------------------------------------- instruments
def _instrument(rng: random.Random, spec: tuple[str, str, float, float], days: int) -> Instrument:
    """Walk the price back from the latest close and size lots from it."""
    inst, asset_class, last, vol = spec
    closes: list[str] = []
    price = last
    for _ in range(days):
        closes.append(f"{price:.4f}")
        price = price / (1 + (rng.random() * 3 - 1.5) * vol)
    lot = _lot(asset_class, last)
    quantities = tuple(max(1, round(n / last / lot)) * lot for n in NOTIONALS)
    return Instrument(inst, asset_class, tuple(closes[::-1]), vol, quantities)


def _ticker(rng: random.Random, taken: set[str]) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    while True:
        ticker = "".join(letters[int(rng.random() * 26)] for _ in range(3 + int(rng.random() * 2)))
        if ticker not in taken:
            taken.add(ticker)
            return ticker


def _bond_id(rng: random.Random, taken: set[str], govies: list[str]) -> str:
    if govies:
        return govies.pop()
    bond = f"{_ticker(rng, taken)}{2027 + int(rng.random() * 14)}"
    taken.add(bond)
    return bond


def _instrument_specs(rng: random.Random, count: int) -> list[tuple[str, str, float, float]]:
    """The core instruments plus synthetic equities, bonds, currencies and commodities."""
    specs = list(CORE_INSTRUMENTS)
    taken = {s[0] for s in specs}
    govies = [f"{g}{t}Y" for g in GOVIES for t in TENORS if f"{g}{t}Y" not in taken][::-1]
    fx, commodities = list(EXTRA_FX[::-1]), list(EXTRA_COMMODITIES[::-1])
    while len(specs) < count:
        r = rng.random()
        if r < 0.04 and fx:
            fid, price, vol = fx.pop()
            specs.append((fid, "fx", price, vol))
        elif r < 0.08 and commodities:
            cid, price, vol = commodities.pop()
            specs.append((cid, "commodity", price, vol))
        elif r < 0.33:
            price = round(82 + 30 * rng.random(), 2)
            specs.append(
                (_bond_id(rng, taken, govies), "bond", price, 0.003 + 0.005 * rng.random())
            )
        else:
            price = round(math.exp(math.log(8) + math.log(110) * rng.random()), 2)
            specs.append((_ticker(rng, taken), "equity", price, 0.011 + 0.021 * rng.random()))
    return specs


def _write_market_data(
    path: Path, instruments: list[Instrument], days: list[date], rng: random.Random
) -> int:
    count = len(instruments) * len(days)
    dups, dirty = pick(rng, count, share(count, 0.015)), pick(rng, count, share(count, 0.045))
    missing = pick(rng, len(instruments), share(count, 0.015))
    stamps = [d.isoformat() for d in days]
    with TableWriter(path, COLUMNS[MARKET_DATA]) as out:
        for i, inst in enumerate(instruments):
            for d, day in enumerate(stamps):
                n = i * len(days) + d
                vol = f"{inst.volatility * (0.9 + 0.2 * rng.random()):.6f}"
                row = [
                    inst.instrument_id,
                    inst.asset_class,
                    day,
                    inst.closes[d],
                    vol,
                    f"{day} 18:00:00",
                ]
                if n in dirty:
                    if rng.random() < 0.4:
                        row[0] = noisy_upper(rng, row[0])
                    else:
                        row[1] = noisy_lower(rng, row[1])
                out.write(row)
                if n in dups:
                    out.write(row)
        # late quotes for the day before the window, delivered without a price: dropped
        before = business_days(len(days) + 1)[0].isoformat()
        for i in sorted(missing):
            inst = instruments[i]
            out.write(
                [
                    inst.instrument_id,
                    inst.asset_class,
                    before,
                    "",
                    f"{inst.volatility:.6f}",
                    f"{stamps[0]} 18:00:00",
                ]
            )
        return out.rows


# --------------------------------------------------------------------------- positions
def _write_positions(
    path: Path,
    total: int,
    instruments: list[Instrument],
    days: list[date],
    holders: list[int],
    cp_width: int,
    seed: int,
) -> tuple[int, list[float]]:
    """Write the positions; return rows written and gross exposure per counterparty number."""
    rng = table_rng(seed, PRODUCT, "positions")
    n_dup, n_blank = share(total, 0.017), share(total, 0.017)
    base = total - n_dup - n_blank
    dups, dirty = pick(rng, base, n_dup), pick(rng, base, share(base, 0.033))
    stamps = [d.isoformat() for d in business_days(len(days) + 1, LAST_CLOSE + timedelta(1))]
    last, width = len(days) - 1, id_width(total, 4)
    gross = [0.0] * (max(holders) + 1)
    with TableWriter(path, COLUMNS[POSITIONS]) as out:
        for i in range(base + n_blank):
            r = rng.random()
            d = max(0, last - (0 if r < 0.6 else (1 if r < 0.85 else 2)))
            inst = instruments[int(rng.random() * len(instruments))]
            cp = holders[int(len(holders) * rng.random() ** 1.3)]
            qty = inst.quantities[int(rng.random() * len(inst.quantities))]
            qty = -qty if rng.random() < 0.2 else qty
            close = float(inst.closes[d])
            entry = f"{close * (0.92 + 0.16 * rng.random()):.4f}"
            loaded = f"{stamps[d]} 19:00:00" if rng.random() < 0.7 else f"{stamps[d + 1]} 07:00:00"
            book = "trading" if rng.random() < 0.6 else "banking"
            quantity = str(qty) if i < base else ""  # bookings without a quantity: rejected
            row = [
                f"P{i + 1:0{width}d}",
                f"CP{cp:0{cp_width}d}",
                inst.instrument_id,
                quantity,
                entry,
                stamps[d],
                book,
                loaded,
            ]
            if i < base:
                gross[cp] += abs(qty * close)
            if i in dirty:
                if rng.random() < 0.5:
                    row[1] = noisy_upper(rng, row[1])
                else:
                    row[6] = noisy_lower(rng, row[6])
            out.write(row)
            if i in dups:
                out.write(row)
        return out.rows, gross


# --------------------------------------------------------------------------- counterparties
def _name(rng: random.Random, number: int, country: str, sector: str, taken: set[str]) -> str:
    for _ in range(20):
        stem = STEMS[int(rng.random() * len(STEMS))]
        if sector == "sovereign":
            form = SOVEREIGN_FORMS[int(rng.random() * len(SOVEREIGN_FORMS))]
            name = f"{form} {stem}"
        else:
            words, forms = SECTOR_WORDS[sector], LEGAL_FORMS[country]
            word, legal = (
                words[int(rng.random() * len(words))],
                forms[int(rng.random() * len(forms))],
            )
            name = f"{stem} {word} {legal}"
        if name not in taken:
            taken.add(name)
            return name
    name = f"{name} {number}"
    taken.add(name)
    return name


def _credit_limit(rng: random.Random, gross: float) -> float:
    """A limit that puts utilisation mostly at 25-72 %, some on watch and a few in breach."""
    if gross <= 0:
        return 5_000_000.0
    r, spread = rng.random(), rng.random()
    if r < 0.04:
        target = 1.02 + 0.15 * spread  # breach
    elif r < 0.12:
        target = 0.80 + 0.17 * spread  # watch
    else:
        target = 0.25 + 0.47 * spread
    return max(250_000.0, round(gross / target / 10_000) * 10_000.0)


def _counterparty(
    rng: random.Random, number: int, width: int, gross: float, active: bool, taken: set[str]
) -> list[str]:
    country = COUNTRIES[int(rng.random() * len(COUNTRIES))]
    sector = SECTOR_MIX[int(rng.random() * len(SECTOR_MIX))]
    rating = RATING_MIX[sector][int(rng.random() * len(RATING_MIX[sector]))]
    onboarded = date(2015, 1, 1) + timedelta(days=int(rng.random() * 3_900))
    return [
        f"CP{number:0{width}d}",
        _name(rng, number, country, sector, taken),
        country,
        sector,
        rating,
        f"{_credit_limit(rng, gross):.2f}",
        "true" if active else "false",
        onboarded.isoformat(),
        COUNTERPARTIES_LOADED,
    ]


def _dirty_counterparty(rng: random.Random, row: list[str]) -> None:
    field = int(rng.random() * 3)
    if field == 0:
        row[4] = noisy_upper(rng, row[4])
    elif field == 1:
        row[2] = noisy_upper(rng, row[2])
    else:
        row[3] = noisy_lower(rng, row[3])


def _downgrade(row: list[str]) -> list[str]:
    """The counterparty re-exported the next morning one notch lower (CCC stays CCC)."""
    lowered = list(row)
    notch = RATINGS.index(row[4])
    lowered[4] = RATINGS[min(notch + 1, len(RATINGS) - 1)]
    lowered[8] = DOWNGRADE_LOADED
    return lowered


def _write_counterparties(
    path: Path, count: int, width: int, inactive: set[int], gross: list[float], seed: int
) -> int:
    rng = table_rng(seed, PRODUCT, "counterparties")
    dups, dirty = pick(rng, count, share(count, 0.03)), pick(rng, count, share(count, 0.13))
    downgrades = pick(rng, count, share(count, 0.03))
    later: list[list[str]] = []
    taken: set[str] = set()
    with TableWriter(path, COLUMNS[COUNTERPARTIES]) as out:
        for i in range(count):
            exposure = gross[i + 1] if i + 1 < len(gross) else 0.0
            row = _counterparty(rng, i + 1, width, exposure, i + 1 not in inactive, taken)
            if i in downgrades:
                later.append(_downgrade(row))
            if i in dirty:
                _dirty_counterparty(rng, row)
            out.write(row)
            if i in dups:
                out.write(row)
        for row in later:
            out.write(row)
        return out.rows


def write(rows: int, out_dir: Path, seed: int) -> dict[str, int]:
    """Write the three financial-risk seeds with ``rows`` positions into ``out_dir``."""
    rng = table_rng(seed, PRODUCT, "market_data")
    days = business_days(min(60, max(4, round(2 * rows**0.25))))
    specs = _instrument_specs(rng, max(len(CORE_INSTRUMENTS), round(math.sqrt(rows))))
    instruments = [_instrument(rng, spec, len(days)) for spec in specs]
    count = max(30, round(4 * math.sqrt(rows)))
    width = id_width(count, 3)
    inactive = {count - k for k in range(share(count, 0.06))}  # off-boarding: no positions
    holders = [n for n in range(1, count + 1) if n not in inactive]
    written, gross = _write_positions(
        out_dir / POSITIONS, rows, instruments, days, holders, width, seed
    )
    return {
        POSITIONS: written,
        MARKET_DATA: _write_market_data(out_dir / MARKET_DATA, instruments, days, rng),
        COUNTERPARTIES: _write_counterparties(
            out_dir / COUNTERPARTIES, count, width, inactive, gross, seed
        ),
    }
