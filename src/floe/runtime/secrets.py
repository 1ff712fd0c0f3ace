"""Resolve ``{secret: NAME}`` references at run time through the secrets plugin."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from floe.errors import FloeError, Location
from floe.plugins.abcs import SecretsPlugin
from floe.plugins.base import PluginType, SecretResolver
from floe.plugins.registry import default_registry
from floe.spec.common import SecretRef

E_SECRET = "E510"  # noqa: S105 - an error code


def secrets_plugin(plugins: Mapping[str, Any]) -> SecretsPlugin:
    """The configured secrets plugin (``env`` when none is configured)."""
    ref = plugins.get("secrets")
    name, config = (ref.type, dict(ref.config)) if ref else ("env", {})
    plugin = default_registry().create(PluginType.SECRETS, name, config)
    assert isinstance(plugin, SecretsPlugin)
    return plugin


def secret_resolver(plugins: Mapping[str, Any]) -> SecretResolver:
    """A resolver over the configured secrets plugin; a missing secret is a clear error."""
    plugin = secrets_plugin(plugins)

    def resolve(ref: SecretRef) -> str:
        try:
            return plugin.resolve(ref.secret)
        except KeyError:
            raise FloeError.single(
                E_SECRET,
                f"secret '{ref.secret}' is not available from the '{plugin.name}' secrets plugin",
                Location("manifest.yaml"),
                hint=f"provide {ref.secret} (an environment variable for the 'env' plugin)",
            ) from None

    return resolve
