"""A local HTTP server speaking the few Polaris endpoints floe calls, with their real shapes.

A live Polaris (a JVM service) cannot run on this machine. This double sits at the wire: it
implements the OAuth2 client-credentials token endpoint (``/api/catalog/v1/oauth/tokens``),
the management API's ``POST /catalogs`` and ``GET /catalogs/{name}`` (``/api/management/v1``)
and its access routes (principal roles, catalog roles, grants: tests/e2e/fake_polaris_access.py),
and the Iceberg REST ``GET /v1/config`` and ``GET /v1/{prefix}/namespaces`` — enough for
floe's bootstrap, its rbac plugin and PyIceberg's RestCatalog to connect. It records every
request. Bearer tokens: its own, and those ``accept_token`` (an external issuer's check) takes.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.e2e.fake_polaris_access import AccessApi, AccessState

TOKEN = "polaris-token-123"


@dataclass
class PolarisState:
    """What the fake knows and saw."""

    client_id: str
    client_secret: str
    catalogs: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    access: AccessState = field(default_factory=AccessState)
    accept_token: Callable[[str], bool] | None = None
    management_base: str = "/api/management/v1"


def _handler(state: PolarisState) -> type[BaseHTTPRequestHandler]:
    access = AccessApi(state.access)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output quiet
            return

        def _send(self, status: int, body: Any) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            if data:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, kind: str, message: str) -> None:
            self._send(status, {"error": {"message": message, "type": kind, "code": status}})

        def _authorized(self) -> bool:
            header = self.headers.get("Authorization") or ""
            if header == f"Bearer {TOKEN}":
                return True
            bearer = header.removeprefix("Bearer ")
            if bearer != header and state.accept_token and state.accept_token(bearer):
                return True
            self._error(401, "NotAuthorizedException", "Not authorized")
            return False

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _access(self, method: str, path: str, raw: bytes) -> bool:
            """An access route of the management API: answered (True) or not one (False)."""
            if not path.startswith(state.management_base + "/"):
                return False
            sub = path.removeprefix(state.management_base)
            if sub.startswith("/catalogs/") and sub.count("/") == 2:
                return False  # the catalog entity itself: below
            if not self._authorized():
                return True
            answer = access.handle(method, sub, json.loads(raw) if raw else None)
            if answer is None:
                return False
            self._send(*answer)
            return True

        def do_PUT(self) -> None:
            path = urllib.parse.urlparse(self.path).path
            state.requests.append(("PUT", path, self.headers.get("Authorization")))
            if not self._access("PUT", path, self._body()):
                self._error(404, "NotFoundException", f"no route {path}")

        def do_DELETE(self) -> None:
            path = urllib.parse.urlparse(self.path).path
            state.requests.append(("DELETE", path, self.headers.get("Authorization")))
            if not self._access("DELETE", path, self._body()):
                self._error(404, "NotFoundException", f"no route {path}")

        def do_POST(self) -> None:
            path = urllib.parse.urlparse(self.path).path
            raw = self._body()
            state.requests.append(("POST", path, self.headers.get("Authorization")))
            if path != "/api/management/v1/catalogs" and self._access("POST", path, raw):
                return
            if path == "/api/catalog/v1/oauth/tokens":
                form = dict(urllib.parse.parse_qsl(raw.decode()))
                ok = (
                    form.get("grant_type") == "client_credentials"
                    and form.get("client_id") == state.client_id
                    and form.get("client_secret") == state.client_secret
                )
                if not ok:
                    self._send(
                        401,
                        {
                            "error": "unauthorized_client",
                            "error_description": "The client is not authorized",
                        },
                    )
                    return
                self._send(
                    200,
                    {
                        "access_token": TOKEN,
                        "token_type": "bearer",
                        "expires_in": 3600,
                        "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
                    },
                )
                return
            if path == "/api/management/v1/catalogs" and self._authorized():
                catalog = json.loads(raw)["catalog"]
                if catalog["name"] in state.catalogs:
                    self._error(
                        409,
                        "AlreadyExistsException",
                        f"Cannot create Catalog {catalog['name']}. Catalog already exists",
                    )
                    return
                stored = {
                    **catalog,
                    "createTimestamp": 1,
                    "lastUpdateTimestamp": 1,
                    "entityVersion": 1,
                }
                state.catalogs[catalog["name"]] = stored
                self._send(201, stored)
                return
            if path.startswith("/api/management"):
                return
            self._error(404, "NotFoundException", f"no route {path}")

        def do_GET(self) -> None:
            parsed = urllib.parse.urlparse(self.path)
            path = parsed.path
            state.requests.append(("GET", path, self.headers.get("Authorization")))
            if self._access("GET", path, b""):
                return
            if not self._authorized():
                return
            if path.startswith("/api/management/v1/catalogs/"):
                name = path.rsplit("/", 1)[-1]
                if name not in state.catalogs:
                    self._error(404, "NotFoundException", f"Catalog {name} not found")
                    return
                self._send(200, state.catalogs[name])
                return
            if path == "/api/catalog/v1/config":
                warehouse = dict(urllib.parse.parse_qsl(parsed.query)).get("warehouse", "")
                self._send(
                    200,
                    {
                        "defaults": {},
                        "overrides": {"prefix": warehouse},
                        "endpoints": ["GET /v1/{prefix}/namespaces"],
                    },
                )
                return
            if path.endswith("/namespaces"):
                self._send(200, {"namespaces": [], "next-page-token": None})
                return
            self._error(404, "NotFoundException", f"no route {path}")

    return Handler


@contextmanager
def fake_polaris(
    client_id: str, client_secret: str, accept_token: Callable[[str], bool] | None = None
) -> Iterator[tuple[str, PolarisState]]:
    """Serve on 127.0.0.1:<free port>; yields (base URL, state)."""
    state = PolarisState(client_id, client_secret, accept_token=accept_token)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
