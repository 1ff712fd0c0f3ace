"""``floe semantic validate``."""

from __future__ import annotations

from pathlib import Path

from floe.app.semantic import validate_semantic
from floe.cli.output import console
from floe.errors import display_path


def validate(product_dir: Path, manifest: Path | None, env: str) -> None:
    """Compile, load the data model with the semantic layer's own loader, print the files
    and what it loaded."""
    done = validate_semantic(product_dir, manifest, env)
    out = console()
    for path in done.files:
        out.print(f"wrote {display_path(path)}")
    for model in done.loaded:
        out.print(
            f"  {model.model}: {len(model.dimensions)} dimension(s), "
            f"{len(model.measures)} measure(s): {', '.join(model.measures)}"
        )
    out.print(
        f"semantic layer '{done.plugin}' of {done.product}: {len(done.files)} file(s) loaded "
        "without errors"
    )
