"""Dagster orchestration: each data product is its own code location."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from floe.plugins.abcs import OrchestratorPlugin
from floe.spec.common import check_cron


class DagsterConfig(BaseModel):
    """Settings of the Dagster orchestrator."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default_schedule: str = Field(default="*/10 * * * *", description="Cron when none is set.")
    max_concurrent_runs: int = Field(default=2, ge=1)

    @field_validator("default_schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        return check_cron(value)


class DagsterOrchestratorPlugin(OrchestratorPlugin[DagsterConfig]):
    """Dagster (dagster-dbt assets, schedules, sensors)."""

    name: ClassVar[str] = "dagster"
    version: ClassVar[str] = "0.1.0"
    description: ClassVar[str] = "Dagster code location per product (dagster-dbt assets)"

    def default_schedule(self) -> str:
        """The manifest's default cron."""
        return self.config.default_schedule
