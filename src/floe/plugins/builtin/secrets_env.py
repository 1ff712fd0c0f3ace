"""Secrets from environment variables (the default secrets plugin)."""

from __future__ import annotations

import os
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from floe.plugins.abcs import SecretsPlugin


class EnvSecretsConfig(BaseModel):
    """Settings of env secrets."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prefix: str = Field(default="", description="Prepended to every secret name.")


class EnvSecretsPlugin(SecretsPlugin[EnvSecretsConfig]):
    """``{secret: NAME}`` reads the environment variable ``<prefix>NAME``."""

    name: ClassVar[str] = "env"
    version: ClassVar[str] = "0.1.0"
    description: ClassVar[str] = "Secrets from environment variables"

    def resolve(self, name: str) -> SecretStr:
        """The variable's value; KeyError naming the variable when unset."""
        var = f"{self.config.prefix}{name}"
        if var not in os.environ:
            raise KeyError(var)
        return SecretStr(os.environ[var])
