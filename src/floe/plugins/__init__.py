"""The plugin system: 15 categories, one base class, one ABC per category, one registry."""

from floe.plugins.base import HealthState, HealthStatus, Plugin, PluginType

__all__ = ["HealthState", "HealthStatus", "Plugin", "PluginType"]
