"""One abstract base class per plugin category.

The methods are the contract floe calls; they grow as capabilities are added, always
backwards compatible within a major version. Each ABC carries its own ``api_version``; a
plugin declares the version it was built for as ``floe_api_version`` (inherited from its ABC
when it does not), and the registry refuses a plugin whose major differs (E208).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from floe.plugins.base import ConfigT, Plugin, PluginType, SecretResolver, TokenSource

if TYPE_CHECKING:
    from pydantic import SecretStr

    from floe.plugins.access import AccessPlan
    from floe.plugins.records import (
        CheckResult,
        DbtInvocation,
        DbtOutcome,
        IngestionLoad,
        IngestionRequest,
        NetworkScope,
        QualityCheck,
        SemanticModel,
        SemanticValidation,
    )
    from floe.spec.common import SecretRef
    from floe.spec.manifest import Access

#: The values plugins exchange with floe, still importable from here (floe.plugins.records).
_RECORDS = frozenset(
    {
        "CheckResult", "DbtInvocation", "DbtOutcome", "Destination", "IngestionLoad",
        "IngestionRequest", "NetworkScope", "QualityCheck", "SemanticColumn", "SemanticLoaded",
        "SemanticModel", "SemanticProblem", "SemanticValidation",
    }
)  # fmt: skip


def __getattr__(name: str) -> Any:
    """``floe.plugins.abcs.DbtInvocation`` & co., imported from floe.plugins.records on use."""
    if name in _RECORDS:
        from floe.plugins import records

        return getattr(records, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class ComputePlugin(Plugin[ConfigT], ABC):
    """Runs dbt SQL: produces the dbt profile output for its adapter."""

    plugin_type: ClassVar[PluginType] = PluginType.COMPUTE
    api_version: ClassVar[str] = "1.0"
    floe_api_version: ClassVar[str] = api_version

    @abstractmethod
    def dbt_profile_output(self, *, product: str) -> dict[str, Any]:
        """The ``outputs.<target>`` entry of profiles.yml (no secret values, no machine paths)."""


class OrchestratorPlugin(Plugin[ConfigT], ABC):
    """Schedules and runs data products."""

    plugin_type: ClassVar[PluginType] = PluginType.ORCHESTRATOR
    api_version: ClassVar[str] = "1.0"
    floe_api_version: ClassVar[str] = api_version

    @abstractmethod
    def default_schedule(self) -> str:
        """The cron used when floe.yaml sets no schedule."""


class CatalogPlugin(Plugin[ConfigT], ABC):
    """An Apache Iceberg catalog."""

    plugin_type: ClassVar[PluginType] = PluginType.CATALOG
    api_version: ClassVar[str] = "1.0"
    floe_api_version: ClassVar[str] = api_version

    @abstractmethod
    def catalog_properties(self, home: Path, resolve: SecretResolver) -> dict[str, str]:
        """PyIceberg ``load_catalog`` properties; ``resolve`` turns a SecretRef into its value
        (only at run time — never call it while compiling)."""

    #: The catalog takes OAuth2 bearer tokens: when the platform's identity issues them
    #: (``oidc``), floe authenticates every catalog request with the identity's tokens.
    bearer_auth: ClassVar[bool] = False

    def bootstrap(self, resolve: SecretResolver, tokens: TokenSource | None = None) -> str:
        """Make the catalog exist (idempotent) and verify it; return what was done.
        ``tokens``: the identity's bearer tokens, when it issues them (``bearer_auth``)."""
        return "nothing to bootstrap"

    def token_source(self, resolve: SecretResolver) -> TokenSource | None:
        """Bearer tokens from the catalog's own credentials (Polaris ``oauth2``), if any —
        for its management API when the identity issues none."""
        return None


class StoragePlugin(Plugin[ConfigT], ABC):
    """Object storage holding the Iceberg warehouse."""

    plugin_type: ClassVar[PluginType] = PluginType.STORAGE
    api_version: ClassVar[str] = "1.0"
    floe_api_version: ClassVar[str] = api_version

    @abstractmethod
    def warehouse_location(self, home: Path) -> str:
        """The warehouse URI (``file://…`` or ``s3://…``)."""

    def fileio_properties(self, resolve: SecretResolver) -> dict[str, str]:
        """PyIceberg FileIO properties (``s3.*`` …); none for local disk."""
        return {}

    def duckdb_secret(self, value: Callable[[SecretRef], str]) -> dict[str, str] | None:
        """Parameters of the DuckDB secret that lets the compute engine read the warehouse
        (``type`` first), each secret reference rendered by ``value``; None for local disk.

        COMPILE renders references as dbt ``env_var`` lookups (the profile holds no value);
        the runtime renders them with the resolved values for its own connection.
        """
        return None


class TelemetryBackendPlugin(Plugin[ConfigT], ABC):
    """Where OpenTelemetry traces go."""

    plugin_type: ClassVar[PluginType] = PluginType.TELEMETRY_BACKEND
    api_version: ClassVar[str] = "1.0"
    floe_api_version: ClassVar[str] = api_version

    @abstractmethod
    def exporter_settings(self) -> dict[str, Any]:
        """Settings of the span exporter."""


class LineageBackendPlugin(Plugin[ConfigT], ABC):
    """Where OpenLineage events go."""

    plugin_type: ClassVar[PluginType] = PluginType.LINEAGE_BACKEND
    api_version: ClassVar[str] = "1.0"
    floe_api_version: ClassVar[str] = api_version

    @abstractmethod
    def transport_settings(self) -> dict[str, Any]:
        """Settings of the OpenLineage transport."""


class DbtPlugin(Plugin[ConfigT], ABC):
    """How dbt is invoked for a run (in floe's process, in a process of its own…)."""

    plugin_type: ClassVar[PluginType] = PluginType.DBT
    api_version: ClassVar[str] = "1.0"
    floe_api_version: ClassVar[str] = api_version

    @abstractmethod
    def invoke(self, invocation: DbtInvocation) -> DbtOutcome:
        """Run ``dbt <invocation.argv()>`` to its end, feeding every dbt event to the
        invocation's callbacks."""


class SemanticLayerPlugin(Plugin[ConfigT], ABC):
    """Serves metrics over the gold tables: writes the semantic layer's data model from the
    gold models and validates it with the semantic layer's own loader."""

    plugin_type: ClassVar[PluginType] = PluginType.SEMANTIC_LAYER
    api_version: ClassVar[str] = "1.0"
    floe_api_version: ClassVar[str] = api_version

    @abstractmethod
    def data_model(self, models: list[SemanticModel]) -> dict[str, str]:
        """The data-model files (relative path → text) for ``models``; the same models give
        the same bytes."""

    def validate(self, directory: Path) -> SemanticValidation:
        """Load the files written into ``directory`` as the semantic layer would (nothing to
        load: nothing loaded, no problem)."""
        from floe.plugins.records import SemanticValidation

        return SemanticValidation()


class IngestionPlugin(Plugin[ConfigT], ABC):
    """Loads external sources into the scratch engine; floe audits and publishes the loaded
    tables to the product's raw Iceberg tables (write–audit–publish)."""

    plugin_type: ClassVar[PluginType] = PluginType.INGESTION
    api_version: ClassVar[str] = "1.0"
    floe_api_version: ClassVar[str] = api_version

    @abstractmethod
    def sources(self) -> list[str]:
        """The source types it loads (floe.yaml ``ingestion[].type``)."""

    @abstractmethod
    def load(self, request: IngestionRequest) -> IngestionLoad:
        """Load one resource into ``request.database``; raise on failure (nothing is
        published then)."""


class QualityPlugin(Plugin[ConfigT], ABC):
    """Data-quality checks beyond dbt tests, in the audit step of write–audit–publish: after
    a model's dbt tests pass, its declared checks are validated on the scratch table; a
    failing check keeps the model (and what is built on it) unpublished.

    API 2.0: ``validate`` was added (1.0 only named the checks)."""

    plugin_type: ClassVar[PluginType] = PluginType.QUALITY
    api_version: ClassVar[str] = "2.0"
    floe_api_version: ClassVar[str] = api_version

    @abstractmethod
    def check_names(self) -> list[str]:
        """The check types a product may declare (compile refuses any other); empty when the
        plugin takes no declarations."""

    @abstractmethod
    def validate(self, table: str, data: Any, checks: Sequence[QualityCheck]) -> list[CheckResult]:
        """Validate ``data`` — the model's scratch table as a ``pyarrow.Table``, before it is
        published as Iceberg table ``table`` — against ``checks``: one result per check, in
        order. A check that cannot be evaluated is a failed result saying why, not an
        exception."""


class SecretsPlugin(Plugin[ConfigT], ABC):
    """Resolves secret references at run time."""

    plugin_type: ClassVar[PluginType] = PluginType.SECRETS
    api_version: ClassVar[str] = "1.0"
    floe_api_version: ClassVar[str] = api_version

    @abstractmethod
    def resolve(self, name: str) -> SecretStr:
        """The secret's value (a SecretStr, unwrapped only where it is used); raise KeyError
        when it does not exist."""


class IdentityPlugin(Plugin[ConfigT], ABC):
    """Who a user or workload is."""

    plugin_type: ClassVar[PluginType] = PluginType.IDENTITY
    api_version: ClassVar[str] = "1.0"
    floe_api_version: ClassVar[str] = api_version

    @abstractmethod
    def principal(self) -> str:
        """The current principal."""

    def token_source(self, resolve: SecretResolver) -> TokenSource | None:
        """OAuth2 bearer tokens for the platform's services when this identity issues them
        (``oidc``); its subject then replaces :meth:`principal`. None by default."""
        return None


class RBACPlugin(Plugin[ConfigT], ABC):
    """Who may do what."""

    plugin_type: ClassVar[PluginType] = PluginType.RBAC
    api_version: ClassVar[str] = "1.0"
    floe_api_version: ClassVar[str] = api_version
    #: The plugin manages the catalog's access (False: ``none``, nothing is asked of it).
    manages_access: ClassVar[bool] = False

    @abstractmethod
    def roles_for(self, product: str) -> list[dict[str, Any]]:
        """Role definitions for a product's workloads."""

    def plan(self, access: Access, tokens: TokenSource | None) -> AccessPlan:
        """The manifest's ``access:`` rules against the catalog's live roles and grants:
        what :meth:`apply` would create (missing) and remove (drift). Nothing by default."""
        from floe.plugins.access import AccessPlan

        return AccessPlan()

    def apply(self, plan: AccessPlan, tokens: TokenSource | None) -> None:
        """Carry out ``plan`` (from :meth:`plan`) in the catalog."""

    def may_write(self, principal: str, namespace: str, tokens: TokenSource | None) -> bool:
        """Whether ``principal`` may write tables of ``namespace`` (asked before each run);
        True by default."""
        return True


class NetworkSecurityPlugin(Plugin[ConfigT], ABC):
    """Network isolation of a product's workloads."""

    plugin_type: ClassVar[PluginType] = PluginType.NETWORK_SECURITY
    api_version: ClassVar[str] = "1.0"
    floe_api_version: ClassVar[str] = api_version

    @abstractmethod
    def policies_for(self, scope: NetworkScope) -> list[dict[str, Any]]:
        """The Kubernetes resources (NetworkPolicies, …) isolating the workloads of
        ``scope``; an empty list adds none."""


class AlertChannelPlugin(Plugin[ConfigT], ABC):
    """Tells people when a run fails."""

    plugin_type: ClassVar[PluginType] = PluginType.ALERT_CHANNEL
    api_version: ClassVar[str] = "1.0"
    floe_api_version: ClassVar[str] = api_version

    @abstractmethod
    def send(self, alert: dict[str, Any]) -> None:
        """Deliver one alert (never raise on delivery failure)."""


ABC_BY_TYPE: dict[PluginType, type[Plugin]] = {
    PluginType.COMPUTE: ComputePlugin,
    PluginType.ORCHESTRATOR: OrchestratorPlugin,
    PluginType.CATALOG: CatalogPlugin,
    PluginType.STORAGE: StoragePlugin,
    PluginType.TELEMETRY_BACKEND: TelemetryBackendPlugin,
    PluginType.LINEAGE_BACKEND: LineageBackendPlugin,
    PluginType.DBT: DbtPlugin,
    PluginType.SEMANTIC_LAYER: SemanticLayerPlugin,
    PluginType.INGESTION: IngestionPlugin,
    PluginType.QUALITY: QualityPlugin,
    PluginType.SECRETS: SecretsPlugin,
    PluginType.IDENTITY: IdentityPlugin,
    PluginType.RBAC: RBACPlugin,
    PluginType.NETWORK_SECURITY: NetworkSecurityPlugin,
    PluginType.ALERT_CHANNEL: AlertChannelPlugin,
}


def abc_api_version(ptype: PluginType) -> str:
    """The API version of the ABC of ``ptype`` in this floe."""
    return str(ABC_BY_TYPE[ptype].__dict__["api_version"])
