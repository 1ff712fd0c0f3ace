"""Health of a deployed platform's services (``platform.services`` of the manifest).

Each service kind has one real health endpoint; a check is one HTTP GET of it, answered 2xx
within the timeout. The services are probed concurrently, so a service that does not answer
costs one timeout, not one per service.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from floe.spec.manifest import PlatformService

#: The health path of each kind of service.
HEALTH_PATHS: dict[str, str] = {
    "polaris": "/q/health/ready",
    "object_storage": "/minio/health/ready",
    "dagster": "/server_info",
    "marquez": "/healthcheck",
    "jaeger": "/status",
    "otel_collector": "/",
    "prometheus": "/-/ready",
    "grafana": "/api/health",
    "http": "/",
}
TIMEOUT = 5.0


def health_url(service: PlatformService) -> str:
    """The URL a service's check requests."""
    path = service.path if service.path is not None else HEALTH_PATHS[service.kind]
    return service.url.rstrip("/") + path


def probe(url: str, timeout: float = TIMEOUT) -> tuple[bool, str]:
    """``(ok, detail)`` of one GET: ok on 2xx; the status or the error otherwise."""
    if not url.startswith(("http://", "https://")):
        return False, f"{url}: not an http(s) URL"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310  # nosec B310
            return True, f"{url} → {response.status}"
    except urllib.error.HTTPError as exc:
        return False, f"{url} → {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return False, f"{url}: {reason}"


def check_services(
    services: dict[str, PlatformService], timeout: float = TIMEOUT
) -> list[tuple[str, bool, str]]:
    """``(name, ok, detail)`` of every service, in the manifest's order."""
    if not services:
        return []
    with ThreadPoolExecutor(max_workers=min(8, len(services))) as pool:
        urls = [health_url(s) for s in services.values()]
        results = list(pool.map(lambda u: probe(u, timeout), urls))
    return [(name, ok, detail) for name, (ok, detail) in zip(services, results, strict=True)]
