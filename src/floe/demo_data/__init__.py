"""Deterministic demo seed data at any scale for the three demo data products.

``generate("customer-360", "large", Path("seeds"))`` writes the product's three raw seed
CSVs with the same names and headers as the committed fixtures under ``demo/<product>/seeds``
- referentially intact, with the few dirty rows the staging models clean, and passing every
dbt test of the product. The scale comes from ``FLOE_DEMO_SEED_SCALE``
(``small|medium|large|<rows>``, see :mod:`floe.demo_data.scale`).
"""

from floe.demo_data.generate import DEFAULT_SEED, PRODUCTS, columns, generate
from floe.demo_data.scale import (
    DEFAULT_SCALE,
    PRESET_ROWS,
    SCALE_ENV,
    Scale,
    ScaleName,
    parse_scale,
    resolve_rows,
    scale_from_env,
)

__all__ = [
    "DEFAULT_SCALE",
    "DEFAULT_SEED",
    "PRESET_ROWS",
    "PRODUCTS",
    "SCALE_ENV",
    "Scale",
    "ScaleName",
    "columns",
    "generate",
    "parse_scale",
    "resolve_rows",
    "scale_from_env",
]
