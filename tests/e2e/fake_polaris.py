"""A local HTTP server speaking the few Polaris endpoints floe calls, with their real shapes.

A live Polaris (a JVM service) cannot run on this machine. This double sits at the wire: it
implements the OAuth2 client-credentials token endpoint (``/api/catalog/v1/oauth/tokens``),
the management API's ``POST /catalogs`` and ``GET /catalogs/{name}`` (``/api/management/v1``)
and the Iceberg REST ``GET /v1/config`` and ``GET /v1/{prefix}/namespaces`` — enough for
floe's bootstrap and for PyIceberg's RestCatalog to connect. It records every request.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "polaris-token-123"


@dataclass
class PolarisState:
    """What the fake knows and saw."""

    client_id: str
    client_secret: str
    catalogs: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)


def _handler(state: PolarisState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output quiet
            return

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, kind: str, message: str) -> None:
            self._send(status, {"error": {"message": message, "type": kind, "code": status}})

        def _authorized(self) -> bool:
            if self.headers.get("Authorization") == f"Bearer {TOKEN}":
                return True
            self._error(401, "NotAuthorizedException", "Not authorized")
            return False

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def do_POST(self) -> None:
            path = urllib.parse.urlparse(self.path).path
            raw = self._body()
            state.requests.append(("POST", path, self.headers.get("Authorization")))
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
def fake_polaris(client_id: str, client_secret: str) -> Iterator[tuple[str, PolarisState]]:
    """Serve on 127.0.0.1:<free port>; yields (base URL, state)."""
    state = PolarisState(client_id, client_secret)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
