"""``floe seeds generate``."""

from __future__ import annotations

from pathlib import Path

from floe.app.seeds import generate_seeds as generate
from floe.cli.output import console


def generate_seeds(product_dir: Path, scale: str | None, seed: int, out: Path | None) -> None:
    """Generate the product's seeds and print rows per file."""
    from rich.table import Table

    done = generate(product_dir, scale, seed, out)
    table = Table(title=f"{done.product} seeds · scale {done.scale} · seed {done.seed}",
                  title_justify="left")  # fmt: skip
    table.add_column("file")
    table.add_column("rows", justify="right")
    for name, rows in done.rows.items():
        table.add_row(name, f"{rows:,}")
    console().print(table)
