"""manifest.yaml — the platform, written once by the platform team."""

# Annotations are objects here, not strings (no ``from __future__ import annotations``):
# pydantic would compile and evaluate each string when the module is imported.

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from floe.spec.base import FloeModel, new_dict, new_list
from floe.spec.common import DnsName, EnforcementLevel, Metadata, PluginRef, SecretRef, Tier

#: The plugin categories, in the order floe shows them.
PLUGIN_CATEGORIES: tuple[str, ...] = (
    "compute",
    "orchestrator",
    "catalog",
    "storage",
    "telemetry_backend",
    "lineage_backend",
    "dbt",
    "semantic_layer",
    "ingestion",
    "quality",
    "secrets",
    "identity",
    "rbac",
    "network_security",
    "alert_channel",
)


class Plugins(FloeModel):
    """The platform's plugin choice per category (all optional except compute)."""

    compute: PluginRef = Field(default_factory=lambda: PluginRef(type="duckdb"))
    orchestrator: PluginRef | None = None
    catalog: PluginRef | None = None
    storage: PluginRef | None = None
    telemetry_backend: PluginRef | None = None
    lineage_backend: PluginRef | None = None
    dbt: PluginRef | None = None
    semantic_layer: PluginRef | None = None
    ingestion: PluginRef | None = None
    quality: PluginRef | None = None
    secrets: PluginRef | None = None
    identity: PluginRef | None = None
    rbac: PluginRef | None = None
    network_security: PluginRef | None = None
    alert_channel: PluginRef | None = None


class Tracing(FloeModel):
    """OpenTelemetry traces."""

    enabled: bool = True
    exporter: Literal["otlp", "console", "none", "file"] = "file"
    endpoint: str | None = None
    protocol: Literal["grpc", "http/protobuf"] | None = None
    service_name: str | None = None
    sample_ratio: float = Field(default=1.0, ge=0, le=1)


class Lineage(FloeModel):
    """OpenLineage events."""

    enabled: bool = True
    transport: Literal["http", "marquez", "file", "console", "none"] = "file"
    endpoint: str | None = None
    namespace: str | None = None


class Logging(FloeModel):
    """Structured logs."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["json", "console", "auto"] = "auto"

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class Metrics(FloeModel):
    """Prometheus metrics."""

    enabled: bool = True
    port: int = Field(default=9464, ge=1, le=65535)
    pushgateway: str | None = None


class Observability(FloeModel):
    """Traces, lineage, logs and metrics."""

    tracing: Tracing = Field(default_factory=Tracing.model_construct)
    lineage: Lineage = Field(default_factory=Lineage.model_construct)
    logging: Logging = Field(default_factory=Logging.model_construct)
    metrics: Metrics = Field(default_factory=Metrics.model_construct)


class QualityGates(FloeModel):
    """Test coverage and documentation gates."""

    minimum_test_coverage: float = Field(
        default=80, ge=0, le=100, description="Percent of each model's columns that have a test."
    )
    tier_test_coverage: dict[Tier, float] = Field(
        default_factory=new_dict, description="Per-tier override of minimum_test_coverage."
    )
    require_descriptions: bool = False
    block_on_failure: bool = False


class Naming(FloeModel):
    """Model naming by tier."""

    pattern: Literal["medallion", "custom", "none"] = "medallion"
    tiers: dict[Tier, str] = Field(
        default_factory=new_dict, description="Regex per tier (pattern: custom, or to refine)."
    )

    @field_validator("tiers")
    @classmethod
    def _regexes(cls, value: dict[str, str]) -> dict[str, str]:
        import re

        for tier, regex in value.items():
            try:
                re.compile(regex)
            except re.error as exc:
                raise ValueError(f"tier '{tier}': invalid regular expression: {exc}") from None
        return value


class Governance(FloeModel):
    """Policies every product on the platform is held to."""

    policy_enforcement_level: EnforcementLevel = "warn"
    audit_logging: Literal["enabled", "disabled"] = "enabled"
    data_retention_days: float | None = Field(default=None, gt=0)
    data_retention_hours: float | None = Field(default=None, gt=0)
    default_ttl_hours: float | None = Field(default=None, gt=0)
    snapshot_keep_last: int = Field(default=5, ge=1)
    stale_table_recovery_mode: Literal["strict", "repair"] = "strict"
    quality_gates: QualityGates = Field(default_factory=QualityGates.model_construct)
    naming: Naming = Field(default_factory=Naming.model_construct)


class ResourcePreset(FloeModel):
    """Kubernetes resources for a workload size."""

    cpu_request: str = "100m"
    cpu_limit: str = "1000m"
    memory_request: str = "256Mi"
    memory_limit: str = "1Gi"


ServiceKind = Literal[
    "polaris",
    "object_storage",
    "dagster",
    "marquez",
    "jaeger",
    "otel_collector",
    "prometheus",
    "grafana",
    "http",
]


class PlatformService(FloeModel):
    """A service of a deployed platform whose health ``floe platform status`` checks."""

    kind: ServiceKind = Field(
        description="What the service is; decides its health path (Polaris /q/health/ready, "
        "object storage /minio/health/ready, Dagster /server_info, Marquez /healthcheck, "
        "Jaeger /status, the collector's health extension /, Prometheus /-/ready, Grafana "
        "/api/health; http: /)."
    )
    url: str = Field(
        description="Base URL of the port that serves the health endpoint (Polaris: its "
        "management port 8182; Marquez: its admin port 5001; Jaeger and the collector: 13133)."
    )
    path: str | None = Field(default=None, description="Health path instead of the kind's.")


DatabaseName = Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_]{0,62}$")]


class MarquezDatabase(FloeModel):
    """Where the platform's Marquez keeps its data: a database of the platform's shared
    PostgreSQL (default), or a dedicated PostgreSQL server. The floe-platform chart reads it
    from the manifest it is installed with (docs/kubernetes.md)."""

    mode: Literal["shared", "dedicated"] = Field(
        default="shared",
        description="shared: a database of its own on the platform's PostgreSQL; dedicated: "
        "a PostgreSQL server of its own (host, user and password required).",
    )
    name: DatabaseName | None = Field(
        default=None,
        description="The database (default: the chart's postgresql.databases.marquez when "
        "shared, marquez when dedicated).",
    )
    host: str | None = Field(default=None, description="dedicated: the server's host name.")
    port: int = Field(default=5432, ge=1, le=65535, description="dedicated: the server's port.")
    user: str | None = Field(default=None, description="dedicated: the user Marquez logs in as.")
    password: SecretRef | None = Field(
        default=None,
        description="dedicated: the user's password, a secret reference (the chart reads it "
        "from the Secret marquez.existingSecret, key = the secret's name).",
    )

    @model_validator(mode="after")
    def _fields_of_the_mode(self) -> "MarquezDatabase":
        given = [f for f in ("host", "user", "password") if getattr(self, f) is not None]
        if self.mode == "dedicated":
            missing = [f for f in ("host", "user", "password") if f not in given]
            if missing:
                raise ValueError(f"mode dedicated needs {', '.join(missing)}")
        elif given:
            raise ValueError(f"{', '.join(given)}: only for mode dedicated (shared uses the "
                             "platform's PostgreSQL and its credentials)")  # fmt: skip
        return self


class Marquez(FloeModel):
    """The platform's OpenLineage server (the floe-platform chart's Marquez)."""

    database: MarquezDatabase = Field(default_factory=MarquezDatabase.model_construct)


class PlatformServices(FloeModel):
    """The services of a deployed platform (e.g. the floe-platform Helm chart)."""

    services: dict[str, PlatformService] = Field(default_factory=new_dict)
    marquez: Marquez = Field(
        default_factory=Marquez.model_construct,
        description="Marquez's database backend: the platform team's choice, read by the chart.",
    )


EnvName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,30}$")]


class Registry(FloeModel):
    """The OCI registry that holds the products' artifacts (docs/promotion.md)."""

    url: Annotated[
        str,
        StringConstraints(pattern=r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[a-z0-9]+([._-][a-z0-9]+)*)*$"),
    ] = Field(
        description="host[:port][/path]: each product is the repository <url>/<product name>."
    )
    insecure: bool = Field(
        default=False, description="Plain http instead of https (a registry on loopback)."
    )
    username: SecretRef | None = Field(
        default=None, description="Basic-auth user name, by secret reference."
    )
    password: SecretRef | None = Field(
        default=None, description="Basic-auth password, by secret reference."
    )


class TrustedKey(FloeModel):
    """A public key whose signatures the platform accepts."""

    name: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._@-]{1,64}$")]
    public_key: str = Field(description="Ed25519 public key, PEM (SubjectPublicKeyInfo).")


class Signing(FloeModel):
    """Signing of artifacts: the key that signs, the keys that are trusted."""

    key: SecretRef | None = Field(
        default=None, description="Ed25519 private key (PEM, PKCS#8), by secret reference."
    )
    key_name: str = Field(default="floe", description="The name a signature carries (keyid).")
    trusted_keys: list[TrustedKey] = Field(default_factory=new_list)


E_REGO = "E644"  # a Rego policy of artifacts.promotion.rego is missing or invalid


class Promotion(FloeModel):
    """The gates of `floe promote` that the platform configures (docs/promotion.md)."""

    advisories: str = Field(
        default="advisories.json",
        description="Offline advisory file (JSON, relative to the manifest): known "
        "vulnerabilities the locked dependencies are checked against. Missing: the gate "
        "errors and the promotion is blocked.",
    )
    rego: list[str] = Field(
        default_factory=new_list,
        description="Rego policy files (relative to the manifest) the 'rego' gate evaluates "
        "over the promotion's input document; floe queries data.<package>.deny, a set of "
        "messages: any message blocks. A missing file or a syntax error blocks too.",
    )
    approval_required: list[EnvName] = Field(
        default_factory=lambda: ["prod"],
        description="Environments a promotion into waits for a manual approval.",
    )
    approvers: list[str] = Field(
        default_factory=new_list, description="Who may approve or reject (FLOE_USER identities)."
    )


class Artifacts(FloeModel):
    """Where products' artifacts are pushed and how they are signed and promoted."""

    registry: Registry
    signing: Signing = Field(default_factory=Signing.model_construct)
    promotion: Promotion = Field(default_factory=Promotion.model_construct)


RoleName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,62}$")]
PrincipalName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,255}$")]


class TeamAccess(FloeModel):
    """What one team may do: the products whose namespaces it writes or reads."""

    principals: list[PrincipalName] = Field(
        default_factory=new_list,
        description="Catalog principals (service identities, the identity plugin's subjects) "
        "that act for the team.",
    )
    write: list[DnsName] = Field(
        default_factory=new_list,
        description="Products whose namespaces the team writes (and reads).",
    )
    read: list[DnsName] = Field(
        default_factory=new_list, description="Products whose namespaces the team only reads."
    )

    @model_validator(mode="after")
    def _disjoint(self) -> "TeamAccess":
        both = sorted(set(self.write) & set(self.read))
        if both:
            raise ValueError(f"{', '.join(both)}: listed under both write and read (write "
                             "includes read: keep it under write only)")  # fmt: skip
        return self


class Access(FloeModel):
    """Catalog access rules (FR-062): which team — and so which principals — may read or
    write which products' namespaces. The rbac plugin turns them into the catalog's roles and
    grants (`floe platform rbac apply`); a run whose principal may not write its product's
    namespace is refused before dbt runs."""

    teams: dict[RoleName, TeamAccess] = Field(
        default_factory=new_dict, description="Each team is one principal role of the catalog."
    )


class Manifest(FloeModel):
    """The platform: approved plugins, observability, governance, environments."""

    api_version: Literal["floe.dev/v1"] = Field(default="floe.dev/v1", alias="apiVersion")
    kind: Literal["Manifest"] = "Manifest"
    metadata: Metadata
    plugins: Plugins = Field(default_factory=Plugins.model_construct)
    approved_compute: list[str] | None = Field(
        default=None, description="Compute types products may choose (default: plugins.compute)."
    )
    compute_configs: dict[str, dict[str, Any]] = Field(
        default_factory=new_dict,
        description="Config of each approved compute other than plugins.compute, by type "
        "(e.g. {spark: {master: 'local[2]'}}); used when a floe.yaml chooses it.",
    )
    approved_plugins: dict[str, list[str]] = Field(
        default_factory=new_dict,
        description="Plugin types a product may switch to, per category "
        "(default: only the manifest's own choice).",
    )
    locked: list[str] = Field(
        default_factory=lambda: [
            "plugins.catalog",
            "plugins.storage",
            "plugins.secrets",
            "plugins.telemetry_backend",
            "plugins.lineage_backend",
            "plugins.rbac",  # a product may not switch off the catalog's access control
        ],
        description="Dotted paths a floe.yaml may not override.",
    )
    observability: Observability = Field(default_factory=Observability.model_construct)
    governance: Governance = Field(default_factory=Governance.model_construct)
    environments: dict[EnvName, dict[str, Any]] = Field(
        default_factory=new_dict,
        description="Per-environment overlays (dev/staging/prod): partial manifests merged on top.",
    )
    resource_presets: dict[str, ResourcePreset] = Field(default_factory=new_dict)
    platform: PlatformServices = Field(
        default_factory=PlatformServices.model_construct,
        description="A deployed platform's services, checked by `floe platform status`.",
    )
    artifacts: Artifacts | None = Field(
        default=None, description="OCI registry and signing for artifact promotion."
    )
    access: Access = Field(
        default_factory=Access.model_construct,
        description="Catalog access rules: teams, their principals and the products they "
        "read or write (plugins.rbac applies them).",
    )

    def compute_types(self) -> list[str]:
        """Compute plugin types products may use."""
        return self.approved_compute or [self.plugins.compute.type]
