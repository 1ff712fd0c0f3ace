"""OTLP endpoints as floe reads them: the one place that turns a configured ``endpoint`` and
``protocol`` into the address the span exporter dials — which is also the address the
generated Kubernetes NetworkPolicy opens (``floe.k8s.endpoints``).

Rules: the protocol is the configured one, else gRPC when the endpoint names port 4317, else
HTTP/protobuf. A missing scheme means ``http://``. The port is the endpoint's own, else 443 for
``https``, else the protocol's OTLP default (gRPC 4317, HTTP 4318) — so ``http://collector``
is ``collector:4318`` for both. HTTP URLs end in ``/v1/traces``.
"""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import urlsplit

GRPC = "grpc"
HTTP = "http/protobuf"
OTLP_PORTS = {GRPC: 4317, HTTP: 4318}
TRACES_PATH = "/v1/traces"


def default_protocol(endpoint: str | None) -> str:
    """OTLP's conventional ports: 4317 speaks gRPC, everything else HTTP/protobuf."""
    if not endpoint:
        return HTTP
    return GRPC if _split(endpoint)[2] == OTLP_PORTS[GRPC] else HTTP


class OtlpEndpoint(NamedTuple):
    """Where spans go: scheme, host and port always explicit."""

    protocol: str
    scheme: str
    host: str
    port: int
    path: str = ""

    @property
    def url(self) -> str:
        """The exporter's endpoint: ``scheme://host:port`` (+ the traces path for HTTP)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        base = f"{self.scheme}://{host}:{self.port}"
        return base if self.protocol == GRPC else base + self.path


def otlp_endpoint(endpoint: str | None, protocol: str | None = None) -> OtlpEndpoint:
    """The endpoint the exporter dials for ``endpoint`` (None: the local collector)."""
    protocol = protocol or default_protocol(endpoint)
    scheme, host, port, path = _split(endpoint or "localhost")
    if port is None:
        port = 443 if scheme == "https" else OTLP_PORTS[protocol]
    path = path.rstrip("/")
    if not path.endswith(TRACES_PATH):
        path += TRACES_PATH
    return OtlpEndpoint(protocol, scheme, host, port, path)


def _split(endpoint: str) -> tuple[str, str, int | None, str]:
    text = endpoint.strip()
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    scheme = "https" if parts.scheme.lower() == "https" else "http"
    try:
        port = parts.port
    except ValueError:  # not a number: let the exporter report the bad endpoint
        port = None
    return scheme, (parts.hostname or "localhost").lower(), port, parts.path
