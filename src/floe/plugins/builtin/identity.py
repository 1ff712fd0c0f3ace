"""Identity: who is acting — the subject audit records and security events carry.

``local`` (the default, the embedded platform): ``$FLOE_USER`` when set (a CI job, a service
account), else the OS login name. ``static``: one fixed subject for every action of the
platform (a shared automation identity). ``oidc``: a workload identity of an OpenID Connect
provider — OAuth2 client credentials against the token endpoint that the issuer's discovery
document names; its tokens authenticate floe to the REST/Polaris catalog and the Polaris
management API, and its subject is the tokens' ``sub`` (else the client id).
"""

from __future__ import annotations

import getpass
import ipaddress
import os
import urllib.parse
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from floe.errors import FloeError, Location
from floe.plugins.abcs import IdentityPlugin
from floe.plugins.base import HealthState, HealthStatus, SecretResolver, TokenSource
from floe.plugins.builtin.oauth2 import TIMEOUT_S, AuthMethod, ClientCredentials, Where
from floe.spec.common import SecretRef

E_DISCOVERY = "E660"
WELL_KNOWN = "/.well-known/openid-configuration"

UNKNOWN = "unknown"


class LocalIdentityConfig(BaseModel):
    """Settings of the local identity."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env_var: str = Field(
        default="FLOE_USER",
        description="Environment variable naming the subject; the OS login name when unset.",
    )


class LocalIdentityPlugin(IdentityPlugin[LocalIdentityConfig]):
    """The OS user (or ``$FLOE_USER``)."""

    name: ClassVar[str] = "local"
    version: ClassVar[str] = "0.1.0"
    description: ClassVar[str] = "The OS user, or $FLOE_USER when set"

    def principal(self) -> str:
        """``$<env_var>`` when set, else the login name (``unknown`` when there is none)."""
        named = os.environ.get(self.config.env_var, "").strip() if self.config.env_var else ""
        if named:
            return named
        try:
            return getpass.getuser()
        except (KeyError, OSError):
            return UNKNOWN


class StaticIdentityConfig(BaseModel):
    """Settings of the static identity."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    subject: str = Field(
        min_length=1, pattern=r"^\S+$", description="The subject every action is recorded as."
    )


class StaticIdentityPlugin(IdentityPlugin[StaticIdentityConfig]):
    """One configured subject."""

    name: ClassVar[str] = "static"
    version: ClassVar[str] = "0.1.0"
    description: ClassVar[str] = "A fixed subject named in the manifest"

    def principal(self) -> str:
        """The configured subject."""
        return self.config.subject


class OidcIdentityConfig(BaseModel):
    """Settings of the OIDC identity (OAuth2 client credentials)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    issuer: str = Field(
        description="The OpenID provider's issuer URL; its discovery document is "
        "<issuer>/.well-known/openid-configuration (https, or http on a loopback address)."
    )
    client_id: str = Field(min_length=1, pattern=r"^\S+$", description="The OAuth2 client id.")
    client_secret: SecretRef = Field(description="The client secret, by secret reference.")
    scope: str | None = Field(default=None, description="Scopes to request, space-separated.")
    token_endpoint: str | None = Field(
        default=None, description="Token endpoint to use instead of the discovery document's."
    )
    auth_method: AuthMethod = Field(
        default="client_secret_basic", description="How the client authenticates to the endpoint."
    )
    refresh_margin_seconds: float = Field(
        default=30, ge=0, le=3600, description="A token this close to its expiry is renewed."
    )

    @field_validator("issuer", "token_endpoint")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is None:
            return value
        return secure_url(value)


def secure_url(value: str) -> str:
    """``value`` if it is an https URL, or an http URL on a loopback address (a local test
    issuer); no trailing slash."""
    parsed = urllib.parse.urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ValueError(f"'{value}' is not an http(s) URL")
    if parsed.scheme == "http" and not _loopback(parsed.hostname):
        raise ValueError(f"'{value}': credentials travel only over https (http: loopback only)")
    return value.rstrip("/")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class OidcIdentityPlugin(IdentityPlugin[OidcIdentityConfig]):
    """A client of an OpenID Connect provider (client credentials, discovery, cached tokens)."""

    name: ClassVar[str] = "oidc"
    version: ClassVar[str] = "0.1.0"
    description: ClassVar[str] = "OAuth2 client credentials from an OpenID Connect provider"

    def principal(self) -> str:
        """The client id (the tokens' ``sub`` once a token is obtained: :meth:`token_source`)."""
        return self.config.client_id

    def health_check(self) -> HealthStatus:
        """The issuer's discovery document can be read and names a token endpoint."""
        try:
            endpoint = self.config.token_endpoint or Discovery(self.config.issuer).token_endpoint()
        except FloeError as exc:
            return HealthStatus(HealthState.UNHEALTHY, exc.diagnostics[0].message)
        return HealthStatus(HealthState.HEALTHY, f"token endpoint {endpoint}")

    def token_source(self, resolve: SecretResolver) -> TokenSource:
        """Client credentials at the discovered token endpoint; nothing is fetched until the
        first token is asked for."""
        discovery = Discovery(self.config.issuer)
        cfg = self.config
        return ClientCredentials(
            endpoint=lambda: cfg.token_endpoint or discovery.token_endpoint(),
            client_id=cfg.client_id,
            secret=resolve(cfg.client_secret),
            scope=cfg.scope,
            auth_method=cfg.auth_method,
            margin=cfg.refresh_margin_seconds,
            where=Where(
                "plugins.identity.config",
                f"check client_id '{cfg.client_id}' and the secret "
                f"'{cfg.client_secret.secret}' at the provider",
            ),
            subject_of=discovery.subject_of,
        )


class Discovery:
    """The issuer's discovery document (read once) and what follows from it."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        self._doc: dict[str, Any] | None = None
        self._keys: Any = None

    def document(self) -> dict[str, Any]:
        """``<issuer>/.well-known/openid-configuration``, checked (E660 when unusable)."""
        if self._doc is None:
            doc = self._get(self.issuer + WELL_KNOWN)
            if str(doc.get("issuer", "")).rstrip("/") != self.issuer:
                raise self._error(f"names issuer {doc.get('issuer')!r}, not {self.issuer!r}")
            if not doc.get("token_endpoint"):
                raise self._error("names no token_endpoint")
            self._doc = doc
        return self._doc

    def token_endpoint(self) -> str:
        """The token endpoint the document names."""
        return str(self.document()["token_endpoint"])

    def subject_of(self, token: str) -> str | None:
        """The ``sub`` of a JWT access token whose signature the issuer's keys verify; None
        for an opaque token (or an issuer that publishes no keys)."""
        from joserfc import jwt
        from joserfc.errors import JoseError
        from joserfc.jwk import KeySet

        if token.count(".") != 2:
            return None
        try:
            uri = self.document().get("jwks_uri")
        except FloeError:  # a token_endpoint set by hand, an issuer without discovery
            return None
        if not uri:
            return None
        if self._keys is None:
            self._keys = KeySet.import_key_set(self._get(str(uri)))  # type: ignore[arg-type]
        try:
            claims = jwt.decode(token, self._keys).claims
        except (JoseError, ValueError):
            return None
        sub = claims.get("sub")
        return str(sub) if sub else None

    def _get(self, url: str) -> dict[str, Any]:
        import requests

        try:
            response = requests.get(url, timeout=TIMEOUT_S)
            response.raise_for_status()
            doc = response.json()
        except (requests.RequestException, ValueError) as exc:
            why = "unreachable" if isinstance(exc, requests.ConnectionError) else str(exc)
            raise self._error(f"could not be read from {url}: {why}") from None
        if not isinstance(doc, dict):
            raise self._error(f"at {url} is not a JSON object")
        return doc

    def _error(self, problem: str) -> FloeError:
        return FloeError.single(
            E_DISCOVERY,
            f"the OpenID discovery document of {self.issuer} {problem}",
            Location("manifest.yaml"),
            field_path="plugins.identity.config.issuer",
            hint="set issuer to the provider's issuer URL (its discovery document is "
            f"<issuer>{WELL_KNOWN}), or token_endpoint when it publishes none",
        )
