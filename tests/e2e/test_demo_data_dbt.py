"""Generated demo seeds pass every dbt test of their product."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from floe.demo_data import PRODUCTS, generate
from tests.conftest import DEMO

DBT = Path(sys.executable).with_name("dbt")


def _product_with_generated_seeds(tmp_path: Path, product: str) -> Path:
    """A copy of demo/<product> (plus the manifest) whose seed CSVs are generated at 2000."""
    root = tmp_path / product
    project = root / product
    shutil.copytree(DEMO / product, project, ignore=shutil.ignore_patterns("target", "logs"))
    shutil.copy(DEMO / "manifest.yaml", root / "manifest.yaml")
    for seed_csv in (project / "seeds").glob("*.csv"):
        seed_csv.unlink()
    generate(product, 2000, project / "seeds")
    return project


def _dbt_build(project: Path) -> tuple[subprocess.CompletedProcess[str], list[dict[str, str]]]:
    """``dbt build`` against a scratch DuckDB file; returns the process and run results."""
    scratch = project.parent / "dbt"
    scratch.mkdir()
    profile = yaml.safe_load((project / "dbt_project.yml").read_text())["profile"]
    output = {"type": "duckdb", "path": str(scratch / "x.duckdb"), "threads": 2}
    (scratch / "profiles.yml").write_text(
        yaml.safe_dump({profile: {"target": "dev", "outputs": {"dev": output}}})
    )
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}
    proc = subprocess.run(
        [
            str(DBT),
            "build",
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(scratch),
            "--target-path",
            str(scratch / "target"),
            "--log-path",
            str(scratch / "logs"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    results = json.loads((scratch / "target" / "run_results.json").read_text())["results"]
    return proc, results


@pytest.mark.requirement("FR-083")
def test_generated_seeds_pass_dbt_build_for_every_product(tmp_path: Path) -> None:
    """Seeds generated at scale 2000 for each demo product load, transform and pass every
    dbt test: ``dbt build`` exits 0 and run_results.json holds only success/pass."""
    for product in PRODUCTS:
        project = _product_with_generated_seeds(tmp_path, product)
        proc, results = _dbt_build(project)
        assert proc.returncode == 0, (product, proc.stdout[-3000:])
        kinds = {r["unique_id"].split(".")[0] for r in results}
        assert kinds == {"seed", "model", "test"}, product
        bad = [
            (r["unique_id"], r["status"]) for r in results if r["status"] not in ("success", "pass")
        ]
        assert bad == [], product
        assert sum(r["unique_id"].startswith("seed.") for r in results) == 3
