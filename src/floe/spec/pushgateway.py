"""The Prometheus Pushgateway address as floe reads it: the one place that turns
``observability.metrics.pushgateway`` into the URL the run pushes to
(:func:`floe.observe.metrics.push`) — which is also the host and port the generated
Kubernetes NetworkPolicy opens (``floe.k8s.endpoints``).

Rules: a missing scheme means ``http://``; the port is the URL's own, else 443 for ``https``,
else the Pushgateway's 9091 — so ``http://pushgateway`` is ``pushgateway:9091`` for both.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_PORT = 9091


@dataclass(frozen=True)
class PushgatewayAddress:
    """Where metrics are pushed: scheme, host and port always explicit."""

    scheme: str
    host: str
    port: int
    path: str = ""

    @property
    def url(self) -> str:
        """``scheme://host:port[/path]``: what the exporter is given."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}{self.path}"


def pushgateway_address(value: str) -> PushgatewayAddress | None:
    """The address of ``value``; None when it names no host."""
    text = value.strip()
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    if not parts.hostname:
        return None
    scheme = parts.scheme.lower()
    try:
        port = parts.port or (443 if scheme == "https" else DEFAULT_PORT)
    except ValueError:
        return None
    return PushgatewayAddress(scheme, parts.hostname.lower(), port, parts.path.rstrip("/"))
