"""Files in the upstream floe demo's layout load unchanged and every plugin field they use
does what upstream documents (issue 10, point 5).

tests/data/upstream-shape/ holds a manifest and two products written here that use every plugin
config field and value of the upstream demo manifest and product specs.
"""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
from pydantic import SecretStr

from floe.compile.api import compile_product
from floe.compile.context import CompileContext
from floe.observe.lineage_emit import LineageEmitter
from floe.observe.settings import lineage_target, trace_target
from floe.runtime.catalog import catalog_plugin, storage_plugin
from tests.conftest import ROOT, run_floe
from tests.e2e.obs_servers import serve, silent_endpoint

SHAPE = ROOT / "tests" / "data" / "upstream-shape"
PRODUCTS = {"shop-orders": "shop_orders", "plant-sensors": "plant_sensors"}
LINEAGE_URL = "http://lineage.cluster.internal:5000"
EVENTS = 5


@pytest.fixture
def shape(tmp_path: Path) -> Path:
    """A private copy of tests/data/upstream-shape (compile writes into the products)."""
    dest = tmp_path / "shape"
    shutil.copytree(SHAPE, dest)
    return dest


def _compile(product: Path, out: Path) -> CompileContext:
    ctx = compile_product(product, out_dir=out)
    assert ctx.artifacts is not None
    assert ctx.profiles is not None
    return ctx


def _set_lineage(shape: Path, config: str) -> None:
    """Replace the marquez backend's config block of the copy's manifest."""
    manifest = shape / "manifest.yaml"
    text = manifest.read_text()
    start = text.index("      url: " + LINEAGE_URL)
    end = text.index("\nobservability:")
    manifest.write_text(text[:start] + config + "\n" + text[end:])


@pytest.mark.requirement("FR-012")
@pytest.mark.parametrize("name", sorted(PRODUCTS))
def test_every_upstream_plugin_value_lands_in_the_artifacts(
    shape: Path, tmp_path: Path, name: str
) -> None:
    """Both products compile against the manifest; compute, orchestrator, catalog, storage and
    lineage settings, observability, governance and schedule all carry the manifest's values."""
    ctx = _compile(shape / name, tmp_path / "out")
    art, slug = ctx.artifacts, PRODUCTS[name]
    assert art is not None
    assert ctx.profiles is not None
    output = ctx.profiles[slug]["outputs"]["dev"]
    assert f"/tmp/floe/{slug}.duckdb" in output["path"]
    assert (output["threads"], output["settings"]["memory_limit"]) == (4, "2GB")
    assert (art.schedule.cron, art.schedule.timezone, art.schedule.enabled) == (
        "*/10 * * * *", "UTC", True
    )  # fmt: skip
    assert art.metadata.labels["tier"] == "gold"
    assert next((t.name, t.tier) for t in art.transforms)[1] == "bronze"

    lineage = art.plugins["lineage_backend"]
    assert (lineage.type, lineage.version) == ("marquez", "0.1.0")
    assert lineage.config == {"url": LINEAGE_URL, "drain_timeout": 30.0,
                              "allow_insecure_http": True}  # fmt: skip
    target = lineage_target(art, env={})
    assert (target.transport, target.url, target.endpoint, target.drain_seconds) == (
        "http", LINEAGE_URL, "api/v1/lineage", 30.0
    )  # fmt: skip
    (insecure,) = [w for w in ctx.warnings if w.code == "W209"]
    assert insecure.field_path == "plugins.lineage_backend.config.url"
    assert insecure.location is not None
    assert insecure.location.line == 42
    assert "'lineage.cluster.internal' over plain http://" in insecure.message

    catalog = art.plugins["catalog"].config
    assert catalog["oauth2"]["client_secret"] == {"secret": "FLOE_CATALOG_OAUTH2_CLIENT_SECRET"}
    assert "shape-demo-only" not in art.model_dump_json()
    props = catalog_plugin(art.plugins).catalog_properties(
        tmp_path, lambda ref: SecretStr(f"<{ref.secret}>")
    )
    assert props == {
        "name": "floe", "type": "rest",
        "uri": "http://catalog.cluster.internal:8181/api/catalog",
        "warehouse": "shape-warehouse",
        "credential": "shape-admin:<FLOE_CATALOG_OAUTH2_CLIENT_SECRET>",
        "scope": "PRINCIPAL_ROLE:ALL",
        "oauth2-server-uri": "http://catalog.cluster.internal:8181/api/catalog/v1/oauth/tokens",
    }  # fmt: skip
    storage = storage_plugin(art.plugins)
    assert storage is not None
    assert storage.warehouse_location(tmp_path) == "s3://shape-lake/warehouse"
    assert storage.fileio_properties(lambda ref: SecretStr("")) == {
        "s3.region": "us-east-1", "s3.force-virtual-addressing": "false",
        "s3.endpoint": "http://objects.cluster.internal:9000",
    }  # fmt: skip
    assert art.plugins["orchestrator"].config == {"default_schedule": "*/10 * * * *"}

    traces = trace_target(art, env={})
    assert (traces.exporter, traces.protocol, traces.otlp_url) == (
        "otlp", "grpc", "http://traces.cluster.internal:4317"
    )  # fmt: skip
    assert art.observability.logging.format == "json"
    gov = art.governance
    assert (gov.audit_logging, gov.default_ttl_hours, gov.stale_table_recovery_mode) == (
        "enabled", 24, "repair"
    )  # fmt: skip
    assert (art.retention.window_hours, art.retention.snapshot_keep_last) == (24, 3)
    gates = gov.quality_gates
    assert (gates.minimum_test_coverage, gates.require_descriptions, gates.block_on_failure) == (
        80, False, False
    )  # fmt: skip


@pytest.mark.requirement("FR-054")
def test_plain_http_lineage_is_refused_without_allow_insecure_http(shape: Path) -> None:
    """Without allow_insecure_http the non-loopback http:// URL is a compile error at its line;
    a loopback http:// URL needs no flag; a misspelt field is an error with a did-you-mean."""
    _set_lineage(shape, f"      url: {LINEAGE_URL}\n      drain_timeout: 30.0")
    res = run_floe("validate", shape / "shop-orders", "--offline")
    assert res.code == 2
    assert (
        "manifest.yaml:42:12: error[E209]: plugins.lineage_backend.config.url: plain http:// to "
        "'lineage.cluster.internal' is refused" in res.err
    )
    assert "allow_insecure_http: true" in res.err

    _set_lineage(shape, "      url: http://127.0.0.1:5000\n      drain_timout: 30.0")
    res = run_floe("validate", shape / "shop-orders", "--offline")
    assert res.code == 2
    assert "config.url" not in res.err
    assert (
        "manifest.yaml:43:21: error[E209]: plugins.lineage_backend.config.drain_timout: "
        "unknown field (expected one of: allow_insecure_http, api_key, drain_timeout, " in res.err
    )
    assert "hint: did you mean 'drain_timeout'?" in res.err
    assert "found 1 error" in res.err


def _event(i: int) -> RunEvent:
    return RunEvent(
        eventType=RunState.START,
        eventTime="2026-01-01T00:00:00+00:00",
        run=Run(runId=f"01900000-0000-7000-8000-{i:012d}"),
        job=Job(namespace="shape", name=f"job{i}"),
        producer="https://floe.dev/floe",
    )


@contextmanager
def gated_receiver() -> Iterator[tuple[str, threading.Event, threading.Event, list[Any]]]:
    """An OpenLineage receiver that holds every answer until ``release`` is set; ``arrived``
    is set when the first request is waiting."""
    release, arrived, got = threading.Event(), threading.Event(), []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            got.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            arrived.set()
            release.wait(30)
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

    with serve(Handler) as url:
        try:
            yield url, release, arrived, got
        finally:
            release.set()


def _emitter(shape: Path, tmp_path: Path, config: str) -> LineageEmitter:
    _set_lineage(shape, config)
    ctx = _compile(shape / "plant-sensors", tmp_path / "out")
    assert ctx.artifacts is not None
    return LineageEmitter(lineage_target(ctx.artifacts, env={}), tmp_path)


@pytest.mark.requirement("FR-046")
def test_drain_timeout_bounds_the_flush_against_a_silent_server(
    shape: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """drain_timeout 0.2 against a server that never answers (requests may wait 10 s each):
    the flush gives up after the configured bound and warns once, naming it."""
    caplog.set_level(logging.WARNING, logger="floe.observe")
    with silent_endpoint() as url:
        emitter = _emitter(shape, tmp_path, f"      url: {url}\n      drain_timeout: 0.2\n"
                                            "      timeout_seconds: 10")  # fmt: skip
        assert emitter.target.drain_seconds == 0.2
        for i in range(EVENTS):
            emitter.emit(_event(i))
        closing = threading.Thread(target=emitter.close, daemon=True)
        closing.start()
        closing.join(5)
        assert not closing.is_alive()
    warnings = [r.getMessage() for r in caplog.records if r.name == "floe.observe"]
    assert len(warnings) == 1
    assert "no answer within 0.2s" in warnings[0]


@pytest.mark.requirement("FR-046")
def test_a_longer_drain_timeout_waits_for_a_slow_server(
    shape: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """drain_timeout 30: the flush still waits after 1 s (twice the 0.5 s default) for a server
    that holds its answers; once it answers, every event arrives and nothing warns."""
    caplog.set_level(logging.WARNING, logger="floe.observe")
    with gated_receiver() as (url, release, arrived, got):
        emitter = _emitter(shape, tmp_path, f"      url: {url}\n      drain_timeout: 30\n"
                                            "      timeout_seconds: 10")  # fmt: skip
        for i in range(EVENTS):
            emitter.emit(_event(i))
        assert arrived.wait(10)
        closing = threading.Thread(target=emitter.close, daemon=True)
        closing.start()
        closing.join(1.0)
        assert closing.is_alive()
        release.set()
        closing.join(20)
        assert not closing.is_alive()
    assert len(got) == EVENTS
    assert [r.getMessage() for r in caplog.records if r.name == "floe.observe"] == []


@pytest.mark.requirement("FR-054")
def test_secret_ref_api_key_survives_next_to_the_new_fields(shape: Path, tmp_path: Path) -> None:
    """The new fields combine with the existing ones: an https URL needs no flag, the API key
    stays a reference in the artifacts."""
    _set_lineage(shape, "      url: https://lineage.example.org\n      drain_timeout: 2.5\n"
                        "      api_key: {secret: SHAPE_OL_KEY}")  # fmt: skip
    ctx = _compile(shape / "shop-orders", tmp_path / "out")
    assert ctx.artifacts is not None
    assert ctx.artifacts.plugins["lineage_backend"].config["api_key"] == {"secret": "SHAPE_OL_KEY"}
    assert [w.code for w in ctx.warnings if w.code == "W209"] == []
    target = lineage_target(ctx.artifacts, env={"OPENLINEAGE_API_KEY": "k"})
    assert (target.url, target.drain_seconds, target.api_key) == (
        "https://lineage.example.org", 2.5, "k"
    )  # fmt: skip
