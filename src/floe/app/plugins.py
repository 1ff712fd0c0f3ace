"""`floe plugins list`: every plugin category and the plugins installed for it."""

from __future__ import annotations

from floe.plugins.base import PluginType
from floe.plugins.registry import PluginInfo, default_registry


def catalogue() -> tuple[list[str], list[PluginInfo]]:
    """The plugin categories (in order) and every registered plugin with its metadata."""
    return [t.value for t in PluginType], default_registry().describe()
