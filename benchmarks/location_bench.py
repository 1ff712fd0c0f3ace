"""Benchmark: loading Dagster code locations (goal: < 5 s per location set).

Two location sets: the three demo products, and 50 generated products of 20 models each.
Setup (not timed): copy/generate, `floe workspace` (compile + definitions.py), one dbt parse
per product (the manifest dagster-dbt reads is cached by source hash). Timed, in a fresh
process each: importing Dagster and loading every location's Definitions from its generated
definitions.py (what a code server does), median of 3. Also timed: one location as its own cold
process (`dagster definitions validate -f …`), the unit `dagster dev` starts per product.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
GOAL_S = 5.0
RUNS = 3
PRODUCTS = 50
MODELS = 20

LOAD_ALL = """
import sys, time, runpy
start = time.perf_counter()
import dagster
for path in sys.argv[1:]:
    defs = runpy.run_path(path)["defs"]
    assert defs.resolve_asset_graph().get_all_asset_keys()
print(time.perf_counter() - start)
"""

MANIFEST = """\
apiVersion: floe.dev/v1
kind: Manifest
metadata: {name: bench, version: 1.0.0, owner: bench@example.com}
plugins:
  compute: {type: duckdb}
  orchestrator: {type: dagster}
  catalog: {type: sql}
  storage: {type: local}
governance:
  policy_enforcement_level: warn
"""


def generate(root: Path, count: int, models: int) -> None:
    """``count`` products: one seed, ``models`` models chained bronze → silver → gold."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "manifest.yaml").write_text(MANIFEST)
    for i in range(count):
        prod = root / f"p{i:02d}"
        (prod / "models").mkdir(parents=True)
        (prod / "seeds").mkdir()
        (prod / "seeds" / "raw_events.csv").write_text(
            "id,value\n" + "".join(f"{n},{n * 3}\n" for n in range(100))
        )
        (prod / "dbt_project.yml").write_text(
            f"name: p{i:02d}\nprofile: p{i:02d}\nconfig-version: 2\n"
            f"models:\n  p{i:02d}:\n    +materialized: table\n"
        )
        lines = [f"apiVersion: floe.dev/v1\nkind: FloeSpec\nmetadata: {{name: p{i:02d}, "
                 "version: 0.1.0, owner: bench@example.com}\nplatform: {manifest: ../manifest.yaml}"
                 "\ntransforms:"]  # fmt: skip
        for m in range(models):
            tier = "bronze" if m < models // 4 else "silver" if m < 3 * models // 4 else "gold"
            prefix = {"bronze": "stg", "silver": "int", "gold": "mart"}[tier]
            name = f"{prefix}_m{m:02d}"
            if m < models // 4:
                sql, deps = "select id, value from {{ ref('raw_events') }}\n", []
            else:
                up = f"{'stg' if m - 1 < models // 4 else 'int'}_m{m - 1:02d}"
                if m - 1 >= 3 * models // 4:
                    up = f"mart_m{m - 1:02d}"
                sql, deps = f"select id, value + 1 as value from {{{{ ref('{up}') }}}}\n", [up]
            (prod / "models" / f"{name}.sql").write_text(sql)
            lines.append(f"  - name: {name}\n    tier: {tier}\n    dependsOn: {deps}")
        (prod / "floe.yaml").write_text("\n".join(lines) + "\n")


def prepare(root: Path) -> list[Path]:
    """Workspace + one dbt parse per product; the definitions.py files."""
    subprocess.run([str(BIN / "floe"), "workspace", str(root)], check=True, capture_output=True)
    files = sorted(root.glob("*/target/floe/definitions.py"))
    subprocess.run([sys.executable, "-c", LOAD_ALL, *map(str, files)], check=True,
                   capture_output=True, cwd=root)  # fmt: skip
    return files


def time_set(root: Path, files: list[Path]) -> float:
    """Median seconds to import Dagster and load every location, in a fresh process."""
    samples = []
    for _ in range(RUNS):
        done = subprocess.run([sys.executable, "-c", LOAD_ALL, *map(str, files)], check=True,
                              capture_output=True, text=True, cwd=root)  # fmt: skip
        samples.append(float(done.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


def time_one_process(root: Path, file: Path) -> float:
    """Wall seconds of `dagster definitions validate` on one location (a cold process)."""
    start = time.perf_counter()
    subprocess.run([str(BIN / "dagster"), "definitions", "validate", "-f", str(file)],
                   check=True, capture_output=True, cwd=root)  # fmt: skip
    return time.perf_counter() - start


def main() -> int:
    """Print the table; exit 1 when a location set misses the goal."""
    print(f"code-location load, fresh process, median of {RUNS} (goal: < {GOAL_S}s per set)")
    head = f"{'location set':<28}{'locations':>10}{'models':>8}{'load s':>9}"
    print(f"{head}{'1 cold process s':>18}")
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        demo = Path(tmp) / "demo"
        shutil.copytree(ROOT / "demo", demo, ignore=shutil.ignore_patterns("target", ".floe"))
        gen = Path(tmp) / "generated"
        generate(gen, PRODUCTS, MODELS)
        for label, root, models in (
            ("demo products", demo, 18),
            (f"{PRODUCTS} x {MODELS} models", gen, PRODUCTS * MODELS),
        ):
            files = prepare(root)
            seconds = time_set(root, files)
            cold = time_one_process(root, files[0])
            worst = max(worst, seconds)
            print(f"{label:<28}{len(files):>10}{models:>8}{seconds:>9.2f}{cold:>18.2f}")
    return 0 if worst < GOAL_S else 1


if __name__ == "__main__":
    sys.exit(main())
