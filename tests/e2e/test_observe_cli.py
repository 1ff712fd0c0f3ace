"""`floe run` as a real process: JSON logs with trace ids, the span and lineage trees, metrics
over HTTP, OTLP/gRPC and OpenLineage selected by the standard variables, no secret leaked."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from floe.observe.records import read_records
from floe.observe.spanfile import read_spans
from tests.conftest import FLOE, CliResult, floe_cli, run_floe, write_tiny
from tests.e2e.obs_servers import Received, grpc_receiver, http_receiver
from tests.e2e.servers import free_port

SECRET = "ol-token-7f3a9c21"


@dataclass
class CliRuns:
    """Two CLI runs of the tiny product: embedded backends, then gRPC + HTTP lineage."""

    root: Path
    first: CliResult
    second: CliResult
    grpc: Received
    lineage: Received

    @property
    def home(self) -> Path:
        """The platform home beside the manifest."""
        return self.root / ".floe"

    def spans(self) -> list[dict[str, Any]]:
        """Spans the embedded exporter wrote."""
        return read_spans(self.home / "telemetry" / "spans.jsonl")


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory: pytest.TempPathFactory) -> CliRuns:
    """Run 1 with the embedded file backends; run 2 with OTLP/gRPC and OpenLineage HTTP chosen
    by OTEL_EXPORTER_OTLP_* / OPENLINEAGE_URL, the API key in OPENLINEAGE_API_KEY."""
    root = write_tiny(tmp_path_factory.mktemp("cli") / "tiny")
    first = run_floe("run", root)
    with grpc_receiver() as (grpc_url, grpc), http_receiver() as (http_url, lineage):
        env = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": grpc_url,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
            "OPENLINEAGE_URL": http_url,
            "OPENLINEAGE_API_KEY": SECRET,
        }
        second = run_floe("run", root, env=env)
    return CliRuns(root, first, second, grpc, lineage)


def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


@pytest.mark.requirement("FR-045")
def test_logs_are_json_lines_with_the_ids_of_their_span(cli_runs: CliRuns) -> None:
    """Off a terminal, run logs are JSON lines; each carries the run's trace id and the span id
    of the span it was written in (the node's own span for dbt nodes)."""
    assert cli_runs.first.code == 0, cli_runs.first.err
    lines = [line for line in _json_lines(cli_runs.first.err) if line["logger"] == "floe.run"]
    events = [line["event"] for line in lines]
    nodes = 1 + 3 + 5  # tiny: one seed, three models, five tests — all in one dbt build
    assert events == ["run started", *["dbt node finished"] * nodes, "run finished"]
    spans = cli_runs.spans()
    (root,) = [s for s in spans if s["name"] == "floe.run"]
    node_spans = {s["attributes"].get("dbt.unique_id"): s["span_id"] for s in spans
                  if s["name"].startswith("dbt.")}  # fmt: skip
    assert {line["trace_id"] for line in lines} == {root["trace_id"]}
    assert lines[0]["span_id"] == root["span_id"] == lines[-1]["span_id"]
    for line in lines[1:-1]:
        assert line["span_id"] == node_spans[line["node"]]


@pytest.mark.requirement("WU4-AC4")
@pytest.mark.requirement("FR-040")
def test_traces_show_prints_the_span_tree(cli_runs: CliRuns) -> None:
    """`floe traces show` draws the latest run's spans with durations; --run selects a run by
    id prefix; an unknown run exits 1."""
    manifest = cli_runs.root / "manifest.yaml"
    (root,) = [s for s in cli_runs.spans() if s["name"] == "floe.run"]
    run_id = root["attributes"]["floe.run_id"]
    shown = floe_cli("traces", "show", "-m", manifest)
    assert shown.code == 0, shown.err
    assert f"tiny run {run_id}" in shown.out
    for name in ("dbt.seed raw_orders", "floe.build", "floe.publish", "dbt.model stg_orders",
                 "dbt.test unique_stg_orders_id", "iceberg.publish mart_revenue"):  # fmt: skip
        assert name in shown.out
    assert "rows=2" in shown.out
    by_id = floe_cli("traces", "show", "-m", manifest, "--run", run_id[:8])
    assert by_id.out == shown.out
    missing = floe_cli("traces", "show", "-m", manifest, "--run", "no-such-run")
    assert missing.code == 1
    assert "no trace of run no-such-run" in missing.out


@pytest.mark.requirement("FR-048")
def test_lineage_show_prints_datasets_and_jobs(cli_runs: CliRuns) -> None:
    """`floe lineage show tiny` walks from the seed table through each model job to the mart."""
    shown = floe_cli("lineage", "show", "tiny", "-m", cli_runs.root / "manifest.yaml")
    assert shown.code == 0, shown.err
    order = ["tiny.raw_orders", "job tiny.stg_orders", "tiny.stg_orders 2 rows",
             "job tiny.int_orders", "tiny.int_orders 2 rows", "job tiny.mart_revenue",
             "tiny.mart_revenue 1 rows"]  # fmt: skip
    positions = [shown.out.index(item) for item in order]
    assert positions == sorted(positions)
    assert floe_cli("lineage", "show", "nope", "-m", cli_runs.root / "manifest.yaml").code == 1


def _scrape(url: str, proc: subprocess.Popen[bytes], deadline_s: float = 120.0) -> str:
    """``url``'s body once the server answers (polled every 0.1 s, leaving the CPU to the
    server starting on a busy machine); fails at once when the server exited."""
    end = time.monotonic() + deadline_s
    pause = threading.Event()
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                return str(resp.read().decode())
        except OSError:
            if proc.poll() is not None or time.monotonic() > end:
                raise
        pause.wait(0.1)


def _default_signals() -> None:
    """In the child before exec: SIGTERM and SIGINT at their defaults and unblocked, as a
    user's shell starts a command (a pytest worker's own signal state must not leak in)."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})


def _signal_state(pid: int) -> str:
    """The process's state and signal masks from /proc (what a failure message shows)."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return "gone"
    wanted = ("State:", "SigBlk:", "SigIgn:", "SigCgt:")
    return " ".join(line for line in lines if line.startswith(wanted))


def _stop(proc: subprocess.Popen[bytes]) -> bool:
    """Send SIGTERM; whether the process exited on it within 60 s (else it is killed)."""
    proc.terminate()
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=60)
        return False
    return True


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
    }


@pytest.mark.requirement("FR-043")
def test_metrics_serve_reports_the_runs_facts(cli_runs: CliRuns) -> None:
    """`floe metrics serve` answers /metrics; parsed with prometheus_client, runs, durations,
    rows, test failures and model count equal the two run records."""
    port = free_port()
    errors = cli_runs.root / "metrics-serve.err"
    with errors.open("wb") as err:
        proc = subprocess.Popen(
            [str(FLOE), "metrics", "serve", "--port", str(port), "-m",
             str(cli_runs.root / "manifest.yaml")],
            stdout=subprocess.DEVNULL, stderr=err, preexec_fn=_default_signals,
        )  # fmt: skip
    state = ""
    try:
        samples = _samples(_scrape(f"http://127.0.0.1:{port}/metrics", proc))
        state = _signal_state(proc.pid)
    finally:
        stopped = _stop(proc)
    assert stopped, f"floe metrics serve did not exit on SIGTERM ({state}): {errors.read_text()}"
    records = read_records(cli_runs.home / "runs")
    assert len(records) == 2
    tiny = (("product", "tiny"),)
    assert samples[("floe_pipeline_runs_total", (*tiny, ("status", "success")))] == 2
    assert samples[("floe_pipeline_duration_seconds_count", tiny)] == 2
    assert samples[("floe_pipeline_duration_seconds_sum", tiny)] == pytest.approx(
        sum(r["duration_seconds"] for r in records)
    )
    assert samples[("floe_test_failures_total", tiny)] == 0
    assert samples[("floe_models", tiny)] == 3
    for node in records[-1]["nodes"]:
        labels = (("model", node["name"]), ("product", "tiny"))
        written = sum(n["rows_written"] for r in records for n in r["nodes"]
                      if n["name"] == node["name"])  # fmt: skip
        assert samples[("floe_rows_written_total", labels)] == written
        if node["kind"] == "model":
            assert samples[("floe_model_duration_seconds", labels)] == node["seconds"] > 0


@pytest.mark.requirement("WU4-BC3")
@pytest.mark.requirement("WU4-AC5")
@pytest.mark.requirement("15-FR-005")
@pytest.mark.requirement("FR-047")
def test_standard_variables_send_spans_over_grpc(cli_runs: CliRuns) -> None:
    """OTEL_EXPORTER_OTLP_ENDPOINT/PROTOCOL=grpc override the manifest: the run's spans (and
    the compile's) reach the gRPC receiver under the product's service name."""
    assert cli_runs.second.code == 0, cli_runs.second.err
    spans = cli_runs.grpc.spans
    assert {s["service"] for s in spans} == {"floe-tiny"}
    names = [s["name"] for s in spans]
    assert names.count("floe.run") == 1
    assert sorted(n for n in names if n.startswith("dbt.model")) == [
        "dbt.model int_orders", "dbt.model mart_revenue", "dbt.model stg_orders"
    ]  # fmt: skip
    assert {"compile", "compile.load", "compile.generate"} <= set(names)
    assert len(cli_runs.lineage.events) == 16


@pytest.mark.requirement("FR-065")
def test_the_lineage_api_key_is_sent_and_never_written(cli_runs: CliRuns) -> None:
    """OPENLINEAGE_API_KEY authenticates every lineage POST and appears in no output, log,
    span, event, record or artifact."""
    assert {h.get("Authorization") for h in cli_runs.lineage.headers} == {f"Bearer {SECRET}"}
    assert SECRET not in cli_runs.second.out + cli_runs.second.err
    for path in [*cli_runs.root.rglob("*")]:
        if path.is_file() and path.suffix in (".json", ".jsonl", ".log", ".yaml", ".yml"):
            assert SECRET not in path.read_text(errors="replace"), path
