"""Open a platform's Iceberg catalog from its chosen plugins, for one-off callers.

A run, and every command, holds one :class:`~floe.runtime.resolved.ResolvedPlugins`; these
functions build a throw-away one for callers that need a single thing once (tests, tools).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from floe.plugins.abcs import CatalogPlugin, StoragePlugin
from floe.runtime.home import PlatformHome
from floe.runtime.resolved import (
    E_CATALOG_AUTH,
    E_NO_CATALOG,
    DuckDBAccess,
    PluginChoice,
    ResolvedPlugins,
    plain,
)

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

__all__ = [
    "E_CATALOG_AUTH",
    "E_NO_CATALOG",
    "DuckDBAccess",
    "PluginChoice",
    "catalog_plugin",
    "catalog_properties",
    "duckdb_access",
    "open_catalog",
    "plain",
    "storage_plugin",
]


def catalog_plugin(plugins: Mapping[str, PluginChoice]) -> CatalogPlugin[Any]:
    """The configured catalog plugin."""
    return ResolvedPlugins(plugins).catalog_plugin


def storage_plugin(plugins: Mapping[str, PluginChoice]) -> StoragePlugin[Any] | None:
    """The configured storage plugin, if any."""
    return ResolvedPlugins(plugins).storage


def catalog_properties(plugins: Mapping[str, PluginChoice], home: PlatformHome) -> dict[str, str]:
    """PyIceberg properties from the catalog and storage plugins; secrets resolved here."""
    return ResolvedPlugins(plugins, home).catalog_properties()


def duckdb_access(plugins: Mapping[str, PluginChoice]) -> DuckDBAccess:
    """DuckDB access to the warehouse (nothing for local disk); secrets resolved here."""
    return ResolvedPlugins(plugins).duckdb_access


def open_catalog(plugins: Mapping[str, PluginChoice], home: PlatformHome) -> Catalog:
    """A PyIceberg catalog from chosen plugins (artifacts.plugins or a manifest's plugins)."""
    return ResolvedPlugins(plugins, home).catalog()
