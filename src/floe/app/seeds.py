"""`floe seeds generate`: the demo products' seed files at a chosen scale."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from floe.errors import FloeError, Location


@dataclass(frozen=True)
class Seeds:
    """What was generated: the product, the scale, the seed, rows per file."""

    product: str
    scale: object
    seed: int
    rows: dict[str, int]


def generate_seeds(product_dir: Path, scale: str | None, seed: int, out: Path | None) -> Seeds:
    """Generate the product's seeds (the product is named by its floe.yaml)."""
    import yaml

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
    return Seeds(product, chosen, seed, dict(written))
