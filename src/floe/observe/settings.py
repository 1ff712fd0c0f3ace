"""Where telemetry and lineage go for a run: manifest, then plugin, then standard variables.

Precedence (lowest first): ``observability.tracing`` / ``observability.lineage`` of the
manifest, the ``telemetry_backend`` / ``lineage_backend`` plugin when one is configured, then
the variables users expect to work everywhere: ``OTEL_SDK_DISABLED``,
``OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT``, ``OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL``,
``OTEL_SERVICE_NAME``, ``OPENLINEAGE_URL``, ``OPENLINEAGE_API_KEY``, ``OPENLINEAGE_DISABLED``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlsplit

from floe.spec.otlp import OtlpEndpoint, default_protocol, otlp_endpoint

if TYPE_CHECKING:
    from floe.plugins.abcs import TelemetryBackendPlugin
    from floe.runtime.resolved import ResolvedPlugins
    from floe.spec.artifacts import CompiledArtifacts

DEFAULT_TIMEOUT = 1.0
DEFAULT_DRAIN = 0.5


class TraceTarget(NamedTuple):
    """The span exporter of a run."""

    exporter: str  # file | otlp | console | none
    service_name: str
    endpoint: str | None = None
    protocol: str = "http/protobuf"
    timeout_seconds: float = DEFAULT_TIMEOUT
    sample_ratio: float = 1.0

    @property
    def otlp(self) -> OtlpEndpoint:
        """Where the OTLP exporter sends (the same address a NetworkPolicy opens)."""
        return otlp_endpoint(self.endpoint, self.protocol)

    @property
    def otlp_url(self) -> str:
        """The URL the OTLP exporter is given (``/v1/traces`` appended for HTTP)."""
        return self.otlp.url


class LineageTarget(NamedTuple):
    """The OpenLineage transport of a run."""

    transport: str  # file | http | console | none
    namespace: str
    url: str | None = None
    endpoint: str = "api/v1/lineage"
    api_key: str | None = None
    timeout_seconds: float = DEFAULT_TIMEOUT
    #: How long the end of a run waits for events still being sent (``drain_timeout``).
    drain_seconds: float = DEFAULT_DRAIN


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def trace_target(
    artifacts: CompiledArtifacts,
    env: Mapping[str, str] | None = None,
    plugins: ResolvedPlugins | None = None,
) -> TraceTarget:
    """The span exporter for runs of ``artifacts``' product (``plugins``: the run's)."""
    env = os.environ if env is None else env
    cfg = artifacts.observability.tracing
    service = cfg.service_name or f"floe-{artifacts.metadata.product}"
    target = TraceTarget(
        exporter=cfg.exporter if cfg.enabled else "none",
        service_name=service,
        endpoint=cfg.endpoint,
        protocol=cfg.protocol or default_protocol(cfg.endpoint),
        sample_ratio=cfg.sample_ratio,
    )
    backend = _telemetry(artifacts, plugins)
    plugin = backend.exporter_settings() if backend is not None else None
    if plugin is not None:
        target = target._replace(
            exporter=str(plugin["exporter"]),
            endpoint=plugin.get("endpoint", target.endpoint),
            protocol=plugin.get("protocol", target.protocol),
            timeout_seconds=float(plugin.get("timeout_seconds", target.timeout_seconds)),
        )
    return _trace_env(target, env)


def _telemetry(
    artifacts: CompiledArtifacts, plugins: ResolvedPlugins | None
) -> TelemetryBackendPlugin[Any] | None:
    """The telemetry backend plugin of ``plugins``, else of ``artifacts`` (none chosen: none,
    without resolving any plugin — a compile exports its spans without loading the runtime)."""
    if plugins is None:
        if "telemetry_backend" not in artifacts.plugins:
            return None
        from floe.runtime.resolved import ResolvedPlugins

        plugins = ResolvedPlugins(artifacts.plugins)
    return plugins.telemetry


def _split_url(url: str | None) -> tuple[str | None, str | None]:
    """``http://host:5000/api/v1/lineage`` → (``http://host:5000``, ``api/v1/lineage``)."""
    if not url:
        return None, None
    parts = urlsplit(url)
    if parts.path.strip("/") and parts.scheme:
        return f"{parts.scheme}://{parts.netloc}", parts.path.strip("/")
    return url, None


def _trace_env(target: TraceTarget, env: Mapping[str, str]) -> TraceTarget:
    if _truthy(env.get("OTEL_SDK_DISABLED")):
        return target._replace(exporter="none")
    protocol = env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL"
    )
    if protocol in ("grpc", "http/protobuf"):
        target = target._replace(protocol=protocol)
    endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    if endpoint:
        target = target._replace(exporter="otlp", endpoint=endpoint)
    if env.get("OTEL_SERVICE_NAME"):
        target = target._replace(service_name=env["OTEL_SERVICE_NAME"])
    return target


def lineage_target(
    artifacts: CompiledArtifacts,
    env: Mapping[str, str] | None = None,
    plugins: ResolvedPlugins | None = None,
) -> LineageTarget:
    """The OpenLineage transport for runs of ``artifacts``' product (secrets resolved here;
    ``plugins``: the run's)."""
    env = os.environ if env is None else env
    if plugins is None:
        from floe.runtime.resolved import ResolvedPlugins

        plugins = ResolvedPlugins(artifacts.plugins)
    cfg = artifacts.observability.lineage
    transport = "http" if cfg.transport == "marquez" else cfg.transport
    url, path = _split_url(cfg.endpoint)
    target = LineageTarget(
        transport=transport if cfg.enabled else "none",
        namespace=cfg.namespace or artifacts.metadata.product,
        url=url,
        endpoint=path or "api/v1/lineage",
    )
    backend = plugins.lineage
    plugin = backend.transport_settings() if backend is not None else None
    if plugin is not None:
        kind = str(plugin["transport"])
        target = target._replace(
            transport="http" if kind == "marquez" else kind,
            url=plugin.get("url", target.url),
            endpoint=str(plugin.get("endpoint", target.endpoint)).lstrip("/"),
            api_key=None if env.get("OPENLINEAGE_API_KEY") else _resolve_key(plugins, plugin),
            timeout_seconds=float(plugin.get("timeout_seconds", target.timeout_seconds)),
            drain_seconds=float(plugin.get("drain_timeout") or target.drain_seconds),
        )
    return _lineage_env(target, env)


def _resolve_key(plugins: ResolvedPlugins, plugin: dict[str, Any]) -> str | None:
    ref = plugin.get("api_key")
    if not ref:
        return None
    from floe.spec.common import SecretRef

    return plugins.resolve(SecretRef.model_validate(ref)).get_secret_value()


def _lineage_env(target: LineageTarget, env: Mapping[str, str]) -> LineageTarget:
    if _truthy(env.get("OPENLINEAGE_DISABLED")):
        return target._replace(transport="none")
    if env.get("OPENLINEAGE_URL"):
        target = target._replace(transport="http", url=env["OPENLINEAGE_URL"])
    if env.get("OPENLINEAGE_ENDPOINT"):
        target = target._replace(endpoint=env["OPENLINEAGE_ENDPOINT"].lstrip("/"))
    if env.get("OPENLINEAGE_API_KEY"):
        target = target._replace(api_key=env["OPENLINEAGE_API_KEY"])
    if env.get("OPENLINEAGE_NAMESPACE"):
        target = target._replace(namespace=env["OPENLINEAGE_NAMESPACE"])
    return target
