"""Each data product is its own Dagster code location (FR-014, FR-086)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import floe_cli
from tests.e2e.conftest import Platform, copy_demo

DAGSTER = Path(sys.executable).with_name("dagster")


def _dagster(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    return subprocess.run(
        [str(DAGSTER), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
        check=False,
    )  # fmt: skip


@pytest.mark.requirement("FR-014")
def test_workspace_lists_three_code_locations_that_dagster_loads(tmp_path: Path) -> None:
    """`floe workspace demo` writes one python_file location per product; Dagster's own
    `definitions validate` loads all three without error."""
    root = copy_demo(tmp_path / "demo")
    res = floe_cli("workspace", root)
    assert res.code == 0, res.err
    workspace = yaml.safe_load((root / "workspace.yaml").read_text())
    assert workspace == {
        "load_from": [
            {"python_file": {"relative_path": f"{p}/target/floe/definitions.py",
                             "location_name": p}}
            for p in ("customer-360", "financial-risk", "iot-telemetry")
        ]
    }  # fmt: skip
    checked = _dagster("definitions", "validate", "-w", "workspace.yaml", cwd=root,
                       home=root / ".floe" / "dagster")  # fmt: skip
    logs = checked.stdout + checked.stderr
    assert checked.returncode == 0, logs[-3000:]
    for p in ("customer-360", "financial-risk", "iot-telemetry"):
        assert f"Validation successful for code location {p}" in logs
    assert "All code locations passed validation" in logs


@pytest.mark.requirement("FR-086")
def test_one_product_loads_and_runs_with_the_others_absent(tmp_path: Path) -> None:
    """Only iot-telemetry present: its generated definitions.py runs its job through the
    dagster CLI, and the gold table lands in Iceberg with one row per equipment."""
    full = copy_demo(tmp_path / "full")
    root = tmp_path / "demo"
    root.mkdir()
    (full / "iot-telemetry").rename(root / "iot-telemetry")
    (full / "manifest.yaml").rename(root / "manifest.yaml")
    assert floe_cli("workspace", root).code == 0
    definitions = root / "iot-telemetry" / "target" / "floe" / "definitions.py"
    ran = _dagster("job", "execute", "-f", str(definitions), "-j", "iot_telemetry_job",
                   cwd=root, home=root / ".floe" / "dagster")  # fmt: skip
    logs = ran.stdout + ran.stderr
    assert ran.returncode == 0, logs[-3000:]
    assert "RUN_SUCCESS" in logs
    with (root / "iot-telemetry" / "seeds" / "raw_sensors.csv").open() as handle:
        equipment = {row["equipment_id"].strip().upper() for row in csv.DictReader(handle)}
    gold = Platform(root, {}).catalog().load_table("iot_telemetry.mart_equipment_health")
    rows = gold.scan().to_arrow().to_pylist()
    assert {r["equipment_id"] for r in rows} == equipment
