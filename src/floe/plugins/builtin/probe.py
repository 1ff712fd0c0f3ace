"""Health of a plugin whose service is a network endpoint: can a TCP connection be opened.

Observability and alerting never block a run (FR-046), so an endpoint that does not answer
makes such a plugin *degraded* (events or alerts are dropped), not unhealthy.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from floe.plugins.base import HealthState, HealthStatus


def reachable(host: str, port: int, timeout_s: float) -> str | None:
    """None when a TCP connection to ``host:port`` opens within ``timeout_s``, else why not."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return None
    except OSError as exc:
        return exc.strerror or type(exc).__name__


def endpoint_health(url: str, timeout_s: float, what: str) -> HealthStatus:
    """Healthy when ``url``'s host answers, degraded (``what`` will be dropped) when not."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    host = parts.hostname or "localhost"
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return HealthStatus(HealthState.UNHEALTHY, f"{url}: not a valid port")
    problem = reachable(host, port, min(timeout_s, 2.0))
    if problem is None:
        return HealthStatus(HealthState.HEALTHY, f"{host}:{port} answers")
    return HealthStatus(
        HealthState.DEGRADED, f"{host}:{port} unreachable ({problem}); {what} will be dropped"
    )
