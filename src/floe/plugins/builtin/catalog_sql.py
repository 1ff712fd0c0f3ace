"""Iceberg SQL catalog (PyIceberg SqlCatalog): SQLite under the platform home, or PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from floe.plugins.abcs import CatalogPlugin
from floe.plugins.base import HealthState, HealthStatus, SecretResolver


class SqlCatalogConfig(BaseModel):
    """Settings of the SQL catalog."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(default="floe", description="Catalog name.")
    uri: str | None = Field(
        default=None,
        description="SQLAlchemy URI; default: SQLite file catalog.db in the platform home.",
    )


class SqlCatalogPlugin(CatalogPlugin):
    """PyIceberg SqlCatalog."""

    name: ClassVar[str] = "sql"
    version: ClassVar[str] = "0.1.0"
    description: ClassVar[str] = "Iceberg SQL catalog (SQLite by default, PostgreSQL URI accepted)"
    config_model: ClassVar[type[BaseModel]] = SqlCatalogConfig

    @property
    def settings(self) -> SqlCatalogConfig:
        """The validated config."""
        assert isinstance(self.config, SqlCatalogConfig)
        return self.config

    def catalog_properties(self, home: Path, resolve: SecretResolver) -> dict[str, str]:
        """PyIceberg properties: the URI, creating the catalog tables on first use."""
        uri = self.settings.uri or f"sqlite:///{(home / 'catalog.db').as_posix()}"
        return {
            "name": self.settings.name,
            "type": "sql",
            "uri": uri,
            "init_catalog_tables": "true",
        }

    def health_check(self) -> HealthStatus:
        """A SQLite file's directory must be writable; other databases are checked on connect."""
        uri = self.settings.uri
        if uri is None:
            return HealthStatus(HealthState.HEALTHY, "SQLite catalog.db in the platform home")
        if not uri.startswith("sqlite:///"):
            return HealthStatus(HealthState.HEALTHY, "external database; checked on connect")
        folder = Path(uri.removeprefix("sqlite:///")).parent
        if os.access(folder, os.W_OK):
            return HealthStatus(HealthState.HEALTHY, f"{folder} writable")
        return HealthStatus(HealthState.UNHEALTHY, f"{folder} is not writable")
