"""How destinations are read from URLs and which NetworkPolicy peer stands for a host."""

from __future__ import annotations

from pathlib import Path

import pytest

from floe.k8s.endpoints import parse_endpoint
from floe.plugins.builtin.network_k8s import PRIVATE_RANGES, peers


@pytest.mark.requirement("FR-060")
@pytest.mark.parametrize(("value", "default", "expected"), [
    ("http://polaris.floe.svc:8181/api/catalog", None, ("polaris.floe.svc", 8181)),
    ("https://catalog.example.com/api", None, ("catalog.example.com", 443)),
    ("http://Marquez.Obs.svc", None, ("marquez.obs.svc", 80)),
    ("otel-collector.obs.svc:4317", None, ("otel-collector.obs.svc", 4317)),
    ("http://otel-collector.obs.svc", 4317, ("otel-collector.obs.svc", 4317)),
    ("postgresql+psycopg://floe@db.data.svc/catalog", None, ("db.data.svc", 5432)),
    ("http://10.1.2.3:9000", None, ("10.1.2.3", 9000)),
    ("http://localhost:4317", None, None),
    ("s3://bucket/warehouse", None, None),
    ("sqlite:///tmp/catalog.db", None, None),
])  # fmt: skip
def test_endpoint_host_and_port(
    value: str, default: int | None, expected: tuple[str, int] | None
) -> None:
    """Explicit port wins, then the caller's default (OTLP 4317), then the scheme's; loopback,
    object-store and file URLs name no network peer."""
    assert parse_endpoint(value, default) == expected


@pytest.mark.requirement("FR-060")
def test_peer_per_kind_of_host() -> None:
    """svc names → their namespace; single label → own namespace; IP → /32 or /128; any
    other name → the internet minus private and metadata ranges."""
    ns = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "obs"}}}
    assert peers("otel.obs.svc.cluster.local", "cluster.local") == [ns]
    assert peers("otel.obs.svc", "cluster.local") == [ns]
    assert peers("otel.obs.svc.corp.internal", "corp.internal") == [ns]
    assert peers("polaris", "cluster.local") == [{"podSelector": {}}]
    assert peers("10.1.2.3", "cluster.local") == [{"ipBlock": {"cidr": "10.1.2.3/32"}}]
    assert peers("fd00::5", "cluster.local") == [{"ipBlock": {"cidr": "fd00::5/128"}}]
    public = peers("s3.amazonaws.com", "cluster.local")
    assert public[0] == {"ipBlock": {"cidr": "0.0.0.0/0", "except": PRIVATE_RANGES}}
    assert "169.254.0.0/16" in PRIVATE_RANGES
    assert peers("otel.obs.svc.cluster.local", "corp.internal")[0]["ipBlock"]["cidr"] == (
        "0.0.0.0/0"
    )


TRACING_CASES = [
    # (how the collector is configured, manifest or plugin YAML under plugins:/observability:)
    ("observability", "{exporter: otlp, endpoint: 'http://collector.obs.svc'}"),
    ("observability", "{exporter: otlp, endpoint: 'http://collector.obs.svc', protocol: grpc}"),
    ("observability", "{exporter: otlp, endpoint: 'collector.obs.svc:4317'}"),
    ("observability", "{exporter: otlp, endpoint: 'https://otlp.vendor.example.com'}"),
    ("plugin", "{endpoint: 'http://collector.obs.svc', protocol: grpc}"),
    ("plugin", "{endpoint: 'collector.obs.svc'}"),
]


@pytest.mark.requirement("FLOE-003")
@pytest.mark.parametrize(("where", "config"), TRACING_CASES)
def test_tracing_egress_opens_the_port_the_exporter_dials(
    tmp_path: Path, where: str, config: str
) -> None:
    """However the collector is written (scheme or not, port or not, manifest or plugin), the
    NetworkPolicy's tracing rule names the host and port of the URL the span exporter is given,
    and no other rule points at the collector."""
    from urllib.parse import urlsplit

    from floe.compile.api import compile_product
    from floe.k8s.endpoints import destinations
    from floe.observe.settings import trace_target
    from tests.conftest import TINY_MANIFEST, write_tiny

    if where == "plugin":
        manifest = TINY_MANIFEST.replace(
            "  storage:\n",
            f"  telemetry_backend:\n    type: otlp\n    config: {config}\n  storage:\n",
        )
    else:
        manifest = TINY_MANIFEST + f"observability:\n  tracing: {config}\n"
    ctx = compile_product(write_tiny(tmp_path / "tiny", manifest=manifest))
    assert ctx.artifacts is not None
    dialled = urlsplit(trace_target(ctx.artifacts, env={}).otlp_url)
    found = [(d.purpose, d.host, d.port) for d in destinations(ctx.artifacts)]
    assert found == [("tracing", dialled.hostname, dialled.port)]
