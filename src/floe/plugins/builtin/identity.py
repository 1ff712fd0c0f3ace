"""Identity: who is acting — the subject audit records and security events carry.

``local`` (the default, the embedded platform): ``$FLOE_USER`` when set (a CI job, a service
account), else the OS login name. ``static``: one fixed subject for every action of the
platform (a shared automation identity).
"""

from __future__ import annotations

import getpass
import os
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from floe.plugins.abcs import IdentityPlugin

UNKNOWN = "unknown"


class LocalIdentityConfig(BaseModel):
    """Settings of the local identity."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env_var: str = Field(
        default="FLOE_USER",
        description="Environment variable naming the subject; the OS login name when unset.",
    )


class LocalIdentityPlugin(IdentityPlugin[LocalIdentityConfig]):
    """The OS user (or ``$FLOE_USER``)."""

    name: ClassVar[str] = "local"
    version: ClassVar[str] = "0.1.0"
    description: ClassVar[str] = "The OS user, or $FLOE_USER when set"

    def principal(self) -> str:
        """``$<env_var>`` when set, else the login name (``unknown`` when there is none)."""
        named = os.environ.get(self.config.env_var, "").strip() if self.config.env_var else ""
        if named:
            return named
        try:
            return getpass.getuser()
        except (KeyError, OSError):
            return UNKNOWN


class StaticIdentityConfig(BaseModel):
    """Settings of the static identity."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    subject: str = Field(
        min_length=1, pattern=r"^\S+$", description="The subject every action is recorded as."
    )


class StaticIdentityPlugin(IdentityPlugin[StaticIdentityConfig]):
    """One configured subject."""

    name: ClassVar[str] = "static"
    version: ClassVar[str] = "0.1.0"
    description: ClassVar[str] = "A fixed subject named in the manifest"

    def principal(self) -> str:
        """The configured subject."""
        return self.config.subject
