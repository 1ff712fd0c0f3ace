"""Expected figures of a demo product, derived from its files (never copied from an output).

- models / seeds: the dbt project's ``models/**/*.sql`` and ``seeds/*.csv``;
- dbt tests: every generic test declared on a model, seed or column in the project's YAML,
  plus every singular test in ``tests/``;
- gold rows: the number of distinct keys the gold model keeps, from the seed CSV the key
  comes from, cleaned as the staging models clean it (trimmed, upper-cased).
"""

from __future__ import annotations

import csv
from pathlib import Path

import yaml

# Gold model of each demo product: one row per distinct key of this seed column.
GOLD_KEY = {
    "customer-360": ("raw_customers.csv", "customer_id"),
    "iot-telemetry": ("raw_sensors.csv", "equipment_id"),
    "financial-risk": ("raw_counterparties.csv", "counterparty_id"),
}


def models(product: Path) -> int:
    """Number of dbt models (SQL files under models/)."""
    return len(list((product / "models").rglob("*.sql")))


def seeds(product: Path) -> int:
    """Number of dbt seeds (CSV files under seeds/)."""
    return len(list((product / "seeds").glob("*.csv")))


def dbt_tests(product: Path) -> int:
    """Number of dbt test nodes the project declares (generic and singular)."""
    count = 0
    for path in sorted(product.rglob("*.yml")):
        if path.parent == product or "target" in path.parts:
            continue  # dbt_project.yml, profiles.yml, packages.yml; build output
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for kind in ("models", "seeds", "snapshots"):
            for node in doc.get(kind) or []:
                count += len(node.get("data_tests", node.get("tests")) or [])
                for column in node.get("columns") or []:
                    count += len(column.get("data_tests", column.get("tests")) or [])
    tests_dir = product / "tests"
    return count + (len(list(tests_dir.rglob("*.sql"))) if tests_dir.is_dir() else 0)


def gold_rows(product: Path) -> int:
    """Rows of the product's gold table: distinct cleaned keys of its key seed."""
    seed, column = GOLD_KEY[product.name]
    with (product / "seeds" / seed).open(newline="", encoding="utf-8") as handle:
        keys = {(row[column] or "").strip().upper() for row in csv.DictReader(handle)}
    return len(keys - {""})
