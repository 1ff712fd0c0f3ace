"""Open the product's Iceberg catalog from the compiled artifacts, through the plugins."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from floe.errors import FloeError, Location
from floe.plugins.abcs import CatalogPlugin, StoragePlugin
from floe.plugins.base import PluginType
from floe.plugins.registry import default_registry
from floe.runtime.home import PlatformHome
from floe.runtime.secrets import resolve_secrets

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

E_NO_CATALOG = "E501"


class _Ref(Protocol):
    @property
    def type(self) -> str: ...

    @property
    def config(self) -> dict[str, Any]: ...


def catalog_properties(plugins: Mapping[str, _Ref], home: PlatformHome) -> dict[str, str]:
    """PyIceberg properties from the catalog and storage plugins; secrets resolved here."""
    registry = default_registry()
    cat_ref = plugins.get("catalog")
    if cat_ref is None:
        raise FloeError.single(
            E_NO_CATALOG,
            "the platform manifest configures no catalog plugin",
            Location("manifest.yaml"),
            field_path="plugins.catalog",
            hint="add 'plugins: {catalog: {type: sql}}' for the embedded platform",
        )
    catalog = registry.create(PluginType.CATALOG, cat_ref.type, dict(cat_ref.config))
    assert isinstance(catalog, CatalogPlugin)
    props = dict(catalog.catalog_properties(home.root))
    store_ref = plugins.get("storage")
    if store_ref is not None:
        storage = registry.create(PluginType.STORAGE, store_ref.type, dict(store_ref.config))
        assert isinstance(storage, StoragePlugin)
        props.setdefault("warehouse", storage.warehouse_location(home.root))
        props.update(_string_props(getattr(storage, "fileio_properties", dict)()))
    else:
        props.setdefault("warehouse", home.warehouse.resolve().as_uri())
    resolved: dict[str, str] = resolve_secrets(props, plugins)
    return resolved


def _string_props(props: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in dict(props).items()}


def open_catalog(plugins: Mapping[str, _Ref], home: PlatformHome) -> Catalog:
    """A PyIceberg catalog from resolved plugins (artifacts.plugins or a manifest's plugins)."""
    from pyiceberg.catalog import load_catalog

    home.ensure()
    props = catalog_properties(plugins, home)
    name = str(props.pop("name", "floe"))
    return load_catalog(name, **props)
