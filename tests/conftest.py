"""Shared fixtures: the repository, the demo products, copies to mutate, the real CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "demo"
PRODUCTS = ("customer-360", "iot-telemetry", "financial-risk")
FLOE = Path(sys.executable).with_name("floe")


@dataclass
class CliResult:
    """Outcome of one ``floe`` process."""

    code: int
    out: str
    err: str


def run_floe(
    *args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None
) -> CliResult:
    """Run the installed ``floe`` console script as a real process."""
    proc = subprocess.run(
        [str(FLOE), *map(str, args)],
        cwd=cwd or ROOT,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def floe_cli(
    *args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None
) -> CliResult:
    """``floe <args>`` through the console script's own entry point (``floe.cli.main:main``)
    in this process: the same parsing, output and exit codes as :func:`run_floe` without a new
    interpreter's ~5 s of imports. For tests that prove nothing about the process itself —
    signals, crash safety, exit codes of the real binary and environment isolation keep
    :func:`run_floe`. ``env`` and ``cwd`` hold for the call only."""
    import contextlib
    import io

    from floe.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    saved_env, saved_argv, saved_cwd = dict(os.environ), sys.argv, Path.cwd()
    os.environ.update({"COLUMNS": "200", **(env or {})})
    sys.argv = ["floe", *map(str, args)]
    os.chdir(cwd or ROOT)
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main()
            except SystemExit as exc:  # what the interpreter does with it at exit
                if isinstance(exc.code, str):
                    err.write(exc.code + "\n")
                code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    finally:
        sys.argv = saved_argv
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    return CliResult(code, out.getvalue(), err.getvalue())


@pytest.fixture
def platform_copy(tmp_path: Path) -> Path:
    """A private copy of demo/ (manifest + three products) that a test may change."""
    dest = tmp_path / "demo"
    shutil.copytree(DEMO, dest, ignore=shutil.ignore_patterns("target", "logs", ".floe"))
    return dest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test must name the requirement it proves."""
    missing = [i.nodeid for i in items if i.get_closest_marker("requirement") is None]
    if missing:
        raise pytest.UsageError("tests without @pytest.mark.requirement: " + ", ".join(missing))


TINY_MANIFEST = """\
apiVersion: floe.dev/v1
kind: Manifest
metadata:
  name: tiny-platform
  version: 1.0.0
  owner: platform@example.com
plugins:
  compute:
    type: duckdb
  orchestrator:
    type: dagster
  catalog:
    type: sql
  storage:
    type: local
governance:
  policy_enforcement_level: warn
  quality_gates:
    minimum_test_coverage: 50
"""

#: The tiny manifest with the great_expectations quality plugin (docs/quality.md).
GX_MANIFEST = TINY_MANIFEST.replace(
    "  storage:\n    type: local\n",
    "  storage:\n    type: local\n  quality:\n    type: great_expectations\n",
)


def tiny_quality(max_amount: int) -> str:
    """floe.yaml's quality block for the tiny product: stg_orders' id not null, int_orders'
    amount within 0..``max_amount``."""
    return (
        "quality:\n  expectations:\n    stg_orders:\n"
        "      - expect_column_values_to_not_be_null: {column: id}\n    int_orders:\n"
        "      - expect_column_values_to_be_between: "
        f"{{column: amount, min_value: 0, max_value: {max_amount}}}\n"
    )


TINY_SPEC = """\
apiVersion: floe.dev/v1
kind: FloeSpec
metadata:
  name: tiny
  version: 0.1.0
  owner: data@example.com
platform:
  manifest: manifest.yaml
transforms:
  - name: stg_orders
    tier: bronze
  - name: int_orders
    tier: silver
    dependsOn: [stg_orders]
  - name: mart_revenue
    tier: gold
    dependsOn: [int_orders]
"""

TINY_MODELS = {
    "stg_orders.sql": "select id, amount from {{ ref('raw_orders') }}\n",
    "int_orders.sql": "select id, amount * 2 as amount from {{ ref('stg_orders') }}\n",
    "mart_revenue.sql": "select sum(amount) as revenue from {{ ref('int_orders') }}\n",
}

TINY_SCHEMA = """\
version: 2
models:
  - name: stg_orders
    description: Orders.
    columns:
      - name: id
        description: Order id.
        data_tests: [not_null, unique]
      - name: amount
        description: Amount.
  - name: int_orders
    description: Doubled.
    columns:
      - name: id
        description: Order id.
        data_tests: [not_null]
      - name: amount
        description: Amount.
        data_tests: [not_null]
  - name: mart_revenue
    description: Revenue.
    columns:
      - name: revenue
        description: Total.
        data_tests: [not_null]
"""


def write_tiny(root: Path, *, spec: str = TINY_SPEC, manifest: str = TINY_MANIFEST) -> Path:
    """A small but complete product (dbt project + floe.yaml + manifest) in ``root``."""
    (root / "models").mkdir(parents=True, exist_ok=True)
    (root / "seeds").mkdir(exist_ok=True)
    (root / "dbt_project.yml").write_text(
        "name: tiny\nprofile: tiny\nconfig-version: 2\nmodels:\n  tiny:\n    +materialized: table\n"
        "seeds:\n  tiny:\n    raw_orders:\n      +column_types: {id: bigint, amount: bigint}\n"
    )
    for name, sql in TINY_MODELS.items():
        (root / "models" / name).write_text(sql)
    (root / "models" / "schema.yml").write_text(TINY_SCHEMA)
    (root / "seeds" / "raw_orders.csv").write_text("id,amount\n1,10\n2,20\n")
    (root / "floe.yaml").write_text(spec)
    (root / "manifest.yaml").write_text(manifest)
    return root


def write_failing_tiny(root: Path, alert_channel: str) -> Path:
    """The tiny product whose int_orders test fails (``amount`` must be 2), its manifest
    choosing ``alert_channel`` (a YAML flow mapping: ``{type: …, config: {…}}``)."""
    manifest = TINY_MANIFEST.replace(
        "  storage:\n    type: local\n",
        f"  storage:\n    type: local\n  alert_channel: {alert_channel}\n",
    )
    product = write_tiny(root, manifest=manifest)
    schema = (product / "models" / "schema.yml").read_text()
    schema = schema.replace(
        "      - name: amount\n        description: Amount.\n        data_tests: [not_null]",
        "      - name: amount\n        description: Amount.\n        data_tests:\n"
        "          - accepted_values:\n              arguments:\n                values: [2]",
    )
    (product / "models" / "schema.yml").write_text(schema)
    return product


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """A fresh small product to mutate."""
    return write_tiny(tmp_path / "tiny")
