"""CompiledArtifacts 0.6.0 — the one contract between compile and everything that runs."""

# Annotations are objects here, not strings (no ``from __future__ import annotations``):
# pydantic would compile and evaluate each string when the module is imported.

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from floe.spec.base import FloeModel, new_dict, new_list
from floe.spec.common import EnforcementLevel, Tier
from floe.spec.floe_spec import ingestion_items_schema
from floe.spec.manifest import Governance, Observability

if TYPE_CHECKING:
    from floe.spec.ingestion import IngestionSource

ARTIFACTS_VERSION = "0.6.0"


class ArtifactMetadata(FloeModel):
    """What was compiled, from which inputs, by which floe."""

    product: str
    version: str
    owner: str
    description: str = ""
    labels: dict[str, str] = Field(default_factory=new_dict)
    namespace: str = Field(description="Iceberg namespace of the product's tables.")
    source_hash: str = Field(
        description="sha256 over floe.yaml, manifest.yaml and the dbt project."
    )
    floe_version: str


class ResolvedPlugin(FloeModel):
    """A plugin after RESOLVE: secrets are references ({secret: NAME}), never values."""

    type: str
    version: str
    config: dict[str, Any] = Field(default_factory=new_dict)


class ColumnArtifact(FloeModel):
    """A documented column of a model."""

    name: str
    description: str = ""
    data_type: str | None = None
    tests: list[str] = Field(default_factory=new_list)


class TransformArtifact(FloeModel):
    """One dbt model, resolved."""

    name: str
    unique_id: str
    tier: Tier
    tags: list[str] = Field(default_factory=new_list)
    depends_on: list[str] = Field(default_factory=new_list)
    seeds: list[str] = Field(default_factory=new_list, description="Seeds the model reads.")
    compute: str
    materialization: str
    unique_key: list[str] = Field(default_factory=new_list)
    description: str = ""
    path: str
    columns: list[ColumnArtifact] = Field(default_factory=new_list)
    tests: list[str] = Field(
        default_factory=new_list, description="Model-level and singular tests."
    )
    contract_enforced: bool = False


class SeedArtifact(FloeModel):
    """A raw input (dbt seed)."""

    name: str
    unique_id: str
    path: str
    columns: list[str] = Field(default_factory=new_list)


class SourceArtifact(FloeModel):
    """A dbt source read from another product's Iceberg namespace."""

    name: str
    product: str
    namespace: str


class ScheduleArtifact(FloeModel):
    """When the product runs."""

    cron: str
    timezone: str
    enabled: bool


class RetentionArtifact(FloeModel):
    """The retention job: the product's choice of column and schedule, the platform's limits."""

    column: str | None
    tables: list[str] | None
    cron: str
    enabled: bool
    window_hours: float | None = Field(description="Rows older than this are deleted; None: keep.")
    snapshot_keep_last: int


class MaintenanceArtifact(FloeModel):
    """The maintenance job: the product's schedule and sizes, the platform's snapshot limit."""

    cron: str = "0 3 * * *"
    enabled: bool = True
    target_file_bytes: int = Field(default=128 * 1024 * 1024, description="Compaction target.")
    orphan_older_than_seconds: float = Field(
        default=3 * 86400.0, description="Unreferenced files younger than this are kept."
    )
    snapshot_keep_last: int = 5


class RetryArtifact(FloeModel):
    """Retry policy of the product's run step."""

    max_retries: int
    delay_seconds: float
    backoff: Literal["constant", "exponential"]


class DbtArtifact(FloeModel):
    """How to run dbt for this product.

    ``project_dir`` is relative to the product directory (the dbt project sits beside
    floe.yaml); ``profiles_dir`` is relative to the directory holding the artifacts. Neither
    ever encodes where the machine keeps them.
    """

    project_name: str
    profile: str
    target: str
    project_dir: str = "."
    profiles_dir: str = "."
    vars: dict[str, Any] = Field(
        default_factory=new_dict, description="dbt --vars of the environment (floe.yaml)."
    )


class Violation(FloeModel):
    """One policy finding."""

    code: str
    policy: str
    severity: Literal["error", "warning", "info"]
    location: str
    message: str
    hint: str = ""
    model: str | None = None


class SchemaChange(FloeModel):
    """One difference between a table's live Iceberg schema and what the SQL now produces."""

    table: str
    column: str
    change: Literal[
        "dropped",
        "renamed",
        "type_narrowed",
        "type_changed",
        "added",
        "type_widened",
        "partition_spec",
        "sort_order",
    ] = Field(description="partition_spec/sort_order: old → new layout (column: its columns).")
    old: str | None = None
    new: str | None = None
    breaking: bool


class SchemaGate(FloeModel):
    """The breaking-change gate (FR-094): the SQL's output schemas against the live tables."""

    checked: bool = Field(
        default=False, description="A live schema was given (the product's tables were read)."
    )
    live_schema_sha256: str | None = Field(
        default=None, description="sha256 of the live schema input (canonical JSON)."
    )
    tables_compared: list[str] = Field(default_factory=new_list)
    tables_not_derived: list[str] = Field(
        default_factory=new_list,
        description="Live tables whose new columns the SQL did not reveal.",
    )
    changes: list[SchemaChange] = Field(default_factory=new_list)
    override_reason: str | None = Field(
        default=None, description="--allow-breaking --reason: breaking changes accepted."
    )


class EnforcementResultSummary(FloeModel):
    """The ENFORCE stage's verdict; always present, also when enforcement is off."""

    passed: bool
    error_count: int
    warning_count: int
    policy_types_checked: list[str]
    models_validated: int
    enforcement_level: EnforcementLevel
    test_coverage: float = Field(description="Percent of documented columns with a test.")
    model_test_coverage: float = Field(description="Percent of models with at least one test.")
    violations: list[Violation] = Field(default_factory=new_list)
    schema_gate: SchemaGate = Field(default_factory=SchemaGate.model_construct)


class QualityCheckArtifact(FloeModel):
    """One declared quality check of a model (an expectation): type, arguments, and where it
    is declared (``floe.yaml:12:9``, relative to the product)."""

    type: str
    kwargs: dict[str, Any] = Field(default_factory=new_dict)
    where: str = ""


class CompiledArtifacts(FloeModel):
    """Everything a run needs, reproducible byte for byte from the same inputs."""

    version: Literal["0.6.0"] = "0.6.0"
    metadata: ArtifactMetadata
    environment: str
    plugins: dict[str, ResolvedPlugin]
    computes: dict[str, ResolvedPlugin] = Field(
        default_factory=new_dict,
        description="The compute of transforms on another engine than plugins.compute, by type "
        "(floe.yaml transforms[].compute; config from the manifest's compute_configs).",
    )
    transforms: list[TransformArtifact]
    seeds: list[SeedArtifact]
    sources: list[SourceArtifact] = Field(default_factory=new_list)
    schedule: ScheduleArtifact
    retention: RetentionArtifact
    maintenance: MaintenanceArtifact = Field(default_factory=MaintenanceArtifact.model_construct)
    retry: RetryArtifact
    dbt: DbtArtifact
    observability: Observability
    governance: Governance
    enforcement_result: EnforcementResultSummary
    quality: dict[str, list[QualityCheckArtifact]] = Field(
        default_factory=new_dict,
        description="Per model, the checks the quality plugin validates before publishing.",
    )
    ingestion: list[dict[str, Any]] = Field(
        default_factory=new_list,
        description="floe.yaml's ingestion sources (secrets as references), loaded before dbt.",
        json_schema_extra=lambda schema: ingestion_items_schema(schema),
    )

    def compute_of(self, name: str) -> str:
        """The engine a transform (a model) runs on; seeds, snapshots and any model that is no
        transform run on the product's compute."""
        for transform in self.transforms:
            if transform.name == name:
                return transform.compute
        return self.plugins["compute"].type

    def dbt_target(self, compute: str) -> str:
        """The dbt target (profile output) of an engine: the environment's name for the
        product's compute, ``<environment>_<compute>`` for another."""
        if compute == self.plugins["compute"].type:
            return self.dbt.target
        return f"{self.dbt.target}_{compute}"

    def ingestion_sources(self) -> "list[IngestionSource]":
        """The ingestion sources, typed."""
        if not self.ingestion:  # no import: the models stay unbuilt
            return []
        from floe.spec.ingestion import parse_sources

        return parse_sources(self.ingestion)

    def source_namespaces(self) -> dict[str, str]:
        """dbt source name → the Iceberg namespace its tables are read from: another
        product's (floe.yaml ``sources:``) or, for an ingestion source, the product's own."""
        own = {str(s["name"]): self.metadata.namespace for s in self.ingestion}
        return own | {s.name: s.namespace for s in self.sources}
