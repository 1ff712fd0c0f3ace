"""Resolve ``{secret: NAME}`` references at run time through the secrets plugin."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import SecretStr

from floe import events
from floe.errors import FloeError, Location
from floe.plugins.abcs import SecretsPlugin
from floe.plugins.base import PluginType, SecretResolver
from floe.plugins.registry import default_registry
from floe.spec.common import SecretRef

E_SECRET = "E510"  # noqa: S105 - an error code
_WHERE = {"env": "an environment variable", "file": "a file in the mounted secrets directory"}


def secrets_plugin(plugins: Mapping[str, Any]) -> SecretsPlugin:
    """The configured secrets plugin (``env`` when none is configured)."""
    ref = plugins.get("secrets")
    name, config = (ref.type, dict(ref.config)) if ref else ("env", {})
    plugin = default_registry().create(PluginType.SECRETS, name, config)
    assert isinstance(plugin, SecretsPlugin)
    return plugin


def secret_resolver(plugins: Mapping[str, Any]) -> SecretResolver:
    """A resolver over the configured secrets plugin (see :func:`resolver_for`)."""
    return resolver_for(secrets_plugin(plugins))


def resolver_for(plugin: SecretsPlugin[Any]) -> SecretResolver:
    """A resolver over ``plugin``; a missing secret is a clear error and a
    ``security.secret_resolution_failed`` event (with the name, never a value)."""

    def resolve(ref: SecretRef) -> SecretStr:
        try:
            return plugin.resolve(ref.secret)
        except KeyError:
            events.security_event(events.SECRET_RESOLUTION_FAILED, secret=ref.secret,
                                  plugin=plugin.name, reason="missing")  # fmt: skip
            where = _WHERE.get(plugin.name, "the secret store")
            raise FloeError.single(
                E_SECRET,
                f"secret '{ref.secret}' is not available from the '{plugin.name}' secrets plugin",
                Location("manifest.yaml"),
                field_path="plugins.secrets",
                hint=f"provide {ref.secret} as {where}",
            ) from None
        except FloeError:
            events.security_event(events.SECRET_RESOLUTION_FAILED, secret=ref.secret,
                                  plugin=plugin.name, reason="unsupported")  # fmt: skip
            raise

    return resolve
