"""Entry point of the demo seed generator: one call writes one product's three seed CSVs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from floe.demo_data import customer_360, financial_risk, iot_telemetry
from floe.demo_data.scale import Scale, resolve_rows


class _Product(NamedTuple):
    columns: dict[str, tuple[str, ...]]
    write: Callable[[int, Path, int], dict[str, int]]


_PRODUCTS: dict[str, _Product] = {
    customer_360.PRODUCT: _Product(customer_360.COLUMNS, customer_360.write),
    iot_telemetry.PRODUCT: _Product(iot_telemetry.COLUMNS, iot_telemetry.write),
    financial_risk.PRODUCT: _Product(financial_risk.COLUMNS, financial_risk.write),
}

#: The demo data products, named like their directories under ``demo/``.
PRODUCTS: tuple[str, ...] = tuple(_PRODUCTS)

#: Seed used when the caller does not pass one.
DEFAULT_SEED = 42


def _product(product: str) -> _Product:
    try:
        return _PRODUCTS[product]
    except KeyError:
        raise ValueError(
            f"unknown demo product {product!r}: expected one of {', '.join(PRODUCTS)}"
        ) from None


def columns(product: str) -> dict[str, tuple[str, ...]]:
    """Seed file name -> CSV header (in column order) for ``product``."""
    return dict(_product(product).columns)


def generate(
    product: str, scale: Scale | str, out_dir: Path, seed: int = DEFAULT_SEED
) -> dict[str, int]:
    """Write ``product``'s three seed CSVs into ``out_dir`` (created if missing).

    ``scale`` is a preset name, a row count for the biggest table or scale text as in
    ``FLOE_DEMO_SEED_SCALE``. The same product, scale and seed always give byte-identical
    files. Returns the data rows written per file name (header excluded). Raises
    ``ValueError`` for an unknown product or an invalid scale.
    """
    spec = _product(product)
    rows = resolve_rows(scale)
    out_dir.mkdir(parents=True, exist_ok=True)
    return spec.write(rows, out_dir, seed)
