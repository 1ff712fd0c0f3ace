"""``floe platform up|status``."""

from __future__ import annotations

from pathlib import Path

from floe.app.platform import checks
from floe.cli.output import console


def show_checks(manifest: Path | None, env: str, *, create: bool) -> int:
    """Print the checks as a table; 0 when all pass, else 2."""
    from rich.table import Table

    path, results = checks(manifest, env, create=create)
    table = Table(title=f"floe platform · {path}", title_justify="left")
    for col in ("check", "status", "detail"):
        table.add_column(col)
    for c in results:
        table.add_row(c.name, "[green]ok[/]" if c.ok else "[red]FAILED[/]", c.detail)
    console().print(table)
    return 0 if all(c.ok for c in results) else 2
