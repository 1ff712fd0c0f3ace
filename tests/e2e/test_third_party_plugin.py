"""A third-party plugin package (examples/floe-plugin-example) installed with `uv pip install`
into a fresh environment: listed, selected by a manifest, compliant, used by a run (FR-053)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, floe_cli, write_failing_tiny

EXAMPLE = ROOT / "examples" / "floe-plugin-example"


def _uv() -> list[str]:
    """uv as `make setup` provides it (on PATH, else the module pip installed)."""
    found = shutil.which("uv")
    return [found] if found else ["python3", "-m", "uv"]


def _sh(*args: str | Path, cwd: Path = ROOT, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh environment: floe from this repository (uv.lock, from the uv cache), then the
    example package with `uv pip install`."""
    path = tmp_path_factory.mktemp("third-party") / "venv"
    _sh(*_uv(), "sync", "-q", "--frozen", "--offline", env={"UV_PROJECT_ENVIRONMENT": str(path)})
    _sh(*_uv(), "pip", "install", "-q", "--offline", "--python", path / "bin" / "python", EXAMPLE)
    return path


@pytest.mark.requirement("FR-053")
def test_installed_plugin_is_listed_and_passes_the_compliance_kit(venv: Path) -> None:
    """`floe plugins list` of the fresh environment shows the jsonl alert channel from the
    package's entry point (floe's own environment does not); the package's own test — floe's
    compliance kit — passes its seven checks there."""
    listed = json.loads(_sh(venv / "bin" / "floe", "plugins", "list", "--json"))
    jsonl = [p for p in listed["plugins"] if p["name"] == "jsonl"]
    assert jsonl == [
        {
            "abc_api_version": "1.0",
            "category": "alert_channel",
            "description": "Failed-run alerts appended as JSON lines to a file",
            "entry_point": "floe_plugin_example.alerts:JsonlAlertChannel",
            "floe_api_version": "1.0",
            "name": "jsonl",
            "version": "0.1.0",
        }
    ]
    ours = json.loads(floe_cli("plugins", "list", "--json").out)["plugins"]
    assert "jsonl" not in {p["name"] for p in ours}
    kit = _sh(venv / "bin" / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests",
              cwd=EXAMPLE)  # fmt: skip
    assert "7 passed" in kit, kit


@pytest.mark.requirement("FR-053")
def test_a_manifest_selects_it_and_a_failed_run_alerts_through_it(
    venv: Path, tmp_path: Path
) -> None:
    """The manifest's `alert_channel: {type: jsonl}` compiles into the artifacts with the
    plugin's version, `platform status` runs its health check, and a run whose test fails
    appends the alert naming the product, the failed model and test to the file."""
    alerts = tmp_path / "alerts" / "failed.jsonl"
    product = write_failing_tiny(
        tmp_path / "tiny", f"{{type: jsonl, config: {{path: '{alerts}'}}}}"
    )
    floe = venv / "bin" / "floe"
    _sh(floe, "compile", product)
    artifacts = json.loads((product / "target" / "floe" / "compiled_artifacts.json").read_text())
    assert artifacts["plugins"]["alert_channel"] == {
        "type": "jsonl",
        "version": "0.1.0",
        "config": {"path": str(alerts)},
    }
    status = _sh(floe, "platform", "status", "--manifest", product / "manifest.yaml")
    row = re.search(r"│ plugin alert_channel:jsonl +│ (\w+) +│ (\S+) writable", status)
    assert row is not None, status
    assert row.groups() == ("ok", str(alerts))
    proc = subprocess.run(
        [str(floe), "run", str(product)], capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode != 0, proc.stdout + proc.stderr
    lines = alerts.read_text().splitlines()
    assert len(lines) == 1
    alert = json.loads(lines[0])
    assert alert["event"] == "floe.run.failed"
    assert alert["product"] == "tiny"
    assert alert["failed_models"] == ["int_orders"]
    assert alert["failed_tests"] == ["accepted_values_int_orders_amount__2"]
    assert alert["skipped"] == ["mart_revenue"]
    assert alert["run_id"] in proc.stdout + proc.stderr
