"""Any Iceberg REST catalog (PyIceberg RestCatalog).

Authenticated by a static ``token`` (by secret reference), or — when the manifest chooses the
``oidc`` identity — by the identity's tokens on every request (they replace ``token``).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from floe.plugins.abcs import CatalogPlugin
from floe.plugins.base import HealthState, HealthStatus, SecretResolver
from floe.spec.base import new_dict
from floe.spec.common import SecretRef

TIMEOUT_S = 10.0


class RestCatalogConfig(BaseModel):
    """Settings of a REST catalog."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "floe"
    uri: str = Field(description="Base URI of the Iceberg REST API (before /v1).")
    warehouse: str | None = None
    token: SecretRef | None = Field(default=None, description="Bearer token, if any.")
    properties: dict[str, str] = Field(
        default_factory=new_dict, description="Extra PyIceberg catalog properties."
    )


class RestCatalogPlugin(CatalogPlugin[RestCatalogConfig]):
    """PyIceberg RestCatalog against any Iceberg REST server."""

    name: ClassVar[str] = "rest"
    version: ClassVar[str] = "0.1.0"
    description: ClassVar[str] = "Any Iceberg REST catalog"
    bearer_auth: ClassVar[bool] = True

    def catalog_properties(self, home: Path, resolve: SecretResolver) -> dict[str, str]:
        """``type: rest`` properties."""
        cfg = self.config
        props = {"name": cfg.name, "type": "rest", "uri": cfg.uri, **cfg.properties}
        if cfg.warehouse:
            props["warehouse"] = cfg.warehouse
        if cfg.token is not None:
            props["token"] = resolve(cfg.token).get_secret_value()
        return props

    def health_check(self) -> HealthStatus:
        """The server answers ``GET <uri>/v1/config`` (401 still proves it is there)."""
        url = self.config.uri.rstrip("/") + "/v1/config"
        try:
            http_json("GET", url)
        except HttpError as exc:
            if exc.status in (401, 403):
                return HealthStatus(HealthState.HEALTHY, f"{url} answers (auth required)")
            return HealthStatus(HealthState.UNHEALTHY, str(exc))
        return HealthStatus(HealthState.HEALTHY, f"{url} answers")


class HttpError(Exception):
    """A failed HTTP call, with status and the server's message."""

    def __init__(self, method: str, url: str, status: int, message: str) -> None:
        super().__init__(f"{method} {url}: HTTP {status}: {message}")
        self.status = status
        self.message = message


def http_json(
    method: str,
    url: str,
    *,
    body: Any = None,
    form: dict[str, str] | None = None,
    token: str | None = None,
) -> tuple[int, Any]:
    """One HTTP call with a bounded timeout; JSON in and out; HttpError on status >= 400."""
    headers = {"Accept": "application/json"}
    data: bytes | None = None
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if not url.startswith(("http://", "https://")):
        raise HttpError(method, url, 0, "only http(s) URLs are supported")
    request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310  # nosec B310
            text = response.read().decode() or "null"
            return int(response.status), json.loads(text)
    except urllib.error.HTTPError as exc:
        raise HttpError(
            method, url, exc.code, _message(exc.read().decode(errors="replace"))
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise HttpError(method, url, 0, f"unreachable ({reason})") from None


def _message(text: str) -> str:
    try:
        data = json.loads(text)
    except ValueError:
        return text[:200]
    if isinstance(data, dict):
        err = data.get("error")
        if isinstance(err, dict):
            return str(err.get("message", err))
        return str(data.get("error_description") or err or data)[:200]
    return text[:200]
