"""Load one product as a Dagster code location (called by the generated definitions.py).

The text of that file is written by compile: :mod:`floe.compile.definitions_file`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from floe.app.product import located_product

if TYPE_CHECKING:
    import dagster as dg


def load_location(*, compiled_dir: Path, product_dir: Path, manifest: Path) -> dg.Definitions:
    """Definitions of the product compiled into ``compiled_dir``."""
    product = located_product(compiled_dir=compiled_dir, product_dir=product_dir, manifest=manifest)
    return product.definitions()
