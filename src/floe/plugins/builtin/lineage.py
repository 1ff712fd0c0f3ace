"""Lineage backends: where OpenLineage events go.

``file`` (JSON lines in the platform home, the embedded default), ``http``/``marquez``
(``POST <url>/api/v1/lineage``), ``console`` (stderr) and ``none``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from floe.plugins.abcs import LineageBackendPlugin
from floe.spec.common import SecretRef


class HttpLineageConfig(BaseModel):
    """Settings of the OpenLineage HTTP transport."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(default="http://localhost:5000", description="Base URL of the server.")
    endpoint: str = Field(default="api/v1/lineage", description="Path events are POSTed to.")
    api_key: SecretRef | None = Field(default=None, description="Bearer token, as {secret: NAME}.")
    timeout_seconds: float = Field(default=1.0, gt=0, le=30)


class HttpLineagePlugin(LineageBackendPlugin[HttpLineageConfig]):
    """OpenLineage over HTTP (any server speaking the API)."""

    name: ClassVar[str] = "http"
    version: ClassVar[str] = "0.1.0"
    description: ClassVar[str] = "OpenLineage events POSTed to /api/v1/lineage"

    def transport_settings(self) -> dict[str, Any]:
        """``transport: http`` with url, endpoint, api_key (a reference) and timeout."""
        return {"transport": "http", **self.config.model_dump()}


class MarquezLineagePlugin(HttpLineagePlugin):
    """OpenLineage over HTTP to Marquez."""

    name: ClassVar[str] = "marquez"
    description: ClassVar[str] = "OpenLineage events to Marquez (/api/v1/lineage)"


class _FixedLineage(LineageBackendPlugin):
    """A backend without settings: only its transport kind."""

    version: ClassVar[str] = "0.1.0"

    def transport_settings(self) -> dict[str, Any]:
        """``transport: <name>``."""
        return {"transport": self.name}


class FileLineagePlugin(_FixedLineage):
    """Events as JSON lines in the platform home (read by ``floe lineage show``)."""

    name: ClassVar[str] = "file"
    description: ClassVar[str] = "OpenLineage events as JSON lines in the platform home"


class ConsoleLineagePlugin(_FixedLineage):
    """Events printed on stderr."""

    name: ClassVar[str] = "console"
    description: ClassVar[str] = "OpenLineage events as JSON on stderr"


class NoLineagePlugin(_FixedLineage):
    """No lineage events."""

    name: ClassVar[str] = "none"
    description: ClassVar[str] = "Lineage off"
