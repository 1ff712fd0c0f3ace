"""`floe platform status` on a deployed platform: every service of the manifest's
`platform.services` checked on its real health endpoint, against local servers answering
exactly those paths (stand-ins at the wire for the cluster's services)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from tests.conftest import TINY_MANIFEST, run_floe

#: The health path each kind must be asked on (what the real services answer).
PATHS = {
    "polaris": "/q/health/ready",
    "object_storage": "/minio/health/ready",
    "dagster": "/server_info",
    "marquez": "/healthcheck",
    "jaeger": "/status",
    "otel_collector": "/",
    "prometheus": "/-/ready",
    "grafana": "/api/health",
}


@pytest.fixture
def health_server() -> Iterator[tuple[str, list[str]]]:
    """One local server answering 200 on the health paths only (404 elsewhere)."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            """Quiet."""

        def do_GET(self) -> None:
            seen.append(self.path)
            code = 200 if self.path in PATHS.values() else 404
            self.send_response(code)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _manifest(tmp_path: Path, services: dict[str, dict[str, str]]) -> Path:
    doc = yaml.safe_load(TINY_MANIFEST)
    doc["platform"] = {"services": services}
    (tmp_path / "home").mkdir()  # the platform home `floe platform up` made
    path = tmp_path / "manifest.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.mark.requirement("TQR-021")
@pytest.mark.requirement("FR-003")
def test_status_checks_every_service_on_its_health_endpoint_one_down(
    tmp_path: Path, health_server: tuple[str, list[str]]
) -> None:
    """Eight services, Grafana down: one table with a row per service, the seven that answer
    ok on their own health path, Grafana FAILED with the refused connection, exit 2."""
    url, seen = health_server
    services = {kind.replace("_", "-"): {"kind": kind, "url": url} for kind in PATHS}
    services["grafana"]["url"] = f"http://127.0.0.1:{_closed_port()}"
    manifest = _manifest(tmp_path, services)
    result = run_floe("platform", "status", "--manifest", manifest,
                      env={"FLOE_HOME": str(tmp_path / "home")})  # fmt: skip
    assert result.code == 2, result.out + result.err
    rows = {line.split("│")[1].strip(): line for line in result.out.splitlines()
            if line.startswith("│") and "service " in line}  # fmt: skip
    assert sorted(rows) == sorted(f"service {name}" for name in services)
    for name, kind in ((n, s["kind"]) for n, s in services.items()):
        row = rows[f"service {name}"]
        if name == "grafana":
            assert "FAILED" in row
            assert "Connection refused" in row
        else:
            assert "ok" in row
            assert f"{url}{PATHS[kind]} → 200" in row
    assert sorted(seen) == sorted(p for k, p in PATHS.items() if k != "grafana")


@pytest.mark.requirement("FR-007")
def test_status_passes_when_every_service_answers(
    tmp_path: Path, health_server: tuple[str, list[str]]
) -> None:
    """All services up (a path override included): exit 0; a wrong path would be a 404."""
    url, seen = health_server
    services = {
        "jaeger": {"kind": "jaeger", "url": url},
        "grafana": {"kind": "grafana", "url": url + "/"},
        "ui": {"kind": "http", "url": url, "path": "/-/ready"},
    }
    result = run_floe("platform", "status", "--manifest", _manifest(tmp_path, services),
                      env={"FLOE_HOME": str(tmp_path / "home")})  # fmt: skip
    assert result.code == 0, result.out + result.err
    assert sorted(seen) == ["/-/ready", "/api/health", "/status"]


@pytest.mark.requirement("FR-003")
def test_cluster_manifest_names_every_chart_service_on_its_health_port() -> None:
    """demo/manifest-cluster.yaml lists the chart's services by their in-cluster names and
    health ports, so `floe platform status --manifest demo/manifest-cluster.yaml` checks
    the platform the chart installs."""
    root = Path(__file__).resolve().parents[2]
    doc = yaml.safe_load((root / "demo" / "manifest-cluster.yaml").read_text())
    services = doc["platform"]["services"]
    suffix = "floe-platform.svc.cluster.local"
    assert {n: (s["kind"], s["url"]) for n, s in services.items()} == {
        "polaris": ("polaris", f"http://polaris.{suffix}:8182"),
        "object-storage": ("object_storage", f"http://minio.{suffix}:9000"),
        "dagster": ("dagster", f"http://dagster-webserver.{suffix}:3000"),
        "marquez": ("marquez", f"http://marquez.{suffix}:5001"),
        "jaeger": ("jaeger", f"http://jaeger.{suffix}:13133"),
        "otel-collector": ("otel_collector", f"http://otel-collector.{suffix}:13133"),
        "prometheus": ("prometheus", f"http://prometheus.{suffix}:9090"),
        "grafana": ("grafana", f"http://grafana.{suffix}:3000"),
    }
