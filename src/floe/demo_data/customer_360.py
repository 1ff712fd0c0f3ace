"""Seeds for demo/customer-360: CRM customers, sales transactions and support tickets.

Sizes for ``rows`` transactions: 0.2 x rows customers and 0.3 x rows support tickets.
Dirty rows mirror the committed fixture: exact duplicates, later corrections of a
customer, missing or negative amounts, and ids / enumerations with stray whitespace
or the wrong case - all of which the staging models clean away.
"""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

from floe.demo_data._common import (
    Clock,
    TableWriter,
    id_width,
    noisy_lower,
    noisy_trim,
    noisy_upper,
    pick,
    share,
    table_rng,
)

PRODUCT = "customer-360"
CUSTOMERS = "raw_customers.csv"
TRANSACTIONS = "raw_transactions.csv"
TICKETS = "raw_support_tickets.csv"

# fmt: off
COLUMNS: dict[str, tuple[str, ...]] = {
    CUSTOMERS: (
        "customer_id", "first_name", "last_name", "email", "country_code", "city",
        "segment", "signup_date", "_loaded_at",
    ),
    TRANSACTIONS: (
        "transaction_id", "customer_id", "transaction_at", "amount", "channel", "status",
        "_loaded_at",
    ),
    TICKETS: (
        "ticket_id", "customer_id", "opened_at", "closed_at", "channel", "category",
        "priority", "status", "satisfaction_score", "_loaded_at",
    ),
}

# Per country: given names, family names, cities (ASCII, so emails stay plain).
PEOPLE: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "DE": (
        ("Anna", "Lukas", "Sophie", "Jonas", "Felix", "Clara", "Mila", "Paul", "Lena", "Ben"),
        ("Schmidt", "Weber", "Wagner", "Becker", "Hoffmann", "Fischer", "Koch", "Schulz"),
        ("Berlin", "Hamburg", "Munich", "Cologne", "Frankfurt", "Stuttgart", "Dresden"),
    ),
    "FR": (
        ("Claire", "Hugo", "Chloe", "Louis", "Ines", "Theo", "Camille", "Jules", "Lea"),
        ("Dubois", "Martin", "Bernard", "Petit", "Moreau", "Lambert", "Laurent", "Roux"),
        ("Paris", "Lyon", "Bordeaux", "Nantes", "Lille", "Toulouse", "Marseille"),
    ),
    "NL": (
        ("Sanne", "Daan", "Fleur", "Lotte", "Bram", "Sem", "Noor", "Tess", "Luuk"),
        ("de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder"),
        ("Amsterdam", "Utrecht", "Rotterdam", "Eindhoven", "Groningen", "Leiden"),
    ),
    "ES": (
        ("Lucia", "Pablo", "Carmen", "Diego", "Sofia", "Javier", "Elena", "Mateo"),
        ("Garcia", "Fernandez", "Lopez", "Martinez", "Sanchez", "Perez", "Gomez", "Ruiz"),
        ("Madrid", "Valencia", "Seville", "Bilbao", "Barcelona", "Malaga", "Zaragoza"),
    ),
    "IT": (
        ("Giulia", "Marco", "Alessandro", "Sofia", "Luca", "Chiara", "Matteo", "Sara"),
        ("Rossi", "Bianchi", "Romano", "Ricci", "Colombo", "Greco", "Bruno", "Gallo"),
        ("Milan", "Turin", "Rome", "Bologna", "Naples", "Florence", "Genoa"),
    ),
    "GB": (
        ("Oliver", "Amelia", "Harry", "Jack", "Isla", "George", "Emily", "Freya"),
        ("Smith", "Jones", "Taylor", "Wilson", "Evans", "Brown", "Walker", "Wright"),
        ("London", "Manchester", "Leeds", "Bristol", "Cardiff", "Edinburgh", "Glasgow"),
    ),
    "US": (
        ("Emma", "Noah", "Olivia", "Liam", "Ava", "Ethan", "Mia", "Lucas", "Harper"),
        ("Johnson", "Williams", "Davis", "Miller", "Moore", "Anderson", "Clark", "Lewis"),
        ("Boston", "Chicago", "Seattle", "Austin", "Denver", "Portland", "New York"),
    ),
    "SE": (
        ("Elsa", "Erik", "Maja", "Astrid", "Oskar", "Alva", "Hugo", "Ebba", "Nils"),
        ("Lindqvist", "Nilsson", "Berg", "Holm", "Andersson", "Johansson", "Karlsson"),
        ("Stockholm", "Gothenburg", "Malmo", "Uppsala", "Lund", "Orebro"),
    ),
}
# Country mix: more customers in the big markets.
COUNTRY_MIX = ("DE",) * 4 + ("FR",) * 3 + ("GB",) * 3 + ("US",) * 3 + (
    "NL", "NL", "ES", "ES", "IT", "IT", "SE",
)
SEGMENT_MIX = ("consumer",) * 11 + ("business",) * 6 + ("vip",) * 3
DOMAINS = ("example.com", "example.net", "example.org")
CORRECTION_DOMAIN = "mail.example.org"
PRICES = (
    9.99, 14.5, 19.99, 24.5, 29.9, 39.9, 49.0, 59.95, 74.99, 89.0, 99.0, 129.99, 149.5,
    199.0, 249.99, 320.0, 415.75,
)
BIG_TICKETS = (649.0, 899.99, 1249.0, 1799.0)
CHANNEL_MIX = ("online", "online", "store", "mobile")
TICKET_CHANNELS = ("email", "phone", "chat")
CATEGORIES = ("billing", "delivery", "product", "returns")
PRIORITY_MIX = ("low",) * 6 + ("medium",) * 7 + ("high",) * 5 + ("urgent",) * 2
CSAT_MIX = ("1", "2", "3", "3", "4", "4", "4", "5", "5", "5")
# fmt: on

CUSTOMERS_LOADED = "2026-01-15 10:00:00"
CORRECTION_LOADED = "2026-01-16 08:00:00"
TRANSACTION_BATCHES = ("2026-01-15 10:00:00", "2026-01-15 11:00:00", "2026-01-15 12:00:00")
TICKET_BATCHES = ("2026-01-15 10:00:00", "2026-01-15 12:00:00")
TRANSACTION_DAYS = 105  # 2025-10-01 .. 2026-01-13
TICKET_DAYS = 66  # 2025-11-01 .. 2026-01-05
RECENT_DAYS = 14  # older tickets are nearly all closed; the backlog is recent


def _choice(rng: random.Random, options: tuple[str, ...]) -> str:
    return options[int(rng.random() * len(options))]


# --------------------------------------------------------------------------- customers
def _customer(rng: random.Random, number: int, width: int, signup: Clock) -> list[str]:
    country = _choice(rng, COUNTRY_MIX)
    firsts, lasts, cities = PEOPLE[country]
    first, last, city = _choice(rng, firsts), _choice(rng, lasts), _choice(rng, cities)
    local = f"{first}.{last.replace(' ', '')}{number}".lower()
    return [
        f"C{number:0{width}d}",
        first,
        last,
        f"{local}@{_choice(rng, DOMAINS)}",
        country,
        city,
        _choice(rng, SEGMENT_MIX),
        signup.day(int(rng.random() * 600)),
        CUSTOMERS_LOADED,
    ]


def _dirty_customer(rng: random.Random, row: list[str]) -> None:
    field = int(rng.random() * 6)
    if field == 0:
        local, domain = row[3].split("@")
        padded = f"  {local.title()}@{domain.capitalize()} "
        row[3] = padded if rng.random() < 0.5 else row[3].upper()
    elif field == 1:
        row[4] = noisy_upper(rng, row[4])
    elif field == 2:
        row[6] = noisy_lower(rng, row[6])
    elif field == 3:
        row[1] = noisy_trim(rng, row[1])
    elif field == 4:
        row[2] = noisy_trim(rng, row[2])
    else:
        row[5] = noisy_trim(rng, row[5])


def _correction(rng: random.Random, row: list[str], number: int) -> list[str]:
    """A later re-export of the customer with a new email and segment."""
    fixed = list(row)
    local = f"{row[1]}.{row[2].replace(' ', '')}{number}".lower()
    fixed[3] = f"{local}@{CORRECTION_DOMAIN}"
    fixed[6] = _choice(rng, tuple(s for s in ("consumer", "business", "vip") if s != row[6]))
    fixed[8] = CORRECTION_LOADED
    return fixed


def _write_customers(path: Path, total: int, seed: int) -> tuple[int, int]:
    """Write the customers; return (distinct customers, rows written)."""
    rng = table_rng(seed, PRODUCT, "customers")
    n_dup, n_fix = share(total, 0.025), share(total, 0.025)
    base = total - n_dup - n_fix
    special = list(pick(rng, base, n_dup + n_fix))
    rng.shuffle(special)
    dups, fixes = set(special[:n_dup]), set(special[n_dup:])
    dirty = pick(rng, base, share(base, 0.12))
    width, signup = id_width(base, 3), Clock(date(2024, 1, 5))
    corrections: list[list[str]] = []
    with TableWriter(path, COLUMNS[CUSTOMERS]) as out:
        for i in range(base):
            row = _customer(rng, i + 1, width, signup)
            if i in fixes:
                corrections.append(_correction(rng, row, i + 1))
            if i in dirty:
                _dirty_customer(rng, row)
            out.write(row)
            if i in dups:
                out.write(row)
        for row in corrections:
            out.write(row)
        return base, out.rows


# --------------------------------------------------------------------------- transactions
def _amount(rng: random.Random) -> float:
    if rng.random() < 0.04:
        return BIG_TICKETS[int(rng.random() * len(BIG_TICKETS))]
    return PRICES[int(rng.random() * len(PRICES))] * (1 + int(rng.random() * 1.3))


def _status(r: float) -> str:
    return "completed" if r < 0.82 else ("refunded" if r < 0.93 else "pending")


def _dirty_transaction(rng: random.Random, row: list[str]) -> None:
    field = int(rng.random() * 3)
    if field == 0:
        row[5] = noisy_lower(rng, row[5])
    elif field == 1:
        row[4] = noisy_lower(rng, row[4])
    else:
        row[1] = noisy_upper(rng, row[1])


def _write_transactions(path: Path, total: int, customers: int, seed: int) -> int:
    rng = table_rng(seed, PRODUCT, "transactions")
    n_dup, n_neg, n_blank = share(total, 0.015), share(total, 0.015), share(total, 0.015)
    base = total - n_dup - n_neg - n_blank
    dups, dirty = pick(rng, base, n_dup), pick(rng, base, share(base, 0.055))
    width, cwidth = id_width(total, 4), id_width(customers, 3)
    clock = Clock(date(2025, 10, 1))
    with TableWriter(path, COLUMNS[TRANSACTIONS]) as out:
        for i in range(base + n_neg + n_blank):
            day = (i * TRANSACTION_DAYS) // base if i < base else TRANSACTION_DAYS - 4
            seconds = day * 86_400 + 28_800 + int(rng.random() * 50_400)
            customer = int(customers * rng.random() ** 1.6) + 1
            amount = f"{_amount(rng):.2f}"
            if i >= base:  # data-entry errors the staging model drops
                amount = f"-{amount}" if i < base + n_neg else ""
            batch = min(2, (i * 20) // (base * 7)) if i < base else 2  # ~35/35/30 %
            row = [
                f"T{i + 1:0{width}d}",
                f"C{customer:0{cwidth}d}",
                clock.at(seconds),
                amount,
                _choice(rng, CHANNEL_MIX),
                _status(rng.random()),
                TRANSACTION_BATCHES[batch],
            ]
            if i in dirty:
                _dirty_transaction(rng, row)
            out.write(row)
            if i in dups:
                out.write(row)
        return out.rows


# --------------------------------------------------------------------------- tickets
def _ticket(rng: random.Random, i: int, base: int, customers: int, clock: Clock) -> list[str]:
    day = (i * TICKET_DAYS) // base
    opened = day * 86_400 + 28_800 + int(rng.random() * 36_000)
    r = rng.random() * (1.0 if day >= TICKET_DAYS - RECENT_DAYS else 0.4)
    status = "closed" if r < 0.35 else ("open" if r < 0.75 else "pending")
    closed_at = score = ""
    if status == "closed":
        closed_at = clock.at(opened + 7_200 + int(rng.random() * 338_400))
        score = _choice(rng, CSAT_MIX)
    customer = int(rng.random() * customers) + 1
    return [
        f"TK{i + 1:0{id_width(base, 4)}d}",
        f"C{customer:0{id_width(customers, 3)}d}",
        clock.at(opened),
        closed_at,
        _choice(rng, TICKET_CHANNELS),
        _choice(rng, CATEGORIES),
        _choice(rng, PRIORITY_MIX),
        status,
        score,
        TICKET_BATCHES[0 if i * 5 < base * 3 else 1],
    ]


def _write_tickets(path: Path, total: int, customers: int, seed: int) -> int:
    rng = table_rng(seed, PRODUCT, "support_tickets")
    n_dup = share(total, 0.025)
    base = total - n_dup
    dups, dirty = pick(rng, base, n_dup), pick(rng, base, share(base, 0.10))
    clock = Clock(date(2025, 11, 1))
    with TableWriter(path, COLUMNS[TICKETS]) as out:
        for i in range(base):
            row = _ticket(rng, i, base, customers, clock)
            if i in dirty:
                field = (4, 5, 6, 7)[int(rng.random() * 4)]  # channel/category/priority/status
                row[field] = noisy_lower(rng, row[field])
            out.write(row)
            if i in dups:
                out.write(row)
        return out.rows


def write(rows: int, out_dir: Path, seed: int) -> dict[str, int]:
    """Write the three customer-360 seeds with ``rows`` transactions into ``out_dir``."""
    customers, written = _write_customers(out_dir / CUSTOMERS, max(20, round(rows * 0.2)), seed)
    return {
        CUSTOMERS: written,
        TRANSACTIONS: _write_transactions(out_dir / TRANSACTIONS, rows, customers, seed),
        TICKETS: _write_tickets(out_dir / TICKETS, max(20, round(rows * 0.3)), customers, seed),
    }
