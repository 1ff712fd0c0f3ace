"""Resolve ``{secret: NAME}`` references at run time through the secrets plugin."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from floe.errors import FloeError, Location
from floe.plugins.abcs import SecretsPlugin
from floe.plugins.base import PluginType
from floe.plugins.registry import default_registry
from floe.spec.common import is_secret_ref

E_SECRET = "E510"  # noqa: S105 - an error code


def secrets_plugin(plugins: Mapping[str, Any]) -> SecretsPlugin:
    """The configured secrets plugin (``env`` when none is configured)."""
    ref = plugins.get("secrets")
    name, config = (ref.type, dict(ref.config)) if ref else ("env", {})
    plugin = default_registry().create(PluginType.SECRETS, name, config)
    assert isinstance(plugin, SecretsPlugin)
    return plugin


def resolve_secrets(data: Any, plugins: Mapping[str, Any]) -> Any:
    """A copy of ``data`` with every reference replaced by its value (never logged)."""
    plugin: SecretsPlugin | None = None

    def walk(value: Any) -> Any:
        nonlocal plugin
        if is_secret_ref(value):
            plugin = plugin or secrets_plugin(plugins)
            name = str(value["secret"])
            try:
                return plugin.resolve(name)
            except KeyError:
                raise FloeError.single(
                    E_SECRET,
                    f"secret '{name}' is not available from the '{plugin.name}' secrets plugin",
                    Location("manifest.yaml"),
                    hint=f"provide {name} (an environment variable for the 'env' plugin)",
                ) from None
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return walk(data)
