"""The chart's shell scripts: shellcheck-clean, and run with /bin/sh and curl against local
servers standing in for Polaris (token and management endpoints, http.server on 127.0.0.1)
and for S3 (moto's server, which speaks the S3 wire protocol)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from tests.chart.conftest import SCRIPTS

CLIENT_ID = "root"
CLIENT_SECRET = "s3cr3t-value"
TOKEN = "tok-123"
RUNNER = "floe-runner"
RUNNER_SECRET = "runner-s3cr3t-value"


@dataclass
class Polaris:
    """State of the stand-in: catalogs, principals, roles and grants, what was asked, and how
    it misbehaves (``fail`` answers a (method, path) with that status instead)."""

    catalogs: set[str] = field(default_factory=set)
    requests: list[tuple[str, str]] = field(default_factory=list)
    create_status: int = 201
    lose_created: bool = False  # answers 201 but never stores the catalog
    appear_after: int = 0  # the catalog appears after this many GETs of it
    gets: int = 0
    bodies: list[dict] = field(default_factory=list)
    credentials: dict[str, str] = field(default_factory=lambda: {CLIENT_ID: CLIENT_SECRET})
    principals: dict[str, str | None] = field(default_factory=dict)  # name -> client id
    principal_roles: dict[str, set[str]] = field(default_factory=dict)  # role -> principals
    catalog_roles: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # -> grants
    assigned: dict[str, set[tuple[str, str]]] = field(default_factory=dict)  # pr -> (cat, cr)
    sent: dict[tuple[str, str], dict] = field(default_factory=dict)  # the JSON of each call
    fail: dict[tuple[str, str], int] = field(default_factory=dict)


M = "/api/management/v1"


def _management(state: Polaris, method: str, path: str, body: dict) -> tuple[int, dict]:
    """The management API's principal, role and grant endpoints on ``state``."""
    parts = path.removeprefix(M + "/").split("/")
    match method, parts:
        case "POST", ["principals"]:
            name = body["principal"]["name"]
            if name in state.principals:
                return 409, {"error": {"message": "exists"}}
            state.principals[name] = None
            return 201, {"principal": {"name": name}, "credentials": {"clientSecret": "gen"}}
        case "POST", ["principals", name, "reset"] if name in state.principals:
            old = state.principals[name]
            state.credentials.pop(old or "", None)
            state.principals[name] = body["clientId"]
            state.credentials[body["clientId"]] = body["clientSecret"]
            return 200, {"principal": {"name": name}, "credentials": body}
        case "GET", ["principals", name] if name in state.principals:
            return 200, {"name": name, "clientId": state.principals[name]}
        case "POST", ["principal-roles"]:
            name = body["principalRole"]["name"]
            if name in state.principal_roles:
                return 409, {"error": {"message": "exists"}}
            state.principal_roles[name] = set()
            return 201, {"name": name}
        case "PUT", ["principals", name, "principal-roles"]:
            role = body["principalRole"]["name"]
            if name not in state.principals or role not in state.principal_roles:
                return 404, {"error": {"message": "not found"}}
            state.principal_roles[role].add(name)
            return 201, {}
        case "GET", ["principals", name, "principal-roles"] if name in state.principals:
            roles = [{"name": r} for r, who in sorted(state.principal_roles.items()) if name in who]
            return 200, {"roles": roles}
        case "POST", ["catalogs", cat, "catalog-roles"] if cat in state.catalogs:
            key = (cat, body["catalogRole"]["name"])
            if key in state.catalog_roles:
                return 409, {"error": {"message": "exists"}}
            state.catalog_roles[key] = set()
            return 201, {"name": key[1]}
        case "PUT", ["principal-roles", pr, "catalog-roles", cat]:
            key = (cat, body["catalogRole"]["name"])
            if pr not in state.principal_roles or key not in state.catalog_roles:
                return 404, {"error": {"message": "not found"}}
            state.assigned.setdefault(pr, set()).add(key)
            return 201, {}
        case "GET", ["principal-roles", pr, "catalog-roles", cat] if pr in state.principal_roles:
            roles = [{"name": cr} for c, cr in sorted(state.assigned.get(pr, set())) if c == cat]
            return 200, {"roles": roles}
        case "PUT", ["catalogs", cat, "catalog-roles", cr, "grants"] if (cat, cr) in (
            state.catalog_roles
        ):
            state.catalog_roles[(cat, cr)].add(body["grant"]["privilege"])
            return 201, {}
        case "GET", ["catalogs", cat, "catalog-roles", cr, "grants"] if (cat, cr) in (
            state.catalog_roles
        ):
            grants = [
                {"type": "catalog", "privilege": g} for g in sorted(state.catalog_roles[(cat, cr)])
            ]
            return 200, {"grants": grants}
    return 404, {"error": {"message": f"{method} {path}: not found"}}


def _handler(state: Polaris) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            """Quiet."""

        def _send(self, code: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _authorized(self) -> bool:
            return self.headers.get("Authorization") == f"Bearer {TOKEN}"

        def _body(self) -> str:
            return self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()

        def do_GET(self) -> None:
            state.requests.append(("GET", self.path))
            if ("GET", self.path) in state.fail:
                self._send(state.fail["GET", self.path], {"error": "injected"})
            elif self.path == "/q/health/ready":
                self._send(200, {"status": "UP"})
            elif self.path.startswith(f"{M}/catalogs/") and self.path.count("/") == 5:
                name = self.path.rsplit("/", 1)[1]
                state.gets += 1
                if state.gets > state.appear_after and state.appear_after:
                    state.catalogs.add(name)
                if not self._authorized():
                    self._send(401, {"error": "unauthorized"})
                elif name in state.catalogs:
                    self._send(200, {"type": "INTERNAL", "name": name, "properties": {}})
                else:
                    self._send(404, {"error": {"message": f"Catalog {name} not found"}})
            elif self.path.startswith(M) and self._authorized():
                self._send(*_management(state, "GET", self.path, {}))
            else:
                self._send(404, {})

        def do_PUT(self) -> None:
            raw = self._body()
            state.requests.append(("PUT", self.path))
            state.sent["PUT", self.path] = json.loads(raw)
            if ("PUT", self.path) in state.fail:
                self._send(state.fail["PUT", self.path], {"error": "injected"})
            elif self._authorized():
                self._send(*_management(state, "PUT", self.path, json.loads(raw)))
            else:
                self._send(401, {"error": "unauthorized"})

        def do_POST(self) -> None:
            raw = self._body()
            state.requests.append(("POST", self.path))
            if self.path == "/api/catalog/v1/oauth/tokens":
                form = {k: v[0] for k, v in parse_qs(raw).items()}
                client = form.get("client_id", "")
                ok = (
                    client in state.credentials
                    and form.get("client_secret") == (state.credentials[client])
                )
                if ok and form.get("grant_type") == "client_credentials":
                    self._send(200, {"access_token": TOKEN if client == CLIENT_ID else "runner-tok",
                                     "token_type": "bearer"})  # fmt: skip
                else:
                    self._send(401, {"error": "unauthorized_client"})
                return
            state.sent["POST", self.path] = json.loads(raw)
            if ("POST", self.path) in state.fail:
                self._send(state.fail["POST", self.path], {"error": "injected"})
            elif self.path == f"{M}/catalogs" and self._authorized():
                body = json.loads(raw)
                state.bodies.append(body)
                name = body["catalog"]["name"]
                if name in state.catalogs:
                    self._send(409, {"error": {"message": "already exists"}})
                    return
                if state.create_status == 201 and not state.lose_created:
                    state.catalogs.add(name)
                self._send(state.create_status, body["catalog"])
            elif self.path.startswith(M) and self._authorized():
                self._send(*_management(state, "POST", self.path, json.loads(raw)))
            else:
                self._send(401, {"error": "unauthorized"})

    return Handler


@pytest.fixture
def polaris() -> Iterator[tuple[Polaris, str]]:
    """A Polaris stand-in on 127.0.0.1 (one port for API and management)."""
    state = Polaris()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _run(script: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ["PATH"], "POLL_INTERVAL": "0.1"}
    return subprocess.run(["/bin/sh", str(SCRIPTS / script), *args], env={**base, **env},
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip


def _polaris_env(url: str, **extra: str) -> dict[str, str]:
    body = {"catalog": {"name": "floe", "type": "INTERNAL", "properties": {}}}
    return {"POLARIS_URL": url, "POLARIS_MANAGEMENT_URL": url, "POLARIS_CLIENT_ID": CLIENT_ID,
            "POLARIS_CLIENT_SECRET": CLIENT_SECRET, "CATALOG_NAME": "floe",
            "CATALOG_BODY": json.dumps(body), "READY_TIMEOUT": "5", "RUNNER_PRINCIPAL": RUNNER,
            "RUNNER_CLIENT_ID": RUNNER, "RUNNER_CLIENT_SECRET": RUNNER_SECRET, **extra}  # fmt: skip


@pytest.mark.requirement("NF-7")
def test_scripts_pass_shellcheck() -> None:
    """Every script of the chart passes shellcheck (Debian's package; `make tools`)."""
    scripts = sorted(SCRIPTS.glob("*.sh"))
    assert [p.name for p in scripts] == [
        "buckets.sh", "helm-recover.sh", "lib.sh", "polaris-bootstrap.sh", "wait-for-services.sh"
    ]  # fmt: skip
    proc = subprocess.run(["shellcheck", "-x", "-s", "sh", *map(str, scripts)], cwd=SCRIPTS,
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stdout


@pytest.mark.requirement("15-FR-001")
@pytest.mark.requirement("WU1-AC1")
def test_bootstrap_creates_then_verifies_the_catalog(polaris: tuple[Polaris, str]) -> None:
    """Ready → token → POST (201) → GET of the catalog: exit 0, in that order, with the
    values' body; the secret never appears in the script's output."""
    state, url = polaris
    proc = _run("polaris-bootstrap.sh", _polaris_env(url))
    assert proc.returncode == 0, proc.stderr
    assert state.requests[:4] == [
        ("GET", "/q/health/ready"),
        ("POST", "/api/catalog/v1/oauth/tokens"),
        ("POST", "/api/management/v1/catalogs"),
        ("GET", "/api/management/v1/catalogs/floe"),
    ]
    assert state.bodies == [{"catalog": {"name": "floe", "type": "INTERNAL", "properties": {}}}]
    assert "catalog 'floe' verified" in proc.stderr
    assert CLIENT_SECRET not in proc.stdout + proc.stderr


#: The runner principal's calls after the catalog is verified, in order.
RUNNER_CALLS = [
    ("POST", f"{M}/principals"),
    ("POST", f"{M}/principals/{RUNNER}/reset"),
    ("POST", f"{M}/principal-roles"),
    ("PUT", f"{M}/principals/{RUNNER}/principal-roles"),
    ("POST", f"{M}/catalogs/floe/catalog-roles"),
    ("PUT", f"{M}/principal-roles/{RUNNER}/catalog-roles/floe"),
    ("PUT", f"{M}/catalogs/floe/catalog-roles/{RUNNER}/grants"),
    ("GET", f"{M}/principals/{RUNNER}"),
    ("GET", f"{M}/principals/{RUNNER}/principal-roles"),
    ("GET", f"{M}/principal-roles/{RUNNER}/catalog-roles/floe"),
    ("GET", f"{M}/catalogs/floe/catalog-roles/{RUNNER}/grants"),
    ("POST", "/api/catalog/v1/oauth/tokens"),
]


@pytest.mark.requirement("WU1-AC1")
def test_bootstrap_creates_the_runner_principal_and_verifies_it_logs_in(
    polaris: tuple[Polaris, str],
) -> None:
    """After the catalog: the principal the products name (client_id floe-runner) is
    created, given the credentials of its Secret, a principal role, a catalog role on the
    catalog and CATALOG_MANAGE_CONTENT — with exactly these calls and bodies — then read
    back and logged in with; no secret appears in the output."""
    state, url = polaris
    proc = _run("polaris-bootstrap.sh", _polaris_env(url))
    assert proc.returncode == 0, proc.stderr
    assert state.requests[4:] == RUNNER_CALLS
    assert state.sent["POST", f"{M}/principals"] == {
        "principal": {"name": RUNNER, "properties": {}}, "credentialRotationRequired": False
    }  # fmt: skip
    assert state.sent["POST", f"{M}/principals/{RUNNER}/reset"] == {
        "clientId": RUNNER, "clientSecret": RUNNER_SECRET
    }  # fmt: skip
    assert state.sent["POST", f"{M}/principal-roles"] == {"principalRole": {"name": RUNNER}}
    assert state.sent["PUT", f"{M}/principals/{RUNNER}/principal-roles"] == {
        "principalRole": {"name": RUNNER}
    }
    assert state.sent["POST", f"{M}/catalogs/floe/catalog-roles"] == {
        "catalogRole": {"name": RUNNER}
    }
    assert state.sent["PUT", f"{M}/catalogs/floe/catalog-roles/{RUNNER}/grants"] == {
        "grant": {"type": "catalog", "privilege": "CATALOG_MANAGE_CONTENT"}
    }
    assert state.principals == {RUNNER: RUNNER}
    assert state.credentials[RUNNER] == RUNNER_SECRET
    assert state.principal_roles == {RUNNER: {RUNNER}}
    assert state.assigned == {RUNNER: {("floe", RUNNER)}}
    assert state.catalog_roles == {("floe", RUNNER): {"CATALOG_MANAGE_CONTENT"}}
    assert (
        f"principal '{RUNNER}' verified: it logs in and holds CATALOG_MANAGE_CONTENT on "
        "catalog 'floe'"
    ) in proc.stderr
    for secret in (CLIENT_SECRET, RUNNER_SECRET, "gen"):
        assert secret not in proc.stdout + proc.stderr


@pytest.mark.requirement("WU1-BC1")
def test_bootstrap_of_the_runner_principal_is_idempotent(polaris: tuple[Polaris, str]) -> None:
    """A second run (an upgrade's hook) meets 409 for the catalog, principal, principal role
    and catalog role, counts them as success, sets the same credentials and verifies again."""
    state, url = polaris
    first = _run("polaris-bootstrap.sh", _polaris_env(url))
    assert first.returncode == 0, first.stderr
    state.requests.clear()
    again = _run("polaris-bootstrap.sh", _polaris_env(url))
    assert again.returncode == 0, again.stderr
    assert state.requests[4:] == RUNNER_CALLS
    for what in ("catalog 'floe'", f"principal '{RUNNER}'", f"principal role '{RUNNER}'",
                 f"catalog role '{RUNNER}' of catalog 'floe'"):  # fmt: skip
        assert f"{what} already exists" in again.stderr
    assert state.catalog_roles == {("floe", RUNNER): {"CATALOG_MANAGE_CONTENT"}}
    assert state.credentials == {CLIENT_ID: CLIENT_SECRET, RUNNER: RUNNER_SECRET}


@pytest.mark.requirement("WU1-AC1")
@pytest.mark.parametrize(
    ("call", "status", "message"),
    [
        (("POST", f"{M}/principals"), 403, f"creating principal '{RUNNER}' answered HTTP 403"),
        (("POST", f"{M}/principals/{RUNNER}/reset"), 404,
         f"setting the credentials of principal '{RUNNER}' answered HTTP 404"),
        (("PUT", f"{M}/catalogs/floe/catalog-roles/{RUNNER}/grants"), 500,
         f"creating grant CATALOG_MANAGE_CONTENT to catalog role '{RUNNER}' answered HTTP 500"),
        (("GET", f"{M}/catalogs/floe/catalog-roles/{RUNNER}/grants"), 404,
         f"grant CATALOG_MANAGE_CONTENT of catalog role '{RUNNER}' cannot be read back"),
        (("GET", f"{M}/principals/{RUNNER}"), 404, f"principal '{RUNNER}' cannot be read back"),
    ],
)  # fmt: skip
def test_bootstrap_fails_when_a_runner_step_fails(
    polaris: tuple[Polaris, str], call: tuple[str, str], status: int, message: str
) -> None:
    """Any refused create or a read-back that does not answer 200 exits 1 naming the step,
    and nothing after that step is asked."""
    state, url = polaris
    state.fail[call] = status
    proc = _run("polaris-bootstrap.sh", _polaris_env(url))
    assert proc.returncode == 1
    assert f"error: {message}" in proc.stderr
    assert state.requests[4:] == RUNNER_CALLS[: RUNNER_CALLS.index(call) + 1]
    assert RUNNER_SECRET not in proc.stdout + proc.stderr


@pytest.mark.requirement("WU1-BC4")
def test_bootstrap_fails_when_the_runner_cannot_log_in(polaris: tuple[Polaris, str]) -> None:
    """Polaris acknowledges the credentials reset but does not keep them (the runner's token
    request answers 401): exit 1 — products would not log in either."""
    state, url = polaris
    state.fail["POST", f"{M}/principals/{RUNNER}/reset"] = 200  # acknowledged, not applied
    proc = _run("polaris-bootstrap.sh", _polaris_env(url))
    assert proc.returncode == 1
    assert f"token request to {url}/api/catalog/v1/oauth/tokens failed for client '{RUNNER}'" in (
        proc.stderr
    )
    assert f"error: principal '{RUNNER}' cannot log in with the credentials of its Secret" in (
        proc.stderr
    )
    assert state.requests[4:] == RUNNER_CALLS


@pytest.mark.requirement("WU1-BC1")
def test_bootstrap_counts_an_existing_catalog_as_success(polaris: tuple[Polaris, str]) -> None:
    """409 on create is success, and the catalog is still verified."""
    state, url = polaris
    state.catalogs.add("floe")
    proc = _run("polaris-bootstrap.sh", _polaris_env(url))
    assert proc.returncode == 0, proc.stderr
    assert "catalog 'floe' already exists" in proc.stderr
    assert state.requests[3] == ("GET", "/api/management/v1/catalogs/floe")


@pytest.mark.requirement("WU1-AC1")
def test_bootstrap_fails_when_the_created_catalog_cannot_be_read_back(
    polaris: tuple[Polaris, str],
) -> None:
    """A 201 whose catalog then answers 404 exits 1 — creation alone is never trusted."""
    state, url = polaris
    state.lose_created = True
    proc = _run("polaris-bootstrap.sh", _polaris_env(url))
    assert proc.returncode == 1
    assert "catalog 'floe' not found" in proc.stderr
    assert "cannot be read back after creation" in proc.stderr


@pytest.mark.requirement("WU1-AC1")
def test_bootstrap_fails_on_an_unexpected_create_status(polaris: tuple[Polaris, str]) -> None:
    """Neither 201 nor 409 (here 500) exits 1 naming the status; no verification follows."""
    state, url = polaris
    state.create_status = 500
    proc = _run("polaris-bootstrap.sh", _polaris_env(url))
    assert proc.returncode == 1
    assert "creating catalog 'floe' answered HTTP 500" in proc.stderr
    assert ("GET", "/api/management/v1/catalogs/floe") not in state.requests


@pytest.mark.requirement("WU1-BC4")
def test_bootstrap_fails_clearly_when_no_token_is_granted(polaris: tuple[Polaris, str]) -> None:
    """A wrong client secret: the token endpoint answers 401, the script exits 1 with the
    endpoint and client in the message, and creates nothing."""
    state, url = polaris
    proc = _run("polaris-bootstrap.sh", _polaris_env(url, POLARIS_CLIENT_SECRET="wrong"))
    assert proc.returncode == 1
    assert f"token request to {url}/api/catalog/v1/oauth/tokens failed for client 'root'" in (
        proc.stderr
    )
    assert "unauthorized_client" in proc.stderr
    assert ("POST", "/api/management/v1/catalogs") not in state.requests


@pytest.mark.requirement("WU1-BC2")
def test_bootstrap_fails_when_polaris_is_not_ready_in_time() -> None:
    """No Polaris answering: the readiness wait ends at READY_TIMEOUT with exit 1."""
    proc = _run("polaris-bootstrap.sh", _polaris_env("http://127.0.0.1:9", READY_TIMEOUT="1"))
    assert proc.returncode == 1
    assert "http://127.0.0.1:9/q/health/ready not ready within 1 s" in proc.stderr


@pytest.mark.requirement("WU1-AC3")
def test_wait_gates_on_the_catalog_existing_through_the_api(
    polaris: tuple[Polaris, str],
) -> None:
    """Services ready is not enough: the wait polls GET /api/management/v1/catalogs/floe
    with one token until the catalog exists (here from the 3rd GET on), then exits 0."""
    state, url = polaris
    state.appear_after = 2
    proc = _run("wait-for-services.sh", _polaris_env(url, TIMEOUT="30"), f"{url}/q/health/ready")
    assert proc.returncode == 0, proc.stderr
    gets = [r for r in state.requests if r == ("GET", "/api/management/v1/catalogs/floe")]
    assert len(gets) == 3
    assert state.requests.count(("POST", "/api/catalog/v1/oauth/tokens")) == 1
    assert "ready: catalog 'floe'" in proc.stderr


@pytest.mark.requirement("FR-002")
def test_wait_fails_at_its_timeout_when_the_catalog_never_appears(
    polaris: tuple[Polaris, str],
) -> None:
    """A catalog that never exists: exit 1 at the configurable TIMEOUT, saying so."""
    _state, url = polaris
    proc = _run("wait-for-services.sh", _polaris_env(url, TIMEOUT="1"))
    assert proc.returncode == 1
    assert f"catalog 'floe' does not exist at {url} after 1 s" in proc.stderr


@pytest.mark.requirement("WU1-AC4")
def test_one_token_function_serves_every_script() -> None:
    """The token request lives in lib.sh's polaris_token only; the scripts call it."""
    texts = {p.name: p.read_text() for p in SCRIPTS.glob("*.sh")}
    assert [n for n, t in texts.items() if "oauth/tokens" in t] == ["lib.sh"]
    callers = sorted(n for n, t in texts.items() if 'polaris_token "$POLARIS_URL"' in t)
    assert callers == ["polaris-bootstrap.sh", "wait-for-services.sh"]


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    """moto's S3 server on 127.0.0.1."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def _s3_env(endpoint: str, buckets: str) -> dict[str, str]:
    return {"S3_ENDPOINT": endpoint, "S3_REGION": "us-east-1", "BUCKETS": buckets,
            "AWS_ACCESS_KEY_ID": "floe", "AWS_SECRET_ACCESS_KEY": "floe-secret-key",
            "READY_TIMEOUT": "5"}  # fmt: skip


@pytest.mark.requirement("15-FR-004")
@pytest.mark.requirement("TQR-021")
@pytest.mark.requirement("FR-005")
def test_bucket_job_creates_and_verifies_every_bucket(s3_server: str) -> None:
    """Signed (SigV4) PUT of each bucket, then HEAD of each; a second run finds them all
    (exit 0 again); the buckets are really there when listed through boto3."""
    import boto3

    env = _s3_env(s3_server, "floe-warehouse floe-staging")
    first = _run("buckets.sh", env)
    assert first.returncode == 0, first.stderr
    assert "bucket 'floe-warehouse' verified" in first.stderr
    assert "bucket 'floe-staging' verified" in first.stderr
    again = _run("buckets.sh", env)
    assert again.returncode == 0, again.stderr
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1",
                          aws_access_key_id="floe", aws_secret_access_key="x")  # fmt: skip
    names = {b["Name"] for b in client.list_buckets()["Buckets"]}
    assert {"floe-warehouse", "floe-staging"} <= names
    assert "floe-secret-key" not in first.stderr + first.stdout


class _ForgetfulS3(BaseHTTPRequestHandler):
    """An S3 stand-in that answers 200 to every request but HEAD of a bucket (404): the
    bucket is acknowledged, then missing."""

    def log_message(self, *args: object) -> None:
        """Quiet."""

    def _answer(self, code: int) -> None:
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        self._answer(200)

    def do_PUT(self) -> None:
        self._answer(200)

    def do_HEAD(self) -> None:
        self._answer(404)


@pytest.mark.requirement("WU1-BC3")
def test_bucket_job_fails_when_a_bucket_is_missing_after_creation() -> None:
    """Creation acknowledged but the bucket then missing (HEAD 404): exit 1 naming it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ForgetfulS3)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        proc = _run("buckets.sh", _s3_env(url, "floe-warehouse"))
    finally:
        server.shutdown()
        server.server_close()
    assert proc.returncode == 1
    assert "bucket 'floe-warehouse' created" in proc.stderr
    assert "bucket 'floe-warehouse' missing after creation (HTTP 404)" in proc.stderr


@pytest.mark.requirement("WU1-AC2")
def test_bucket_job_fails_when_storage_is_unreachable() -> None:
    """No object storage answering: exit 1 at READY_TIMEOUT, nothing claimed."""
    proc = _run("buckets.sh", {**_s3_env("http://127.0.0.1:9", "floe-warehouse"),
                               "READY_TIMEOUT": "1"})  # fmt: skip
    assert proc.returncode == 1
    assert "object storage http://127.0.0.1:9 not ready within 1 s" in proc.stderr


FAKE_HELM = """#!/bin/sh
# Stand-in for the helm CLI: answers `history` from $HISTORY_JSON, records other calls.
printf '%s\\n' "$*" >> "$CALLS"
case "$1" in
    history)
        case "$*" in
            *"--max 1"*) printf '%s\\n' "$LATEST_JSON" ;;
            *) printf '%s\\n' "$HISTORY_JSON" ;;
        esac
        [ -n "$HISTORY_JSON" ] || exit 1 ;;
esac
"""


def _history(*states: str) -> str:
    return json.dumps([{"revision": i + 1, "status": s, "chart": "floe-platform-0.1.0"}
                       for i, s in enumerate(states)], separators=(",", ":"))  # fmt: skip


@pytest.mark.requirement("WU1-AC5")
@pytest.mark.parametrize(
    ("states", "action"),
    [
        (("pending-install",), "uninstall floe -n floe-platform --wait"),
        (("superseded", "deployed", "pending-upgrade"), "rollback floe 2 -n floe-platform --wait"),
        (("deployed", "failed"), "rollback floe 1 -n floe-platform --wait"),
        (("failed",), "uninstall floe -n floe-platform --wait"),
        (("superseded", "deployed"), None),
        ((), None),
    ],
)
def test_recovery_of_a_stuck_release(tmp_path: Path, states: tuple[str, ...], action: str) -> None:
    """helm-recover.sh reads the release history and uninstalls a never-deployed release,
    rolls a pending or failed one back to its last deployed revision, and leaves a deployed
    (or absent) release alone. The helm CLI is a stand-in that records the calls."""
    helm = tmp_path / "helm"
    helm.write_text(FAKE_HELM)
    helm.chmod(0o755)
    calls = tmp_path / "calls"
    history = _history(*states) if states else ""
    latest = json.dumps(json.loads(history)[-1:], separators=(",", ":")) if states else ""
    env = {"HELM": str(helm), "CALLS": str(calls), "HISTORY_JSON": history,
           "LATEST_JSON": latest}  # fmt: skip
    proc = _run("helm-recover.sh", env, "floe", "floe-platform")
    assert proc.returncode == 0, proc.stderr
    made = [c for c in calls.read_text().splitlines() if not c.startswith("history")]
    assert made == ([action] if action else [])


@pytest.mark.requirement("WU1-BC5")
def test_pending_upgrade_is_rolled_back_before_the_upgrade(tmp_path: Path) -> None:
    """The CI workflow runs the recovery right before `helm upgrade --install`."""
    workflow = (Path(__file__).resolve().parents[2] / ".github/workflows/kind.yml").read_text()
    recover = workflow.index('helm-recover.sh floe "$NAMESPACE"')
    upgrade = workflow.index("helm upgrade --install floe")
    assert recover < upgrade
    assert shutil.which("curl") is not None


@pytest.mark.requirement("WU1-AC6")
@pytest.mark.requirement("15-FR-003")
@pytest.mark.requirement("WU8-AC2")
def test_cluster_tests_start_only_after_recovery_deployment_and_catalog_readiness() -> None:
    """The Kind workflow's steps, in order: recover a stuck release, then `helm upgrade
    --install … --wait` (the release deployed, every pod ready) in the same step; then the
    wait for the platform, polling Polaris's readiness on its management port (the chart's
    polaris.ports.management, port-forwarded) and the catalog through the API; only then
    `pytest -m cluster`. No step may fail silently (no continue-on-error)."""
    import yaml

    root = Path(__file__).resolve().parents[2]
    workflow = yaml.safe_load((root / ".github/workflows/kind.yml").read_text())
    steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
    runs = [str(s.get("run", "")) for s in steps]

    def step(text: str) -> int:
        (index,) = [i for i, run in enumerate(runs) if text in run]
        return index

    install, wait, tests = (step("helm upgrade --install floe"), step("wait-for-services.sh"),
                            step("pytest -m cluster"))  # fmt: skip
    assert install < wait < tests
    assert runs[install].index("helm-recover.sh floe") < runs[install].index("helm upgrade")
    assert "--wait" in runs[install].split()
    assert not [s for s in steps[: tests + 1] if s.get("continue-on-error") or "if" in s]
    values = yaml.safe_load((root / "charts/floe-platform/values.yaml").read_text())
    management = values["polaris"]["ports"]["management"]
    assert f"POLARIS_MANAGEMENT_URL=http://127.0.0.1:{management}" in runs[wait]
    assert f"{management}:{management}" in runs[wait]
    script = (SCRIPTS / "wait-for-services.sh").read_text()
    assert 'wait_ready "$POLARIS_MANAGEMENT_URL/q/health/ready"' in script
