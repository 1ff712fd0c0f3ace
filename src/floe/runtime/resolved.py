"""The platform's plugins, resolved once: the one object a run (or a command) holds.

Built from the chosen plugins (``artifacts.plugins`` or a manifest's ``plugins:``) and the
platform home. Each plugin is created through the registry at most once, the secret
resolver once, the Iceberg catalog opened once, DuckDB's access to the warehouse worked out
once; the run's catalog, storage, secrets, telemetry, lineage and alert channel all come
from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

from floe import events
from floe.errors import FloeError, Location
from floe.plugins.abcs import (
    AlertChannelPlugin,
    CatalogPlugin,
    DbtPlugin,
    IdentityPlugin,
    IngestionPlugin,
    LineageBackendPlugin,
    NetworkSecurityPlugin,
    QualityPlugin,
    RBACPlugin,
    SecretsPlugin,
    StoragePlugin,
    TelemetryBackendPlugin,
)
from floe.plugins.base import Plugin, PluginType, SecretResolver, TokenSource
from floe.plugins.registry import PluginRegistry, default_registry
from floe.runtime.home import PlatformHome
from floe.runtime.secrets import resolver_for

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

    from floe.spec.common import SecretRef

E_NO_CATALOG = "E501"
#: What a category without a choice gets (the others: none).
DEFAULTS: dict[PluginType, str] = {
    PluginType.SECRETS: "env",
    PluginType.DBT: "core",
    PluginType.NETWORK_SECURITY: "k8s",
    PluginType.IDENTITY: "local",
    PluginType.QUALITY: "dbt",
    PluginType.RBAC: "none",
}
E_CATALOG_AUTH = "E532"


class PluginChoice(Protocol):
    """A chosen plugin: ``artifacts.plugins[...]`` or ``manifest.plugins.<category>``."""

    @property
    def type(self) -> str: ...

    @property
    def config(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class DuckDBAccess:
    """How DuckDB reads the warehouse: the resolved secret values dbt's profile looks up
    (``env_var`` name → value) and the statements floe's own scratch connection runs first."""

    env: dict[str, str] = field(default_factory=dict)
    setup: tuple[str, ...] = ()


class ResolvedPlugins:
    """The chosen plugins of one platform, each created once, with what is derived from them."""

    def __init__(
        self,
        choices: Mapping[str, PluginChoice],
        home: PlatformHome | None = None,
        registry: PluginRegistry | None = None,
    ) -> None:
        self.choices = dict(choices)
        self._home = home
        self._registry = registry
        self._made: dict[PluginType, Plugin | None] = {}
        self._catalog: Catalog | None = None
        #: Namespaces the run's principal was found allowed to write (asked once per run).
        self.writable: set[str] = set()

    def reuse(self, other: ResolvedPlugins) -> ResolvedPlugins:
        """Take over what ``other`` already created for the same choices on the same home: its
        plugins, and its opened catalog when catalog, storage, secrets and identity (whose
        tokens may authenticate the catalog) are chosen alike (the live-schema read's
        plugins, handed to the run of the product's own choices)."""
        if other._home != self._home:
            return self
        same = {
            p for p in PluginType if _same(self.choices.get(p.value), other.choices.get(p.value))
        }
        for ptype, plugin in other._made.items():
            if ptype in same:
                self._made.setdefault(ptype, plugin)
        reach = {PluginType.CATALOG, PluginType.STORAGE, PluginType.SECRETS, PluginType.IDENTITY}
        if self._catalog is None and reach <= same:
            self._catalog = other._catalog
        return self

    @property
    def home(self) -> PlatformHome:
        """The platform home (needed for the catalog and the warehouse)."""
        if self._home is None:
            raise ValueError("these plugins were resolved without a platform home")
        return self._home

    def plugin(self, ptype: PluginType) -> Plugin | None:
        """The plugin chosen for ``ptype`` (created on first use), None when none is chosen;
        ``secrets`` defaults to ``env``, ``dbt`` to ``core``, ``network_security`` to
        ``k8s``, ``identity`` to ``local``, ``quality`` to ``dbt`` (:data:`DEFAULTS`)."""
        if ptype not in self._made:
            ref = self.choices.get(ptype.value)
            if ref is not None:
                name, config = ref.type, dict(ref.config)
            elif ptype in DEFAULTS:
                name, config = DEFAULTS[ptype], {}
            else:
                self._made[ptype] = None
                return None
            registry = self._registry or default_registry()
            self._made[ptype] = registry.create(ptype, name, config)
        return self._made[ptype]

    def _typed(self, ptype: PluginType, abc: Any) -> Any:
        """The plugin for ``ptype``, checked to implement its category's ``abc``."""
        plugin = self.plugin(ptype)
        assert plugin is None or isinstance(plugin, abc)
        return plugin

    @property
    def catalog_plugin(self) -> CatalogPlugin[Any]:
        """The catalog plugin (E501 when the manifest configures none)."""
        plugin: CatalogPlugin[Any] | None
        plugin = self._typed(PluginType.CATALOG, CatalogPlugin)
        if plugin is None:
            raise FloeError.single(
                E_NO_CATALOG,
                "the platform manifest configures no catalog plugin",
                Location("manifest.yaml"),
                field_path="plugins.catalog",
                hint="add 'plugins: {catalog: {type: sql}}' for the embedded platform",
            )
        return plugin

    @property
    def storage(self) -> StoragePlugin[Any] | None:
        """The storage plugin, if any (none: the home's local warehouse)."""
        plugin: StoragePlugin[Any] | None
        plugin = self._typed(PluginType.STORAGE, StoragePlugin)
        return plugin

    @property
    def secrets(self) -> SecretsPlugin[Any]:
        """The secrets plugin (``env`` when none is chosen)."""
        plugin: SecretsPlugin[Any] | None
        plugin = self._typed(PluginType.SECRETS, SecretsPlugin)
        assert plugin is not None
        return plugin

    @property
    def dbt(self) -> DbtPlugin[Any]:
        """How the run invokes dbt (``core``, in process, when none is chosen)."""
        plugin: DbtPlugin[Any] | None = self._typed(PluginType.DBT, DbtPlugin)
        assert plugin is not None
        return plugin

    @property
    def network_security(self) -> NetworkSecurityPlugin[Any]:
        """How a product's workloads are isolated (``k8s`` NetworkPolicies when none is
        chosen)."""
        plugin: NetworkSecurityPlugin[Any] | None
        plugin = self._typed(PluginType.NETWORK_SECURITY, NetworkSecurityPlugin)
        assert plugin is not None
        return plugin

    @property
    def identity(self) -> IdentityPlugin[Any]:
        """Who is acting (``local``, the OS user, when none is chosen)."""
        plugin: IdentityPlugin[Any] | None = self._typed(PluginType.IDENTITY, IdentityPlugin)
        assert plugin is not None
        return plugin

    @property
    def quality(self) -> QualityPlugin[Any]:
        """What audits a model beyond its dbt tests (``dbt``, nothing more, when none is
        chosen)."""
        plugin: QualityPlugin[Any] | None = self._typed(PluginType.QUALITY, QualityPlugin)
        assert plugin is not None
        return plugin

    @property
    def rbac(self) -> RBACPlugin[Any]:
        """Catalog access control (``none`` when none is chosen)."""
        plugin: RBACPlugin[Any] | None = self._typed(PluginType.RBAC, RBACPlugin)
        assert plugin is not None
        return plugin

    @cached_property
    def identity_tokens(self) -> TokenSource | None:
        """The identity's bearer tokens (``oidc``), one cache for the whole run; None when
        the identity issues none."""
        return self.identity.token_source(self.resolve)

    @cached_property
    def tokens(self) -> TokenSource | None:
        """Bearer tokens for the catalog's management API: the identity's, else the catalog
        plugin's own credentials (Polaris ``oauth2``), else None."""
        if self.identity_tokens is not None:
            return self.identity_tokens
        plugin = self._typed(PluginType.CATALOG, CatalogPlugin)
        return None if plugin is None else plugin.token_source(self.resolve)

    def principal(self) -> str:
        """Who is acting — what audit records carry and what access is checked for: the
        subject of the identity's tokens when it issues them, else its principal."""
        tokens = self.identity_tokens
        return tokens.subject() if tokens is not None else self.identity.principal()

    @property
    def ingestion(self) -> IngestionPlugin[Any] | None:
        """The ingestion plugin, if the platform chooses one."""
        plugin: IngestionPlugin[Any] | None = self._typed(PluginType.INGESTION, IngestionPlugin)
        return plugin

    @property
    def telemetry(self) -> TelemetryBackendPlugin[Any] | None:
        """The telemetry backend plugin, if any."""
        plugin: TelemetryBackendPlugin[Any] | None = self._typed(
            PluginType.TELEMETRY_BACKEND, TelemetryBackendPlugin
        )
        return plugin

    @property
    def lineage(self) -> LineageBackendPlugin[Any] | None:
        """The lineage backend plugin, if any."""
        plugin: LineageBackendPlugin[Any] | None = self._typed(
            PluginType.LINEAGE_BACKEND, LineageBackendPlugin
        )
        return plugin

    @property
    def alert_channel(self) -> AlertChannelPlugin[Any] | None:
        """The alert channel plugin, if any."""
        plugin: AlertChannelPlugin[Any] | None = self._typed(
            PluginType.ALERT_CHANNEL, AlertChannelPlugin
        )
        return plugin

    @cached_property
    def resolve(self) -> SecretResolver:
        """Resolves ``{secret: NAME}`` references through the secrets plugin."""
        return resolver_for(self.secrets)

    def warehouse_location(self) -> str:
        """Where the tables' files live (the storage plugin's, else the home's warehouse)."""
        storage = self.storage
        if storage is not None:
            return storage.warehouse_location(self.home.root)
        return self.home.warehouse.resolve().as_uri()

    def catalog_properties(self) -> dict[str, str]:
        """PyIceberg properties from the catalog and storage plugins; secrets resolved here."""
        props = dict(self.catalog_plugin.catalog_properties(self.home.root, self.resolve))
        props.setdefault("warehouse", self.warehouse_location())
        if self.storage is not None:
            props.update(self.storage.fileio_properties(self.resolve))
        return props

    def catalog(self) -> Catalog:
        """The PyIceberg catalog, opened on first use and then reused."""
        if self._catalog is None:
            self._catalog = self._open_catalog()
        return self._catalog

    def _open_catalog(self) -> Catalog:
        from pyiceberg.catalog import load_catalog
        from pyiceberg.exceptions import (
            AuthorizationExpiredError,
            ForbiddenError,
            OAuthError,
            UnauthorizedError,
        )

        from floe.runtime.locks import exclusive

        self.home.ensure()
        props: dict[str, Any] = self.catalog_properties()
        name = str(props.pop("name", "floe"))
        if self.catalog_plugin.bearer_auth and self.identity_tokens is not None:
            from floe.runtime.iceberg_auth import with_token_auth

            props = with_token_auth(props, self.identity_tokens)
        try:
            with exclusive(self.home.root / "catalog.lock"):  # the first opening creates tables
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

    @cached_property
    def duckdb_access(self) -> DuckDBAccess:
        """DuckDB's access to the warehouse (nothing for local disk); secrets resolved here."""
        from floe.runtime.scratch import create_secret_sql

        storage = self.storage
        if storage is None:
            return DuckDBAccess()
        env: dict[str, str] = {}

        def value(ref: SecretRef) -> str:
            env[ref.secret] = plain(self.resolve(ref))
            return env[ref.secret]

        secret = storage.duckdb_secret(value)
        if secret is None:
            return DuckDBAccess()
        return DuckDBAccess(env, (create_secret_sql("floe_storage", secret),))


def _same(a: PluginChoice | None, b: PluginChoice | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.type == b.type and dict(a.config) == dict(b.config)


def plain(value: object) -> str:
    """A resolved secret as text (resolvers may hand out pydantic SecretStr)."""
    reveal = getattr(value, "get_secret_value", None)
    return str(reveal() if callable(reveal) else value)
