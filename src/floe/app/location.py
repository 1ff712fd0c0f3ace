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


def load_env_location(*, product: str, env: str, manifest: Path) -> dg.Definitions:
    """Definitions of the digest ``env-<env>`` points at when the location loads (called by
    the definitions.py `floe workspace <product> --env E` writes): the bundle pulled into the
    environment's home, compiled for ``env``, served on its catalog, warehouse and Dagster
    instance; the digest and the environment in the definitions' metadata and in the product
    job's tags (so every run's record names them). Promoting moves the tag: reloading the
    location serves the new digest."""
    import dagster as dg

    from floe.app.product import open_product
    from floe.app.promote import checkout, provenance

    co = checkout(product, env, manifest=manifest)
    served = open_product(co.workdir, co.manifest, env)
    served.job_tags = provenance(co)
    notes = provenance(co)
    return dg.Definitions.merge(served.definitions(), dg.Definitions(metadata=notes))
