"""One abstract base class per plugin category.

The methods are the contract floe calls; they grow as capabilities are added, always
backwards compatible within a major version. Each ABC carries its own ``api_version``; a
plugin declares the version it was built for as ``floe_api_version`` (inherited from its ABC
when it does not), and the registry refuses a plugin whose major differs (E208).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import SecretStr

from floe.plugins.base import ConfigT, Plugin, PluginType, SecretResolver
from floe.spec.common import SecretRef

if TYPE_CHECKING:
    from floe.spec.ingestion import IngestionSource


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

    def bootstrap(self, resolve: SecretResolver) -> str:
        """Make the catalog exist (idempotent) and verify it; return what was done."""
        return "nothing to bootstrap"


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


@dataclass(frozen=True)
class DbtInvocation:
    """One dbt command as floe asks for it: ``dbt <args>`` on a project with its compiled
    profile, run artefacts and logs in ``target_path``, extra environment (resolved secret
    values, the scratch database) and the callbacks that receive each dbt event (objects with
    dbt's ``info``/``data`` attributes: ``event.info.name``, ``event.data.node_info``…)."""

    args: tuple[str, ...]
    project_dir: Path
    profiles_dir: Path
    target: str
    target_path: Path
    env: Mapping[str, str] = field(default_factory=dict)
    callbacks: tuple[Callable[[Any], None], ...] = ()

    def argv(self) -> list[str]:
        """The command line after ``dbt``: the args, then where the project, profile and
        artefacts are (``deps`` takes no target)."""
        argv = [
            *self.args,
            "--project-dir", str(self.project_dir),
            "--profiles-dir", str(self.profiles_dir),
            "--log-path", str(self.target_path),
        ]  # fmt: skip
        if self.args[0] != "deps":
            argv += ["--target", self.target, "--target-path", str(self.target_path)]
        return argv


@dataclass(frozen=True)
class DbtOutcome:
    """What became of an invocation: ``error`` when dbt itself broke (a failing model or test
    is not an error: it is in ``run_results.json``); ``result`` what dbt returned, if the
    plugin has it in process (dbt's ``dbtRunnerResult.result``)."""

    success: bool
    error: str | None = None
    result: Any = None


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
    """Serves metrics over the gold tables."""

    plugin_type: ClassVar[PluginType] = PluginType.SEMANTIC_LAYER
    api_version: ClassVar[str] = "1.0"
    floe_api_version: ClassVar[str] = api_version

    @abstractmethod
    def endpoint(self) -> str:
        """Where the semantic layer answers."""


@dataclass(frozen=True)
class IngestionRequest:
    """One resource of a floe.yaml ingestion source to load into the scratch DuckDB
    ``database`` (schema ``dataset``, table named as the resource): ``cursors`` are the
    incremental cursors published by earlier runs (cursor → last value; empty: a first load,
    from the resource's ``initial_value``); ``workdir`` a folder of its own, deleted after;
    ``base_dir`` the product directory (relative folders); ``resolve`` turns the source's
    secret references into values (at run time only)."""

    source: IngestionSource
    resource: str
    database: Path
    dataset: str
    workdir: Path
    base_dir: Path
    resolve: SecretResolver
    cursors: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class IngestionLoad:
    """What a load left in the scratch database: the table ``dataset.relation`` with the
    resource's rows (``rows`` of them) and the incremental cursors after it (cursor → last
    value; only the ones that moved or were given)."""

    resource: str
    relation: str
    rows: int
    cursors: Mapping[str, Any] = field(default_factory=dict)


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
    """Data-quality checks beyond dbt tests."""

    plugin_type: ClassVar[PluginType] = PluginType.QUALITY
    api_version: ClassVar[str] = "1.0"
    floe_api_version: ClassVar[str] = api_version

    @abstractmethod
    def check_names(self) -> list[str]:
        """Names of the checks it provides."""


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


class RBACPlugin(Plugin[ConfigT], ABC):
    """Who may do what."""

    plugin_type: ClassVar[PluginType] = PluginType.RBAC
    api_version: ClassVar[str] = "1.0"
    floe_api_version: ClassVar[str] = api_version

    @abstractmethod
    def roles_for(self, product: str) -> list[dict[str, Any]]:
        """Role definitions for a product's workloads."""


@dataclass(frozen=True, order=True)
class Destination:
    """One host:port a product's pods must reach, and why: ``purpose`` (catalog, storage,
    tracing, …) and ``source``, the config path that declared it."""

    purpose: str
    host: str
    port: int
    source: str


@dataclass(frozen=True)
class NetworkScope:
    """What ``floe k8s generate`` worked out for one product's workloads, handed to the
    network_security plugin: where they run, which labels select their pods, which labels
    the generated resources carry, and every destination they must reach (DNS aside)."""

    product: str
    namespace: str
    selector: Mapping[str, str]
    labels: Mapping[str, str]
    destinations: tuple[Destination, ...] = ()
    cluster_domain: str = "cluster.local"


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
