"""``floe plugins list``."""

from __future__ import annotations

import json

from floe.app.plugins import catalogue
from floe.cli.output import console


def list_plugins(as_json: bool) -> None:
    """Print every installed plugin, or every category with none."""
    categories, rows = catalogue()
    if as_json:
        payload = {"categories": categories, "plugins": [r._asdict() for r in rows]}
        print(json.dumps(payload, indent=2, sort_keys=True))
        return
    from rich.table import Table

    table = Table(title="installed floe plugins", title_justify="left")
    for col in ("category", "type", "version", "api", "description"):
        table.add_column(col)
    by_cat = {c: [r for r in rows if r.category == c] for c in categories}
    for category, found in by_cat.items():
        if not found:
            table.add_row(category, "[dim]—[/]", "", "", "[dim]none installed[/]")
        for r in found:
            table.add_row(category, r.name, r.version, r.floe_api_version, r.description)
    console().print(table)
