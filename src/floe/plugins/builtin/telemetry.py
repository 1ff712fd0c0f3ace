"""Telemetry backends: where the spans of runs and compiles go.

``file`` (JSON lines in the platform home, the embedded default), ``otlp`` (gRPC or
HTTP/protobuf to a collector or Jaeger), ``console`` (stderr) and ``none``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from floe.plugins.abcs import TelemetryBackendPlugin
from floe.plugins.base import HealthStatus
from floe.plugins.builtin.probe import endpoint_health
from floe.spec.otlp import otlp_endpoint


class OtlpConfig(BaseModel):
    """Settings of the OTLP exporter."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    endpoint: str = Field(
        default="http://localhost:4318",
        description="Collector base URL (HTTP: /v1/traces is appended) or host:port for gRPC.",
    )
    protocol: Literal["grpc", "http/protobuf"] = "http/protobuf"
    timeout_seconds: float = Field(default=1.0, gt=0, le=30)


class OtlpTelemetryPlugin(TelemetryBackendPlugin[OtlpConfig]):
    """OTLP over HTTP/protobuf or gRPC."""

    name: ClassVar[str] = "otlp"
    version: ClassVar[str] = "0.1.0"
    description: ClassVar[str] = "Spans over OTLP (HTTP/protobuf or gRPC) to a collector"

    def exporter_settings(self) -> dict[str, Any]:
        """``exporter: otlp`` with endpoint, protocol and timeout."""
        return {"exporter": "otlp", **self.config.model_dump()}

    def health_check(self) -> HealthStatus:
        """The collector answers at the address the exporter dials (degraded when not)."""
        target = otlp_endpoint(self.config.endpoint, self.config.protocol)
        url = f"{target.scheme}://{target.host}:{target.port}"
        return endpoint_health(url, self.config.timeout_seconds, "spans")


class _FixedTelemetry(TelemetryBackendPlugin):
    """A backend without settings: only its exporter kind."""

    version: ClassVar[str] = "0.1.0"

    def exporter_settings(self) -> dict[str, Any]:
        """``exporter: <name>``."""
        return {"exporter": self.name}


class ConsoleTelemetryPlugin(_FixedTelemetry):
    """Spans printed as JSON on stderr."""

    name: ClassVar[str] = "console"
    description: ClassVar[str] = "Spans as JSON on stderr"


class FileTelemetryPlugin(_FixedTelemetry):
    """Spans as JSON lines in the platform home (read by ``floe traces show``)."""

    name: ClassVar[str] = "file"
    description: ClassVar[str] = "Spans as JSON lines in the platform home (embedded default)"


class NoTelemetryPlugin(_FixedTelemetry):
    """No spans are exported."""

    name: ClassVar[str] = "none"
    description: ClassVar[str] = "Tracing off"
