"""Lineage backends: where OpenLineage events go.

``file`` (JSON lines in the platform home, the embedded default), ``http``/``marquez``
(``POST <url>/api/v1/lineage``), ``console`` (stderr) and ``none``.

An ``http://`` URL is refused unless its host is the loopback (events and the API key would
cross the network in clear text); ``allow_insecure_http: true`` permits it knowingly (a
compile warning says so). ``drain_timeout`` bounds how long a run waits at its end for the
events still being sent.
"""

from __future__ import annotations

import ipaddress
from typing import Any, ClassVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from floe.plugins.abcs import LineageBackendPlugin
from floe.plugins.base import HealthStatus, PluginNotice
from floe.plugins.builtin.probe import endpoint_health
from floe.spec.common import SecretRef

#: How long a run waits for unsent lineage events when ``drain_timeout`` is not set.
DEFAULT_DRAIN_SECONDS = 0.5


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address (traffic that never leaves the machine)."""
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(
        ".localhost"
    ):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def insecure_host(url: str) -> str | None:
    """The host of an ``http://`` URL that leaves the machine; None for https or loopback."""
    parts = urlsplit(url)
    if parts.scheme != "http":
        return None
    host = parts.hostname or ""
    return None if is_loopback(host) else host


class HttpLineageConfig(BaseModel):
    """Settings of the OpenLineage HTTP transport."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # declared before `url`: the url check reads it
    allow_insecure_http: bool = Field(
        default=False,
        description="Permit an http:// url to a host other than the loopback "
        "(in-cluster demos and tests; use https:// in production).",
    )
    url: str = Field(default="http://localhost:5000", description="Base URL of the server.")
    endpoint: str = Field(default="api/v1/lineage", description="Path events are POSTed to.")
    api_key: SecretRef | None = Field(default=None, description="Bearer token, as {secret: NAME}.")
    timeout_seconds: float = Field(default=1.0, gt=0, le=30, description="Per request.")
    drain_timeout: float | None = Field(
        default=None,
        gt=0,
        le=600,
        description="Seconds a run waits at its end for events still being sent "
        f"(default {DEFAULT_DRAIN_SECONDS}); the run's outcome never depends on it.",
    )

    @field_validator("url")
    @classmethod
    def _secure_url(cls, url: str, info: ValidationInfo) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"'{url}' is not an http:// or https:// URL with a host")
        host = insecure_host(url)
        if host and not info.data.get("allow_insecure_http", False):
            raise ValueError(
                f"plain http:// to '{host}' is refused: events and the API key would cross "
                "the network unencrypted; use https://, or set 'allow_insecure_http: true' "
                "for an in-cluster demo or test"
            )
        return url.rstrip("/")


class HttpLineagePlugin(LineageBackendPlugin[HttpLineageConfig]):
    """OpenLineage over HTTP (any server speaking the API)."""

    name: ClassVar[str] = "http"
    version: ClassVar[str] = "0.1.0"
    description: ClassVar[str] = "OpenLineage events POSTed to /api/v1/lineage"

    def transport_settings(self) -> dict[str, Any]:
        """``transport: http`` with url, endpoint, api_key (a reference), timeout and the
        drain bound."""
        return {"transport": "http", **self.config.model_dump()}

    def health_check(self) -> HealthStatus:
        """The lineage server answers (degraded, not unhealthy, when it does not)."""
        return endpoint_health(self.config.url, self.config.timeout_seconds, "lineage events")

    def notices(self) -> list[PluginNotice]:
        """A warning when ``allow_insecure_http`` lets events leave the machine in clear."""
        host = insecure_host(self.config.url)
        if host is None:
            return []
        return [
            PluginNotice(
                ("url",),
                f"lineage events go to '{host}' over plain http:// (allow_insecure_http: true)",
                "use an https:// url outside in-cluster demos and tests",
            )
        ]


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
