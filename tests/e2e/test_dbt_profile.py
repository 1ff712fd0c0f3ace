"""The generated profiles.yml drives a real dbt build on DuckDB with extensions loaded by path."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import DEMO, floe_cli

DBT = Path(sys.executable).with_name("dbt")


def _dbt(project: Path, profiles: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}
    return subprocess.run(
        [str(DBT), *args, "--project-dir", str(project), "--profiles-dir", str(profiles),
         "--target-path", str(profiles / "dbt-target"), "--log-path", str(profiles / "logs")],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )  # fmt: skip


@pytest.mark.requirement("FR-013")
def test_dbt_builds_demo_product_with_compiled_profile(tmp_path: Path) -> None:
    """dbt build with the compiled profile runs 3 seeds, 6 models and every test, all passing,
    in an in-memory DuckDB whose httpfs/avro/iceberg extensions were loaded from the wheels."""
    product = tmp_path / "customer-360"
    shutil.copytree(DEMO / "customer-360", product, ignore=shutil.ignore_patterns("target"))
    shutil.copy(DEMO / "manifest.yaml", tmp_path / "manifest.yaml")
    out = tmp_path / "compiled"
    res = floe_cli("compile", product, "--out", out)
    assert res.code == 0, res.err
    build = _dbt(product, out, "build")
    assert build.returncode == 0, build.stdout[-3000:]
    results = json.loads((out / "dbt-target" / "run_results.json").read_text())["results"]
    kinds: dict[str, int] = {}
    for r in results:
        assert r["status"] in ("success", "pass"), (r["unique_id"], r["status"], r["message"])
        kind = r["unique_id"].split(".")[0]
        kinds[kind] = kinds.get(kind, 0) + 1
    assert kinds["seed"] == 3
    assert kinds["model"] == 6
    assert kinds["test"] >= 30
    show = _dbt(
        product, out, "show", "--output", "json", "--inline",
        "select string_agg(extension_name, ',' order by extension_name) as loaded "
        "from duckdb_extensions() where loaded and extension_name in ('httpfs', 'avro', 'iceberg')",
    )  # fmt: skip
    assert show.returncode == 0, show.stdout[-3000:]
    assert '"loaded": "avro,httpfs,iceberg"' in show.stdout


@pytest.mark.requirement("WU5-BC3")
def test_a_wrong_target_fails_at_once_with_dbts_profile_error(tmp_path: Path) -> None:
    """The compiled profile has one target, the environment compiled for (dev); dbt asked for
    another target fails before touching any model with dbt's own profile error, which names
    the profile, the wrong target and the valid one — no run, no DuckDB file."""
    product = tmp_path / "customer-360"
    shutil.copytree(DEMO / "customer-360", product, ignore=shutil.ignore_patterns("target"))
    shutil.copy(DEMO / "manifest.yaml", tmp_path / "manifest.yaml")
    out = tmp_path / "compiled"
    assert floe_cli("compile", product, "--out", out).code == 0
    profiles = yaml.safe_load((out / "profiles.yml").read_text())
    ((profile, body),) = profiles.items()
    assert (body["target"], sorted(body["outputs"])) == ("dev", ["dev"])
    wrong = _dbt(product, out, "build", "--target", "staging")
    assert wrong.returncode == 2, wrong.stdout[-3000:]
    text = " ".join(wrong.stdout.split())
    assert f"The profile '{profile}' does not have a target named 'staging'" in text
    assert "- dev" in text
    assert not (out / "dbt-target" / "run_results.json").exists()
    assert list(tmp_path.rglob("*.duckdb")) == []
