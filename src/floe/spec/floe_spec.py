"""floe.yaml — one data product, written by its data team."""

# Annotations are objects here, not strings (no ``from __future__ import annotations``):
# pydantic would compile and evaluate each string when the module is imported.

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BeforeValidator, Field, StringConstraints, field_validator

from floe.spec.base import FloeModel, new_dict, new_list
from floe.spec.common import (
    EnforcementLevel,
    Metadata,
    Tier,
    check_cron,
    parse_duration,
    parse_size,
)

if TYPE_CHECKING:
    from floe.spec.ingestion import IngestionSource

ModelName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=255)]


class PlatformRef(FloeModel):
    """Which platform manifest this product runs on."""

    manifest: str = Field(description="Path of manifest.yaml, relative to this floe.yaml.")


class Transform(FloeModel):
    """One dbt model of the product and its place in the medallion architecture."""

    name: ModelName = Field(description="The dbt model name (its .sql file stem).")
    tier: Tier
    tags: list[str] = Field(default_factory=new_list)
    depends_on: list[ModelName] = Field(default_factory=new_list, alias="dependsOn")
    compute: str | None = Field(
        default=None,
        description="The engine this model runs on (duckdb, spark, …), one the manifest "
        "approves; default: the product's compute. Engines mixed in one product run in waves "
        "(docs/compute.md).",
    )
    description: str = ""


class Schedule(FloeModel):
    """When the product runs."""

    cron: str = "*/10 * * * *"
    timezone: str = "UTC"
    enabled: bool = True

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        return check_cron(value)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        from zoneinfo import available_timezones

        if value != "UTC" and value not in available_timezones():
            raise ValueError(f"unknown IANA timezone '{value}' (e.g. 'UTC', 'Europe/Berlin')")
        return value


class Retention(FloeModel):
    """Housekeeping of the product's Iceberg tables by its retention job (FR-031, FR-032).

    Rows whose ``column`` is older than the manifest's retention window are deleted; snapshots
    beyond the manifest's ``snapshot_keep_last`` are expired and their unreferenced files removed.
    """

    column: str | None = Field(
        default=None,
        description="Timestamp or date column deciding a row's age; unset: only expire snapshots.",
    )
    tables: list[ModelName] | None = Field(
        default=None, description="Seeds/models to clean (default: every table with the column)."
    )
    cron: str = Field(default="0 * * * *", description="When the retention job runs.")
    enabled: bool = True

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        return check_cron(value)


class Maintenance(FloeModel):
    """Maintenance of the product's Iceberg tables by its maintenance job: compaction of small
    data files, expiry of snapshots beyond the manifest's ``snapshot_keep_last``, removal of
    orphan files older than a safety window."""

    cron: str = Field(default="0 3 * * *", description="When the maintenance job runs.")
    enabled: bool = True
    target_file_size: str = Field(
        default="128MiB",
        description="Size compaction writes data files at; files under 3/4 of it are small.",
    )
    orphan_older_than: str = Field(
        default="3d",
        description="Files no snapshot references are deleted once older than this (e.g. 3d).",
    )

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        return check_cron(value)

    @field_validator("target_file_size")
    @classmethod
    def _size(cls, value: str) -> str:
        if parse_size(value) < 1024:
            raise ValueError(f"'{value}' is under 1 KiB: no useful data file size")
        return value

    @field_validator("orphan_older_than")
    @classmethod
    def _age(cls, value: str) -> str:
        parse_duration(value)
        return value


class Retry(FloeModel):
    """How often a failed run step is retried (transient errors only; failed tests never are)."""

    max_retries: int = Field(default=2, ge=0, le=10)
    delay_seconds: float = Field(default=5, ge=0, le=3600)
    backoff: Literal["constant", "exponential"] = "exponential"


class QualityGatesOverride(FloeModel):
    """Product-level quality gates: may only be stricter than the manifest's."""

    minimum_test_coverage: float | None = Field(default=None, ge=0, le=100)
    tier_test_coverage: dict[Tier, Annotated[float, Field(ge=0, le=100)]] = Field(
        default_factory=new_dict, description="Per-tier coverage; only above the platform's."
    )
    require_descriptions: bool | None = None
    block_on_failure: bool | None = None


class GovernanceOverride(FloeModel):
    """Product-level governance: may only be stricter than the platform's floor."""

    policy_enforcement_level: EnforcementLevel | None = None
    quality_gates: QualityGatesOverride | None = None


class PluginOverride(FloeModel):
    """A product's change to one platform plugin (only where the platform does not lock it)."""

    type: str | None = None
    version: str | None = None
    config: dict[str, Any] = Field(default_factory=new_dict)


class SourceProduct(FloeModel):
    """A dbt source whose tables another data product publishes."""

    name: str = Field(description="The dbt source name (``source('<name>', …)``).")
    product: str = Field(description="The data product publishing its tables.")


class EnvironmentOverride(FloeModel):
    """What changes in one environment (dev, staging, prod …)."""

    vars: dict[str, Any] = Field(
        default_factory=new_dict, description="dbt vars for this environment, over the top-level."
    )


def _one_expectation(value: Any) -> Any:
    if isinstance(value, dict) and len(value) != 1:
        raise ValueError(
            f"an entry holds one expectation, not {len(value)}: write each as its own item "
            "'- <expectation type>: {<argument>: <value>}'"
        )
    return value


#: One expectation: ``{<expectation type>: {<argument>: <value>, …}}`` (a single key).
Expectation = Annotated[dict[str, dict[str, Any]], BeforeValidator(_one_expectation)]


class Quality(FloeModel):
    """Checks beyond dbt tests, validated on each model's scratch table before it is published
    (the manifest's ``plugins.quality``, e.g. ``great_expectations``)."""

    expectations: dict[ModelName, list[Expectation]] = Field(
        default_factory=new_dict,
        description="Per model, its expectations: [{expect_column_values_to_not_be_null: "
        "{column: id}}, …]. A file <model>.expectations.yml beside the model's .sql may "
        "declare more ({expectations: [...]}).",
    )


class ExpectationsFile(FloeModel):
    """``<model>.expectations.yml`` beside a model's .sql: the model's expectations, in the
    form of floe.yaml's ``quality.expectations.<model>``."""

    expectations: list[Expectation] = Field(default_factory=new_list)


class FloeSpec(FloeModel):
    """A data product: its dbt models by tier, their dependencies and its schedule."""

    api_version: Literal["floe.dev/v1"] = Field(default="floe.dev/v1", alias="apiVersion")
    kind: Literal["FloeSpec"] = "FloeSpec"
    metadata: Metadata
    platform: PlatformRef | None = None
    compute: str | None = Field(
        default=None,
        description="The compute the product runs on (duckdb, spark, …); one the manifest "
        "approves (approved_compute). Default: the manifest's plugins.compute.",
    )
    transforms: list[Transform] = Field(min_length=1)
    schedule: Schedule | None = None
    retention: Retention = Field(default_factory=Retention.model_construct)
    maintenance: Maintenance = Field(default_factory=Maintenance.model_construct)
    retry: Retry = Field(default_factory=Retry.model_construct)
    governance: GovernanceOverride | None = None
    vars: dict[str, Any] = Field(
        default_factory=new_dict,
        description="dbt vars (over dbt_project.yml's defaults) passed to every dbt invocation.",
    )
    environments: dict[str, EnvironmentOverride] = Field(
        default_factory=new_dict, description="Per-environment overrides, e.g. {prod: {vars: …}}."
    )
    sources: list[SourceProduct] = Field(
        default_factory=new_list,
        description="dbt sources read from another product's Iceberg tables; a source not "
        "listed reads the namespace named by its dbt schema.",
    )
    plugins: dict[str, PluginOverride] | None = Field(
        default=None,
        description="Overrides of the manifest's plugin config; locked fields cannot change.",
    )
    quality: Quality = Field(
        default_factory=Quality.model_construct,
        description="Data-quality checks beyond dbt tests (FR-026), e.g. GX expectations.",
    )
    ingestion: list[dict[str, Any]] = Field(
        default_factory=new_list,
        description="External sources (rest_api, sql_database, filesystem) loaded into the "
        "product's raw Iceberg tables before dbt runs, by the manifest's ingestion plugin; "
        "each source is a dbt source, each resource one of its tables.",
        json_schema_extra=lambda schema: ingestion_items_schema(schema),
    )

    def ingestion_sources(self) -> "list[IngestionSource]":
        """The ``ingestion:`` sources, typed (validated by LOAD)."""
        if not self.ingestion:  # no import: the models stay unbuilt
            return []
        from floe.spec.ingestion import parse_sources

        return parse_sources(self.ingestion)


def ingestion_items_schema(schema: dict[str, Any]) -> None:
    """The JSON Schema of ``ingestion:`` items (floe.spec.ingestion, imported only when a
    schema is exported: its models are not built by a compile without ingestion)."""
    from floe.spec.ingestion import ingestion_json_schema

    ingestion_json_schema(schema)
