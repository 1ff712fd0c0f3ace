"""``floe plugins list``."""

from __future__ import annotations

import json
from dataclasses import asdict

from floe.cli.output import console
from floe.plugins.base import PluginType
from floe.plugins.registry import default_registry


def list_plugins(as_json: bool) -> None:
    """Print every installed plugin, or every category with none."""
    rows = default_registry().describe()
    if as_json:
        payload = {
            "categories": [t.value for t in PluginType],
            "plugins": [asdict(r) for r in rows],
        }
        print(json.dumps(payload, indent=2, sort_keys=True))
        return
    from rich.table import Table

    table = Table(title="installed floe plugins", title_justify="left")
    for col in ("category", "type", "version", "api", "description"):
        table.add_column(col)
    by_cat = {t.value: [r for r in rows if r.category == t.value] for t in PluginType}
    for category, found in by_cat.items():
        if not found:
            table.add_row(category, "[dim]—[/]", "", "", "[dim]none installed[/]")
        for r in found:
            table.add_row(category, r.name, r.version, r.floe_api_version, r.description)
    console().print(table)
