"""The network destinations a product's run needs, derived from its compiled artifacts.

Every URL in a plugin config (``uri``, ``endpoint``, ``token_url``, …) with a network scheme,
the OTLP collector, the lineage backend and the metrics push gateway become a
:class:`~floe.plugins.abcs.Destination` (what the network_security plugin is told);
loopback addresses need no policy and are left out. The push gateway is the address the run
pushes to (:mod:`floe.spec.pushgateway`). The collector is the one the run's exporter dials
(:func:`floe.observe.settings.trace_target`, manifest then telemetry_backend plugin), on the
port it dials (:mod:`floe.spec.otlp`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from floe.observe.settings import trace_target
from floe.plugins.records import Destination
from floe.spec.artifacts import CompiledArtifacts
from floe.spec.pushgateway import pushgateway_address

#: Default ports of the schemes floe's plugins speak; other schemes (s3://, file://,
#: sqlite://) name no network peer.
DEFAULT_PORTS: dict[str, int] = {
    "http": 80,
    "https": 443,
    "grpc": 4317,
    "grpcs": 443,
    "postgres": 5432,
    "postgresql": 5432,
    "mysql": 3306,
    "thrift": 9083,
}
LOOPBACK = {"localhost", "127.0.0.1", "::1"}
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
#: Plugin categories by the purpose their traffic serves (the NetworkPolicy name suffix).
PURPOSES = {
    "telemetry_backend": "telemetry",
    "lineage_backend": "lineage",
    "alert_channel": "alerts",
}


def destinations(artifacts: CompiledArtifacts) -> list[Destination]:
    """Every destination, sorted, without duplicates of the same purpose, host and port."""
    found: dict[tuple[str, str, int], Destination] = {}
    for dest in [*_plugin_destinations(artifacts), *_observability_destinations(artifacts)]:
        found.setdefault((dest.purpose, dest.host, dest.port), dest)
    return sorted(found.values())


def parse_endpoint(value: str, default_port: int | None = None) -> tuple[str, int] | None:
    """``(host, port)`` of a URL (or ``host:port``); None when it names no network peer."""
    text = value.strip()
    if not _SCHEME.match(text):
        text = "http://" + text
    parts = urlsplit(text)
    scheme = parts.scheme.lower().split("+")[0]
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    try:
        explicit = parts.port
    except ValueError:
        return None
    port = explicit or default_port or DEFAULT_PORTS[scheme]
    host = parts.hostname.lower()
    return None if host in LOOPBACK else (host, port)


def _plugin_destinations(artifacts: CompiledArtifacts) -> Iterator[Destination]:
    for category in sorted(artifacts.plugins):
        if category == "telemetry_backend":
            continue  # its collector is the tracing destination
        plugin = artifacts.plugins[category]
        purpose = PURPOSES.get(category, category)
        for path, value in _strings(plugin.config, f"plugins.{category}.config"):
            if not _SCHEME.match(value.strip()):
                continue
            endpoint = parse_endpoint(value)
            if endpoint:
                yield Destination(purpose, endpoint[0], endpoint[1], path)
        if category == "storage" and plugin.type == "s3" and not plugin.config.get("endpoint"):
            region = str(plugin.config.get("region") or "us-east-1")
            yield Destination(
                purpose, f"s3.{region}.amazonaws.com", 443, "plugins.storage.config.region"
            )


def _observability_destinations(artifacts: CompiledArtifacts) -> Iterator[Destination]:
    obs = artifacts.observability
    traces = trace_target(artifacts, env={})  # the pod's own OTEL_* variables are not ours
    if traces.exporter == "otlp" and traces.otlp.host not in LOOPBACK:
        source = (
            "plugins.telemetry_backend.config.endpoint"
            if "telemetry_backend" in artifacts.plugins
            else "observability.tracing.endpoint"
        )
        yield Destination("tracing", traces.otlp.host, traces.otlp.port, source)
    lineage = obs.lineage
    if lineage.enabled and lineage.transport in ("http", "marquez") and lineage.endpoint:
        endpoint = parse_endpoint(lineage.endpoint)
        if endpoint:
            yield Destination("lineage", *endpoint, "observability.lineage.endpoint")
    if obs.metrics.enabled and obs.metrics.pushgateway:
        gateway = pushgateway_address(obs.metrics.pushgateway)  # what the run pushes to
        if gateway and gateway.host not in LOOPBACK:
            yield Destination(
                "metrics", gateway.host, gateway.port, "observability.metrics.pushgateway"
            )


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key in sorted(value):
            yield from _strings(value[key], f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")
