"""Local-disk warehouse under the platform home."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from floe.plugins.abcs import StoragePlugin


class LocalStorageConfig(BaseModel):
    """Settings of local storage."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str | None = Field(
        default=None, description="Warehouse directory; default: 'warehouse' in the platform home."
    )


class LocalStoragePlugin(StoragePlugin[LocalStorageConfig]):
    """A directory on this machine."""

    name: ClassVar[str] = "local"
    version: ClassVar[str] = "0.1.0"
    description: ClassVar[str] = "Iceberg warehouse on local disk (embedded platform)"

    def warehouse_location(self, home: Path) -> str:
        """``file://`` URI of the warehouse directory."""
        path = Path(self.config.path) if self.config.path else home / "warehouse"
        return path.resolve().as_uri()
