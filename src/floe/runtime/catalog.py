"""Open a product's Iceberg catalog through the catalog and storage plugins."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from floe import events
from floe.errors import FloeError, Location
from floe.plugins.abcs import CatalogPlugin, StoragePlugin
from floe.plugins.base import PluginType, SecretResolver
from floe.plugins.registry import default_registry
from floe.runtime.home import PlatformHome
from floe.runtime.secrets import secret_resolver

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

    from floe.spec.common import SecretRef

E_NO_CATALOG = "E501"
E_CATALOG_AUTH = "E532"


class PluginChoice(Protocol):
    """A chosen plugin: ``artifacts.plugins[...]`` or ``manifest.plugins.<category>``."""

    @property
    def type(self) -> str: ...

    @property
    def config(self) -> dict[str, Any]: ...


def catalog_plugin(plugins: Mapping[str, PluginChoice]) -> CatalogPlugin:
    """The configured catalog plugin."""
    ref = plugins.get("catalog")
    if ref is None:
        raise FloeError.single(
            E_NO_CATALOG,
            "the platform manifest configures no catalog plugin",
            Location("manifest.yaml"),
            field_path="plugins.catalog",
            hint="add 'plugins: {catalog: {type: sql}}' for the embedded platform",
        )
    plugin = default_registry().create(PluginType.CATALOG, ref.type, dict(ref.config))
    assert isinstance(plugin, CatalogPlugin)
    return plugin


def storage_plugin(plugins: Mapping[str, PluginChoice]) -> StoragePlugin | None:
    """The configured storage plugin, if any."""
    ref = plugins.get("storage")
    if ref is None:
        return None
    plugin = default_registry().create(PluginType.STORAGE, ref.type, dict(ref.config))
    assert isinstance(plugin, StoragePlugin)
    return plugin


def catalog_properties(
    plugins: Mapping[str, PluginChoice],
    home: PlatformHome,
    resolve: SecretResolver | None = None,
) -> dict[str, str]:
    """PyIceberg properties from the catalog and storage plugins; secrets resolved here."""
    resolve = resolve or secret_resolver(plugins)
    props = dict(catalog_plugin(plugins).catalog_properties(home.root, resolve))
    storage = storage_plugin(plugins)
    if storage is not None:
        props.setdefault("warehouse", storage.warehouse_location(home.root))
        props.update(storage.fileio_properties(resolve))
    else:
        props.setdefault("warehouse", home.warehouse.resolve().as_uri())
    return props


@dataclass(frozen=True)
class DuckDBAccess:
    """How DuckDB reads the warehouse: the resolved secret values dbt's profile looks up
    (``env_var`` name → value) and the statements floe's own scratch connection runs first."""

    env: dict[str, str] = field(default_factory=dict)
    setup: tuple[str, ...] = ()


def duckdb_access(plugins: Mapping[str, PluginChoice]) -> DuckDBAccess:
    """DuckDB access to the warehouse (nothing for local disk); secrets resolved here."""
    from floe.runtime.scratch import create_secret_sql

    storage = storage_plugin(plugins)
    if storage is None:
        return DuckDBAccess()
    resolve = secret_resolver(plugins)
    env: dict[str, str] = {}

    def value(ref: SecretRef) -> str:
        env[ref.secret] = plain(resolve(ref))
        return env[ref.secret]

    secret = storage.duckdb_secret(value)
    if secret is None:
        return DuckDBAccess()
    return DuckDBAccess(env, (create_secret_sql("floe_storage", secret),))


def plain(value: object) -> str:
    """A resolved secret as text (resolvers may hand out pydantic SecretStr)."""
    reveal = getattr(value, "get_secret_value", None)
    return str(reveal() if callable(reveal) else value)


def open_catalog(plugins: Mapping[str, PluginChoice], home: PlatformHome) -> Catalog:
    """A PyIceberg catalog from resolved plugins (artifacts.plugins or a manifest's plugins)."""
    from pyiceberg.catalog import load_catalog
    from pyiceberg.exceptions import (
        AuthorizationExpiredError,
        ForbiddenError,
        OAuthError,
        UnauthorizedError,
    )

    from floe.runtime.locks import exclusive

    home.ensure()
    props = catalog_properties(plugins, home)
    name = str(props.pop("name", "floe"))
    try:
        with exclusive(home.root / "catalog.lock"):  # the first opening creates its tables
            return load_catalog(name, **props)
    except (UnauthorizedError, ForbiddenError, AuthorizationExpiredError, OAuthError) as exc:
        kind = type(exc).__name__
        events.security_event(events.CATALOG_AUTH_FAILED, catalog=name, error=kind)
        raise FloeError.single(
            E_CATALOG_AUTH,
            f"the catalog '{name}' refused floe's credentials ({kind})",
            Location("manifest.yaml"),
            field_path="plugins.catalog.config",
            hint="check the credential's secret reference and its value in the secrets store",
        ) from None
