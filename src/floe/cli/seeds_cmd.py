"""``floe seeds generate``."""

from __future__ import annotations

from pathlib import Path

from floe.cli.output import console
from floe.errors import FloeError, Location


def generate_seeds(product_dir: Path, scale: str | None, seed: int, out: Path | None) -> None:
    """Generate the product's seeds (the product is named by its floe.yaml) and print rows."""
    import yaml
    from rich.table import Table

    from floe.demo_data import PRODUCTS, generate, parse_scale, scale_from_env

    spec = yaml.safe_load((product_dir / "floe.yaml").read_text(encoding="utf-8")) or {}
    product = str(spec.get("metadata", {}).get("name", product_dir.name))
    if product not in PRODUCTS:
        raise FloeError.single(
            "E540", f"no seed generator for product '{product}'",
            Location(str(product_dir / "floe.yaml")),
            hint=f"generators exist for: {', '.join(PRODUCTS)}",
        )  # fmt: skip
    try:
        chosen = parse_scale(scale) if scale else scale_from_env()
    except ValueError as exc:
        raise FloeError.single("E541", str(exc), None, field_path="--scale") from None
    written = generate(product, chosen, out or product_dir / "seeds", seed)
    table = Table(title=f"{product} seeds · scale {chosen} · seed {seed}", title_justify="left")
    table.add_column("file")
    table.add_column("rows", justify="right")
    for name, rows in written.items():
        table.add_row(name, f"{rows:,}")
    console().print(table)
