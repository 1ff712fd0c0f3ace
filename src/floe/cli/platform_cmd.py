"""``floe platform up|status``."""

from __future__ import annotations

from pathlib import Path

from floe.cli.output import console
from floe.runtime.platform import check


def find_manifest(given: Path | None) -> Path:
    """--manifest, else $FLOE_MANIFEST, else the nearest manifest.yaml at or above the cwd."""
    import os

    from floe.errors import FloeError, Location

    if given is not None:
        return given
    if os.environ.get("FLOE_MANIFEST"):
        return Path(os.environ["FLOE_MANIFEST"])
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / "manifest.yaml").is_file():
            return folder / "manifest.yaml"
    raise FloeError.single(
        "E120", "no platform manifest found in this directory or above", Location(str(here)),
        hint="pass --manifest PATH (e.g. --manifest demo/manifest.yaml)",
    )  # fmt: skip


def show_checks(manifest: Path | None, env: str, *, create: bool) -> int:
    """Print the checks as a table; 0 when all pass, else 2."""
    from rich.table import Table

    path = find_manifest(manifest)
    checks = check(path, env, create=create)
    table = Table(title=f"floe platform · {path}", title_justify="left")
    for col in ("check", "status", "detail"):
        table.add_column(col)
    for c in checks:
        table.add_row(c.name, "[green]ok[/]" if c.ok else "[red]FAILED[/]", c.detail)
    console().print(table)
    return 0 if all(c.ok for c in checks) else 2
