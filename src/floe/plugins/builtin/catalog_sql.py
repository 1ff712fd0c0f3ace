"""Iceberg SQL catalog (PyIceberg SqlCatalog): SQLite under the platform home, or PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field

from floe.plugins.abcs import CatalogPlugin
from floe.plugins.base import HealthState, HealthStatus, SecretResolver
from floe.spec.common import SecretRef


class SqlCatalogConfig(BaseModel):
    """Settings of the SQL catalog."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(default="floe", description="Catalog name.")
    uri: str | SecretRef | None = Field(
        default=None,
        description="SQLAlchemy URI; default: SQLite file catalog.db in the platform home. "
        "A URI holding credentials is itself a secret: {secret: NAME}.",
    )
    password: SecretRef | None = Field(
        default=None, description="Database password, put into the URI at run time."
    )


def with_password(uri: str, password: str) -> str:
    """``postgresql+psycopg://user@host/db`` with the (URL-quoted) password in its userinfo."""
    parts = urlsplit(uri)
    if not parts.username:
        raise ValueError("the catalog uri needs a user name to carry a password (user@host)")
    host = parts.netloc.rsplit("@", 1)[-1]
    userinfo = f"{parts.username}:{quote(password, safe='')}"
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{host}"))


class SqlCatalogPlugin(CatalogPlugin[SqlCatalogConfig]):
    """PyIceberg SqlCatalog."""

    name: ClassVar[str] = "sql"
    version: ClassVar[str] = "0.1.0"
    description: ClassVar[str] = "Iceberg SQL catalog (SQLite by default, PostgreSQL URI accepted)"

    def catalog_properties(self, home: Path, resolve: SecretResolver) -> dict[str, str]:
        """PyIceberg properties: the URI, creating the catalog tables on first use."""
        cfg = self.config
        uri = cfg.uri or f"sqlite:///{(home / 'catalog.db').as_posix()}"
        if isinstance(uri, SecretRef):
            uri = resolve(uri).get_secret_value()
        if cfg.password is not None:
            uri = with_password(uri, resolve(cfg.password).get_secret_value())
        return {
            "name": self.config.name,
            "type": "sql",
            "uri": uri,
            "init_catalog_tables": "true",
        }

    def health_check(self) -> HealthStatus:
        """A SQLite file's directory must be writable; other databases are checked on connect."""
        uri = self.config.uri
        if isinstance(uri, SecretRef):
            return HealthStatus(HealthState.HEALTHY, "URI from a secret; checked on connect")
        if uri is None:
            return HealthStatus(HealthState.HEALTHY, "SQLite catalog.db in the platform home")
        if not uri.startswith("sqlite:///"):
            return HealthStatus(HealthState.HEALTHY, "external database; checked on connect")
        folder = Path(uri.removeprefix("sqlite:///")).parent
        if os.access(folder, os.W_OK):
            return HealthStatus(HealthState.HEALTHY, f"{folder} writable")
        return HealthStatus(HealthState.UNHEALTHY, f"{folder} is not writable")
