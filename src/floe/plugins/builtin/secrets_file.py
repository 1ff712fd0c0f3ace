"""Secrets from files: a Kubernetes Secret mounted as a volume (one file per key)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from floe.plugins.abcs import SecretsPlugin
from floe.plugins.base import HealthState, HealthStatus


class FileSecretsConfig(BaseModel):
    """Settings of file secrets."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(
        default="/var/run/secrets/floe",
        description="Directory holding one file per secret (a mounted Kubernetes Secret).",
    )


class FileSecretsPlugin(SecretsPlugin[FileSecretsConfig]):
    """``{secret: NAME}`` reads the file ``<path>/NAME`` (one trailing newline dropped)."""

    name: ClassVar[str] = "file"
    version: ClassVar[str] = "0.1.0"
    description: ClassVar[str] = "Secrets from a mounted directory (Kubernetes Secret volume)"

    @property
    def folder(self) -> Path:
        """The secrets directory."""
        return Path(self.config.path)

    def resolve(self, name: str) -> SecretStr:
        """The file's content; KeyError naming the secret when there is no such file."""
        folder = self.folder.resolve()
        path = (folder / name).resolve()
        if path.parent != folder or not path.is_file():
            raise KeyError(name)
        text = path.read_text(encoding="utf-8")
        return SecretStr(text[:-1] if text.endswith("\n") else text)

    def health_check(self) -> HealthStatus:
        """The directory exists and is readable."""
        if self.folder.is_dir():
            return HealthStatus(HealthState.HEALTHY, f"{self.folder} readable")
        return HealthStatus(HealthState.UNHEALTHY, f"{self.folder} is not a directory")
