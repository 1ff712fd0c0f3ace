"""Where telemetry and lineage go: manifest, then backend plugin, then standard variables."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from floe.compile.api import compile_product
from floe.observe.logs import redact_secrets
from floe.observe.settings import lineage_target, trace_target
from floe.spec.artifacts import CompiledArtifacts
from tests.conftest import TINY_MANIFEST, write_tiny


def _artifacts(root: Path, manifest: str = TINY_MANIFEST) -> CompiledArtifacts:
    product = write_tiny(root, manifest=manifest)
    ctx = compile_product(product)
    assert ctx.artifacts is not None
    return ctx.artifacts


WITH_PLUGINS = TINY_MANIFEST.replace(
    "  storage:\n    type: local\n",
    "  storage:\n    type: local\n"
    "  telemetry_backend:\n    type: otlp\n"
    "    config: {endpoint: 'http://collector:4318', protocol: grpc, timeout_seconds: 2}\n"
    "  lineage_backend:\n    type: marquez\n"
    "    config: {url: 'https://marquez:5000', api_key: {secret: OL_KEY}}\n",
)


@pytest.mark.requirement("FR-040")
def test_embedded_defaults_write_to_the_platform_home(tmp_path: Path) -> None:
    """Without plugins or variables: spans and lineage go to the 'file' backends; the service
    is named after the product and the lineage namespace is the product."""
    art = _artifacts(tmp_path / "p")
    traces, lineage = trace_target(art, env={}), lineage_target(art, env={})
    assert (traces.exporter, traces.service_name) == ("file", "floe-tiny")
    assert (lineage.transport, lineage.namespace) == ("file", "tiny")


@pytest.mark.requirement("FR-052")
def test_plugins_choose_the_backends_and_secrets_resolve_at_run_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The telemetry_backend/lineage_backend plugins override observability; the lineage API
    key is a {secret: NAME} resolved only now."""
    monkeypatch.setenv("OL_KEY", "k-123")
    art = _artifacts(tmp_path / "p", WITH_PLUGINS)
    assert "k-123" not in art.model_dump_json()
    traces = trace_target(art, env={})
    assert (traces.exporter, traces.protocol, traces.otlp_url, traces.timeout_seconds) == (
        "otlp", "grpc", "http://collector:4318", 2.0
    )  # fmt: skip
    lineage = lineage_target(art, env={})
    assert (lineage.transport, lineage.url, lineage.api_key) == (
        "http", "https://marquez:5000", "k-123"
    )  # fmt: skip


@pytest.mark.requirement("FR-047")
def test_standard_variables_override_everything(tmp_path: Path) -> None:
    """OTEL_* and OPENLINEAGE_* beat the plugins (the plugin's secret is then not even
    resolved); OTEL_SDK_DISABLED/OPENLINEAGE_DISABLED switch the backends off."""
    art = _artifacts(tmp_path / "p", WITH_PLUGINS)
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://other:4318",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_SERVICE_NAME": "svc",
        "OPENLINEAGE_URL": "http://ol:8080",
        "OPENLINEAGE_API_KEY": "env-key",
    }
    traces = trace_target(art, env=env)
    assert (traces.otlp_url, traces.service_name) == ("http://other:4318/v1/traces", "svc")
    lineage = lineage_target(art, env=env)
    assert (lineage.url, lineage.api_key) == ("http://ol:8080", "env-key")
    off = {"OTEL_SDK_DISABLED": "true", "OPENLINEAGE_DISABLED": "true", "OPENLINEAGE_API_KEY": "x"}
    assert trace_target(art, env=off).exporter == "none"
    assert lineage_target(art, env=off).transport == "none"


@pytest.mark.requirement("FR-065")
def test_log_lines_never_carry_credential_values() -> None:
    """Keys naming a credential are redacted by the log processor; others pass unchanged."""
    event = {"event": "x", "api_key": "k", "password": "p", "token": "t", "rows": 3}
    assert redact_secrets(logging.getLogger(), "info", event) == {
        "event": "x", "api_key": "***", "password": "***", "token": "***", "rows": 3
    }  # fmt: skip


@pytest.mark.requirement("FR-047")
def test_manifest_endpoints_as_users_write_them(tmp_path: Path) -> None:
    """`tracing.endpoint` on port 4317 means OTLP/gRPC; a lineage endpoint written as the
    full `/api/v1/lineage` URL is split into server and path."""
    manifest = TINY_MANIFEST + (
        "observability:\n"
        "  tracing: {enabled: true, exporter: otlp, endpoint: 'http://otel:4317'}\n"
        "  lineage: {enabled: true, transport: http,"
        " endpoint: 'http://marquez:5000/api/v1/lineage'}\n"
    )
    art = _artifacts(tmp_path / "p", manifest)
    traces = trace_target(art, env={})
    assert (traces.exporter, traces.protocol, traces.otlp_url) == (
        "otlp", "grpc", "http://otel:4317"
    )  # fmt: skip
    lineage = lineage_target(art, env={})
    assert (lineage.url, lineage.endpoint) == ("http://marquez:5000", "api/v1/lineage")
