"""One abstract base class per plugin category.

The methods are the contract floe calls; they grow as capabilities are added, always
backwards compatible within a major version. Each ABC carries its own ``api_version``; a
plugin declares the version it was built for as ``floe_api_version`` (inherited from its ABC
when it does not), and the registry refuses a plugin whose major differs (E208).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import SecretStr

from floe.plugins.access import AccessPlan
from floe.plugins.base import ConfigT, Plugin, PluginType, SecretResolver, TokenSource
from floe.spec.common import SecretRef
from floe.spec.manifest import Access

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
            if "--target" not in self.args:  # a run of engines mixed names each wave's
                argv += ["--target", self.target]
            argv += ["--target-path", str(self.target_path)]
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


@dataclass(frozen=True)
class SemanticColumn:
    """A column of a model the semantic layer serves: ``data_type`` in floe's canonical
    spelling (``long``, ``string``, ``decimal(18,2)``, ``timestamp``…; None when unknown),
    its dbt tests by name and its dbt ``meta``."""

    name: str
    data_type: str | None = None
    description: str = ""
    tests: tuple[str, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class SemanticModel:
    """A gold model: the warehouse table it is published as (``namespace.table``), its
    columns, the dbt ``unique_key`` and ``meta`` of the model."""

    name: str
    table: str
    description: str = ""
    columns: tuple[SemanticColumn, ...] = ()
    unique_key: tuple[str, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class SemanticProblem:
    """What the semantic layer's own loader refused: the file, the model it describes (when
    known) and the loader's message."""

    file: str
    model: str | None
    message: str


@dataclass(frozen=True)
class SemanticLoaded:
    """A model as the semantic layer loaded it: its members and their types there."""

    model: str
    dimensions: Mapping[str, str] = field(default_factory=dict)
    measures: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SemanticValidation:
    """What the semantic layer's loader made of the data model."""

    loaded: tuple[SemanticLoaded, ...] = ()
    problems: tuple[SemanticProblem, ...] = ()


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
        return SemanticValidation()


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


@dataclass(frozen=True)
class QualityCheck:
    """One check a product declares for a model: its type (a name of the plugin's
    :meth:`QualityPlugin.check_names`), its arguments, and where it is declared
    (``floe.yaml:12:9``, for the messages)."""

    type: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    where: str = ""

    @property
    def label(self) -> str:
        """How reports name it: ``type(column=amount)`` (its column, if it has one)."""
        column = self.kwargs.get("column")
        return f"{self.type}(column={column})" if column is not None else self.type


@dataclass(frozen=True)
class CheckResult:
    """What one check found: whether it passed, the column it was about, and a short account
    (unexpected values, counts, or why it could not be evaluated)."""

    check: QualityCheck
    success: bool
    detail: str = ""

    @property
    def name(self) -> str:
        """The check's label (what the run summary, lineage and metrics show)."""
        return self.check.label

    @property
    def column(self) -> str | None:
        """The column the check is about (None: the table)."""
        column = self.check.kwargs.get("column")
        return None if column is None else str(column)


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
        return AccessPlan()

    def apply(self, plan: AccessPlan, tokens: TokenSource | None) -> None:
        """Carry out ``plan`` (from :meth:`plan`) in the catalog."""

    def may_write(self, principal: str, namespace: str, tokens: TokenSource | None) -> bool:
        """Whether ``principal`` may write tables of ``namespace`` (asked before each run);
        True by default."""
        return True


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
