"""OAuth2 client credentials (RFC 6749 §4.4) through Authlib: one token, cached, fetched again
shortly before it expires.

:class:`ClientCredentials` is the :class:`~floe.plugins.base.TokenSource` of the ``oidc``
identity (token endpoint found by OIDC discovery) and of a Polaris catalog's own ``oauth2``
block. Authlib's ``OAuth2Session`` does the protocol: the token request, the client
authentication (``client_secret_basic`` or ``client_secret_post``), and the re-fetch of a
client-credentials token once it is within ``leeway`` seconds of its expiry. The secret is a
``SecretStr`` until the session is built; it is never logged, printed or written.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import SecretStr

from floe import events
from floe.errors import FloeError, Location

E_TOKEN = "E661"  # noqa: S105 - an error code
TIMEOUT_S = 10.0

AuthMethod = Literal["client_secret_basic", "client_secret_post"]


@dataclass(frozen=True)
class Where:
    """Which manifest setting a failure points at, and what to tell the user."""

    field_path: str
    hint: str
    file: str = "manifest.yaml"


class ClientCredentials:
    """A token source over one client's credentials: thread-safe, one token request until the
    cached token is within ``margin`` seconds of its expiry."""

    def __init__(
        self,
        *,
        endpoint: Callable[[], str],
        client_id: str,
        secret: SecretStr,
        scope: str | None = None,
        auth_method: AuthMethod = "client_secret_basic",
        margin: float = 30.0,
        where: Where,
        subject_of: Callable[[str], str | None] | None = None,
    ) -> None:
        self._endpoint = endpoint
        self.client_id = client_id
        self._secret = secret
        self._scope = scope
        self._auth_method = auth_method
        self._margin = margin
        self._where = where
        self._subject_of = subject_of
        self._session: Any = None
        self._lock = threading.Lock()

    def token(self) -> str:
        """A bearer token valid for more than the margin (fetched on first use and again
        shortly before expiry)."""
        with self._lock:
            session = self._open()
            try:
                if session.token is None:
                    session.fetch_token()
                else:
                    session.ensure_active_token(session.token)
            except Exception as exc:
                raise self._failure(exc) from None
            return str(session.token["access_token"])

    def subject(self) -> str:
        """Whom the tokens speak for: the ``sub`` claim of a verifiable JWT access token, else
        the client id."""
        if self._subject_of is None:
            return self.client_id
        return self._subject_of(self.token()) or self.client_id

    def _open(self) -> Any:
        if self._session is None:
            from authlib.integrations.requests_client import OAuth2Session

            self._session = OAuth2Session(
                client_id=self.client_id,
                client_secret=self._secret.get_secret_value(),
                token_endpoint_auth_method=self._auth_method,
                scope=self._scope,
                token_endpoint=self._endpoint(),
                grant_type="client_credentials",
                leeway=self._margin,
                default_timeout=TIMEOUT_S,
            )
        return self._session

    def _failure(self, exc: Exception) -> FloeError:
        """A refused or failed token request as floe's error (no secret in it)."""
        if isinstance(exc, FloeError):
            return exc
        error = getattr(exc, "error", None)
        detail = f"{error}: {getattr(exc, 'description', '') or ''}".rstrip(": ")
        if error is None:
            detail = f"{type(exc).__name__}: {exc}"
        events.security_event(events.IDENTITY_AUTH_FAILED, client_id=self.client_id,
                              error=str(error or type(exc).__name__))  # fmt: skip
        url = self._session.metadata.get("token_endpoint") if self._session else "?"
        return FloeError.single(
            E_TOKEN,
            f"the token endpoint {url} gave client '{self.client_id}' no token ({detail})",
            Location(self._where.file),
            field_path=self._where.field_path,
            hint=self._where.hint,
        )
