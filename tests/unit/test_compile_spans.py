"""`floe compile` traces its stages where the manifest says, and loads no tracing at all when
telemetry is off (the compile path stays light)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from floe.compile.stages import ALL_STAGES
from floe.observe.spanfile import read_spans, spans_file
from tests.conftest import TINY_MANIFEST, run_floe, write_tiny

PROBE = """
import sys
sys.argv = ["floe", "compile", *sys.argv[1:]]
from floe.cli.main import main
try:
    main()
except SystemExit as exc:
    assert exc.code in (0, None), exc.code
loaded = sorted({m.split(".")[0] for m in sys.modules} & {"opentelemetry", "sqlite3"})
print("LOADED=" + ",".join(loaded))
"""

OFF = "observability:\n  tracing:\n    enabled: true\n    exporter: none\n"
SAMPLED_OUT = "observability:\n  tracing:\n    enabled: true\n    sample_ratio: 0.0\n"


def _probe(product: Path, *args: str) -> str:
    """Compile ``product`` in a fresh process; which of OpenTelemetry/sqlite3 it loaded."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(product), *args],
        capture_output=True, text=True, check=False, timeout=60,
        env={**os.environ, "FLOE_HOME": "", "FLOE_MANIFEST": ""},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.rsplit("LOADED=", 1)[1].strip()


@pytest.mark.requirement("FLOE-006")
def test_compile_writes_one_span_per_stage_under_a_compile_root(tmp_path: Path) -> None:
    """With the embedded 'file' exporter, a compile adds a `compile` root span and one child
    per stage (in stage order, inside the root's time span) to the home's spans file."""
    product = write_tiny(tmp_path / "tiny")
    res = run_floe("compile", product, "--offline", env={"FLOE_HOME": "", "FLOE_MANIFEST": ""})
    assert res.code == 0, res.err
    spans = read_spans(spans_file(product / ".floe"))
    roots = [s for s in spans if s["parent_span_id"] is None]
    assert [r["name"] for r in roots] == ["compile"]
    root = roots[0]
    assert root["service"] == "floe-tiny"
    assert root["attributes"] == {"floe.product_dir": "tiny", "floe.environment": "dev"}
    children = sorted(
        (s for s in spans if s["parent_span_id"] == root["span_id"]), key=lambda s: s["start_ns"]
    )
    assert [c["name"] for c in children] == [f"compile.{s.name}" for s in ALL_STAGES]
    assert {c["trace_id"] for c in children} == {root["trace_id"]}
    for child in children:
        assert root["start_ns"] <= child["start_ns"] <= child["end_ns"] <= root["end_ns"]
        seconds = child["attributes"]["floe.stage.seconds"]
        assert seconds == pytest.approx((child["end_ns"] - child["start_ns"]) / 1e9, abs=1e-3)
        assert child["status"] == "UNSET"


@pytest.mark.requirement("FLOE-006")
def test_compile_with_tracing_off_loads_no_tracing_and_writes_no_span(tmp_path: Path) -> None:
    """exporter 'none': the compile process never imports OpenTelemetry, and with --offline
    it does not open the catalog either (no sqlite3); no spans file appears."""
    product = write_tiny(tmp_path / "tiny", manifest=TINY_MANIFEST + OFF)
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(product), "--offline"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "LOADED=\n" in proc.stdout
    assert (product / "target" / "floe" / "compiled_artifacts.json").is_file()
    assert not spans_file(product / ".floe").exists()


@pytest.mark.requirement("FLOE-006")
def test_compile_to_the_file_backend_loads_no_opentelemetry(tmp_path: Path) -> None:
    """The embedded 'file' backend gets the compile's spans (root + one per stage) without
    OpenTelemetry being imported into the short compile process."""
    product = write_tiny(tmp_path / "tiny")
    assert _probe(product, "--offline") == ""
    spans = read_spans(spans_file(product / ".floe"))
    assert sorted(s["name"] for s in spans) == sorted(
        ["compile", *(f"compile.{s.name}" for s in ALL_STAGES)]
    )
    assert all(len(s["trace_id"]) == 32 and len(s["span_id"]) == 16 for s in spans)


@pytest.mark.requirement("FLOE-006")
def test_compile_spans_follow_the_sample_ratio(tmp_path: Path) -> None:
    """``sample_ratio: 0.0`` drops the compile's trace, as it drops a run's; two compiles at
    the default ratio (1.0) write two traces with different ids."""
    quiet = write_tiny(tmp_path / "quiet", manifest=TINY_MANIFEST + SAMPLED_OUT)
    _probe(quiet, "--offline")
    assert read_spans(spans_file(quiet / ".floe")) == []
    loud = write_tiny(tmp_path / "loud")
    _probe(loud, "--offline")
    _probe(loud, "--offline")
    roots = [s for s in read_spans(spans_file(loud / ".floe")) if s["parent_span_id"] is None]
    assert len({r["trace_id"] for r in roots}) == len(roots) == 2
