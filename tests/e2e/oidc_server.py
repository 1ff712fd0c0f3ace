"""A real OAuth2 / OpenID token server on 127.0.0.1, built from Authlib's authorization-server
components: the client-credentials grant (RFC 6749 §4.4) at ``/token``, RFC 9068 JWT access
tokens signed with an EC key published at ``/jwks``, and the discovery document at
``/.well-known/openid-configuration`` (validated as RFC 8414 metadata).

Each client has its own token lifetime (a short one lets a test watch a token expire) and the
``sub`` its tokens carry. The server counts token requests per client and can tell whether a
bearer token is one it issued and still valid (what a resource server — the fake Polaris —
asks).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from authlib.oauth2.rfc6749 import AuthorizationServer, ClientMixin, grants
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload, OAuth2Request
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet


@dataclass(frozen=True)
class Client:
    """A registered confidential client."""

    client_id: str
    secret: str
    expires_in: int = 3600
    subject: str | None = None  # the tokens' sub (default: the client id)


@dataclass
class OidcState:
    """What the server knows and saw."""

    issuer: str = ""
    clients: dict[str, Client] = field(default_factory=dict)
    token_requests: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    discovery_reads: int = 0
    keys: KeySet = field(default_factory=lambda: KeySet([ECKey.generate_key("P-256")]))

    def valid(self, token: str) -> dict[str, Any] | None:
        """The claims of ``token`` if this server signed it and it has not expired."""
        try:
            claims = jwt.decode(token, self.keys).claims
        except (JoseError, ValueError):
            return None
        if claims.get("iss") != self.issuer or int(claims.get("exp", 0)) <= time.time():
            return None
        return claims


class _RegisteredClient(ClientMixin):  # type: ignore[misc]
    def __init__(self, client: Client) -> None:
        self.client = client

    def get_client_id(self) -> str:
        return self.client.client_id

    def get_allowed_scope(self, scope: str | None) -> str:
        return scope or ""

    def check_client_secret(self, client_secret: str) -> bool:
        return client_secret == self.client.secret

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"


class _Tokens(JWTBearerTokenGenerator):  # type: ignore[misc]
    def __init__(self, state: OidcState) -> None:
        super().__init__(
            issuer=state.issuer,
            alg="ES256",
            expires_generator=lambda client, _grant: client.client.expires_in,
        )
        self.state = state

    def get_jwks(self) -> Any:
        return self.state.keys

    def get_extra_claims(self, client: Any, grant_type: str, user: Any, scope: Any) -> Any:
        return {"sub": client.client.subject} if client.client.subject else {}


class _Request(OAuth2Request):  # type: ignore[misc]
    def __init__(self, uri: str, headers: dict[str, str], form: dict[str, str]) -> None:
        super().__init__("POST", uri, headers=headers)
        self._form = form
        self.payload = BasicOAuth2Payload(form)

    @property
    def form(self) -> dict[str, str]:
        return self._form


class _ClientCredentials(grants.ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]  # noqa: RUF012


class _Server(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, state: OidcState) -> None:
        super().__init__()
        self.state = state
        self.register_grant(_ClientCredentials)
        self.register_token_generator("default", _Tokens(state))

    def query_client(self, client_id: str) -> _RegisteredClient | None:
        client = self.state.clients.get(client_id)
        return _RegisteredClient(client) if client else None

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        self.state.token_requests[request.client.get_client_id()] += 1

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return

    def create_oauth2_request(self, request: Any) -> Any:
        return request

    def handle_response(self, status: int, body: Any, headers: Any) -> Any:
        return status, body, dict(headers)


def _handler(state: OidcState, server: _Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = (body if isinstance(body, str) else json.dumps(body)).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            for key, value in (headers or {}).items():
                if key.lower() != "content-type":
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            path = urllib.parse.urlparse(self.path).path
            if path == "/.well-known/openid-configuration":
                state.discovery_reads += 1
                self._send(200, dict(discovery(state.issuer)))
            elif path == "/jwks":
                self._send(200, state.keys.as_dict(private=False))
            else:
                self._send(404, {"error": "not_found"})

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            if urllib.parse.urlparse(self.path).path != "/token":
                self._send(404, {"error": "not_found"})
                return
            form = dict(urllib.parse.parse_qsl(raw))
            request = _Request(state.issuer + "/token", dict(self.headers.items()), form)
            status, body, headers = server.create_token_response(request)
            if status != 200:
                state.refused[form.get("client_id") or "basic-auth"] += 1
            self._send(status, body, headers)

    return Handler


def discovery(issuer: str) -> AuthorizationServerMetadata:
    """The discovery document (validated against RFC 8414)."""
    metadata = AuthorizationServerMetadata(
        {
            "issuer": issuer,
            "token_endpoint": f"{issuer}/token",
            "jwks_uri": f"{issuer}/jwks",
            "response_types_supported": ["token"],
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "id_token_signing_alg_values_supported": ["ES256"],
            "subject_types_supported": ["public"],
        }
    )
    metadata.validate()
    return metadata


@contextmanager
def oidc_server(*clients: Client) -> Iterator[OidcState]:
    """Serve on 127.0.0.1:<free port>; yields the state (``issuer`` is the base URL)."""
    state = OidcState(clients={c.client_id: c for c in clients})
    http = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    state.issuer = f"http://127.0.0.1:{http.server_address[1]}"
    http.RequestHandlerClass = _handler(state, _Server(state))  # the issuer is known now
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        http.shutdown()
        http.server_close()
