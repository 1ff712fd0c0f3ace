"""`floe platform up|status` asks every configured plugin, of every category, for its health
(FR-055): the checks `floe.app.platform.checks` returns, per plugin of the manifest."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from floe.app.platform import checks
from tests.e2e.servers import free_port

MANIFEST = """\
apiVersion: floe.dev/v1
kind: Manifest
metadata: {{name: health, version: 1.0.0, owner: platform@example.com}}
plugins:
  compute: {{type: duckdb}}
  orchestrator: {{type: dagster}}
  catalog: {{type: sql}}
  storage: {{type: local}}
  secrets: {{type: file, config: {{path: {secrets}}}}}
  telemetry_backend: {{type: otlp, config: {{endpoint: "http://127.0.0.1:{closed}"}}}}
  lineage_backend: {{type: http, config: {{url: "http://127.0.0.1:{closed}"}}}}
  alert_channel: {{type: webhook, config: {{url: "http://127.0.0.1:{listening}/hook"}}}}
"""


@pytest.fixture
def listening() -> Iterator[int]:
    """A local TCP port that accepts connections (the webhook's receiver)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


@pytest.mark.requirement("FR-055")
def test_up_and_status_call_the_health_check_of_every_configured_plugin(
    tmp_path: Path, listening: int
) -> None:
    """Eight categories configured → eight plugin checks besides home/catalog/warehouse, each
    with its plugin's own answer: a missing secrets folder fails, unreachable telemetry and
    lineage endpoints are degraded (ok: a run goes on without them), a listening webhook host
    is healthy; `status` asks again and gets the same answers."""
    closed = free_port()
    manifest = tmp_path / "manifest.yaml"
    missing = tmp_path / "no-secrets"
    manifest.write_text(MANIFEST.format(secrets=missing, closed=closed, listening=listening))
    for create in (True, False):
        _, found = checks(manifest, "dev", create=create)
        by_name = {c.name: (c.ok, c.detail) for c in found}
        plugin_checks = {n for n in by_name if n.startswith("plugin ")}
        assert plugin_checks == {
            "plugin compute:duckdb", "plugin orchestrator:dagster", "plugin catalog:sql",
            "plugin storage:local", "plugin secrets:file", "plugin telemetry_backend:otlp",
            "plugin lineage_backend:http", "plugin alert_channel:webhook",
        }  # fmt: skip
        assert by_name["plugin secrets:file"] == (False, f"{missing} is not a directory")
        for name in ("plugin telemetry_backend:otlp", "plugin lineage_backend:http"):
            ok, detail = by_name[name]
            assert ok, name
            assert detail.startswith(f"127.0.0.1:{closed} unreachable ("), detail
        assert by_name["plugin lineage_backend:http"][1].endswith("lineage events will be dropped")
        assert by_name["plugin telemetry_backend:otlp"][1].endswith("spans will be dropped")
        assert by_name["plugin alert_channel:webhook"] == (True, f"127.0.0.1:{listening} answers")
        assert by_name["plugin catalog:sql"] == (True, "SQLite catalog.db in the platform home")
        assert [n for n, (ok, _) in by_name.items() if not ok] == ["plugin secrets:file"]
