"""Apache Polaris: an Iceberg REST catalog with OAuth2 client credentials and a management API.

Credentials: the catalog's own ``oauth2`` client, or — when the manifest chooses the ``oidc``
identity — the identity's tokens (``oauth2`` may then be left out; the identity wins).

``bootstrap`` (run by ``floe platform up``) exchanges the client credentials for a token,
creates the catalog through the management API when missing (409 means it already exists) and
verifies it with a GET — failing loudly, with the URL and the server's answer, otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from floe import events
from floe.errors import FloeError, Location
from floe.plugins.abcs import CatalogPlugin
from floe.plugins.base import HealthState, HealthStatus, SecretResolver, TokenSource
from floe.plugins.builtin.catalog_rest import HttpError, http_json
from floe.plugins.builtin.oauth2 import ClientCredentials, Where
from floe.spec.base import new_dict, new_list
from floe.spec.common import SecretRef

E_AUTH = "E530"
E_BOOTSTRAP = "E531"
E_NO_CREDENTIALS = "E662"


class OAuth2(BaseModel):
    """Client-credentials grant."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    client_id: str
    client_secret: SecretRef
    scope: str = "PRINCIPAL_ROLE:ALL"
    token_url: str | None = Field(default=None, description="Default: <uri>/v1/oauth/tokens.")


class PolarisConfig(BaseModel):
    """Settings of a Polaris catalog."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "floe"
    uri: str = Field(description="Polaris catalog API, e.g. http://polaris:8181/api/catalog.")
    warehouse: str = Field(description="The Polaris catalog name.")
    oauth2: OAuth2 | None = Field(
        default=None,
        description="The catalog's own client credentials; leave out when the identity "
        "plugin is oidc (its tokens are used).",
    )
    management_uri: str | None = Field(
        default=None, description="Default: the uri with /api/catalog → /api/management/v1."
    )
    storage_type: Literal["FILE", "S3", "GCS", "AZURE"] = "S3"
    default_base_location: str | None = Field(
        default=None, description="Where tables live, e.g. s3://bucket/warehouse."
    )
    allowed_locations: list[str] = Field(default_factory=new_list)
    storage_properties: dict[str, str] = Field(
        default_factory=new_dict, description="Extra storageConfigInfo fields (roleArn, endpoint…)."
    )


class PolarisCatalogPlugin(CatalogPlugin[PolarisConfig]):
    """Polaris through PyIceberg's RestCatalog, plus catalog bootstrap."""

    name: ClassVar[str] = "polaris"
    version: ClassVar[str] = "0.1.0"
    description: ClassVar[str] = "Apache Polaris REST catalog (OAuth2, catalog bootstrap)"
    bearer_auth: ClassVar[bool] = True

    @property
    def token_url(self) -> str:
        """The OAuth2 token endpoint."""
        oauth = self.config.oauth2
        return (oauth and oauth.token_url) or self.config.uri.rstrip("/") + "/v1/oauth/tokens"

    def _oauth2(self) -> OAuth2:
        """The catalog's own credentials (E662 when it has none)."""
        if self.config.oauth2 is None:
            raise FloeError.single(
                E_NO_CREDENTIALS,
                "the Polaris catalog has no credentials: no oauth2 client and no identity "
                "that issues tokens",
                Location("manifest.yaml"),
                field_path="plugins.catalog.config.oauth2",
                hint="add plugins.catalog.config.oauth2 (client_id, client_secret), or choose "
                "the oidc identity (plugins.identity: {type: oidc, config: …})",
            )
        return self.config.oauth2

    def token_source(self, resolve: SecretResolver) -> TokenSource | None:
        """Client credentials of ``oauth2`` at Polaris's token endpoint (None without)."""
        oauth = self.config.oauth2
        if oauth is None:
            return None
        return ClientCredentials(
            endpoint=lambda: self.token_url,
            client_id=oauth.client_id,
            secret=resolve(oauth.client_secret),
            scope=oauth.scope,
            auth_method="client_secret_post",
            where=Where(
                "plugins.catalog.config.oauth2",
                f"check client_id '{oauth.client_id}' and the secret "
                f"'{oauth.client_secret.secret}'",
            ),
        )

    @property
    def management_uri(self) -> str:
        """The management API base."""
        cfg = self.config
        if cfg.management_uri:
            return cfg.management_uri.rstrip("/")
        return cfg.uri.rstrip("/").replace("/api/catalog", "/api/management/v1")

    def catalog_properties(self, home: Path, resolve: SecretResolver) -> dict[str, str]:
        """RestCatalog properties with client credentials (secret resolved at run time)."""
        cfg = self.config
        props = {"name": cfg.name, "type": "rest", "uri": cfg.uri, "warehouse": cfg.warehouse}
        if cfg.oauth2 is not None:
            props |= {
                "credential": f"{cfg.oauth2.client_id}:"
                + resolve(cfg.oauth2.client_secret).get_secret_value(),
                "scope": cfg.oauth2.scope,
                "oauth2-server-uri": self.token_url,
            }
        return props

    def token(self, resolve: SecretResolver) -> str:
        """Exchange the client credentials for an access token."""
        oauth = self._oauth2()
        form = {
            "grant_type": "client_credentials",
            "client_id": oauth.client_id,
            "client_secret": resolve(oauth.client_secret).get_secret_value(),
            "scope": oauth.scope,
        }
        try:
            _, answer = http_json("POST", self.token_url, form=form)
        except HttpError as exc:
            if exc.status in (400, 401, 403):
                events.security_event(events.CATALOG_AUTH_FAILED, catalog="polaris",
                                      client_id=oauth.client_id, status=exc.status)  # fmt: skip
            raise FloeError.single(
                E_AUTH,
                f"Polaris token exchange failed at {self.token_url}: HTTP {exc.status}: "
                f"{exc.message}",
                Location("manifest.yaml"),
                field_path="plugins.catalog.config.oauth2",
                hint=f"check client_id '{oauth.client_id}' and the secret "
                f"'{oauth.client_secret.secret}'",
            ) from None
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not token:
            raise FloeError.single(
                E_AUTH, f"Polaris token endpoint {self.token_url} returned no access_token",
                Location("manifest.yaml"), field_path="plugins.catalog.config.oauth2",
            )  # fmt: skip
        return str(token)

    def bootstrap(self, resolve: SecretResolver, tokens: TokenSource | None = None) -> str:
        """Create the catalog when missing (409 = already there), then verify it with GET;
        authenticated by ``tokens`` (the identity's) when given, else by ``oauth2``."""
        token = tokens.token() if tokens is not None else self.token(resolve)
        cfg = self.config
        url = f"{self.management_uri}/catalogs"
        created = "exists"
        try:
            http_json("POST", url, body=self._catalog_body(), token=token)
            created = "created"
        except HttpError as exc:
            if exc.status != 409:
                raise self._bootstrap_error("create", exc) from None
        try:
            _, found = http_json("GET", f"{url}/{cfg.warehouse}", token=token)
        except HttpError as exc:
            raise self._bootstrap_error("verify", exc) from None
        name = found.get("name") if isinstance(found, dict) else None
        if name != cfg.warehouse:
            raise FloeError.single(
                E_BOOTSTRAP, f"Polaris returned catalog {name!r}, expected {cfg.warehouse!r}",
                Location("manifest.yaml"), field_path="plugins.catalog.config.warehouse",
            )  # fmt: skip
        return f"catalog '{cfg.warehouse}' {created} and verified"

    def _catalog_body(self) -> dict[str, object]:
        cfg = self.config
        base = cfg.default_base_location or ""
        storage: dict[str, object] = {
            "storageType": cfg.storage_type,
            "allowedLocations": cfg.allowed_locations or ([base] if base else []),
            **cfg.storage_properties,
        }
        return {
            "catalog": {
                "name": cfg.warehouse,
                "type": "INTERNAL",
                "properties": {"default-base-location": base} if base else {},
                "storageConfigInfo": storage,
            }
        }

    def _bootstrap_error(self, step: str, exc: HttpError) -> FloeError:
        return FloeError.single(
            E_BOOTSTRAP,
            f"could not {step} Polaris catalog '{self.config.warehouse}': {exc}",
            Location("manifest.yaml"),
            field_path="plugins.catalog.config",
            hint="the principal needs CATALOG_MANAGE_CONTENT / service_admin to create catalogs",
        )

    def health_check(self) -> HealthStatus:
        """The catalog API answers (authentication is checked by bootstrap)."""
        status = super().health_check()
        if status.state is HealthState.UNHEALTHY:
            return status
        return HealthStatus(HealthState.HEALTHY, f"{self.config.uri} answers")
