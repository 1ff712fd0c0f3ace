"""Benchmark the same product on DuckDB and on Spark (issue 13; run with `make bench`).

iot-telemetry (the demo product whose SQL runs on both engines) with the demo manifest, which
here also approves spark (`local[2]`): a cold `floe run` process per engine, first on the
committed seeds, then on generated seeds with FLOE_BENCH_SPARK_ROWS readings (default
100,000; `0` skips it; 1,000,000 runs to the end since floe loads seeds on Spark itself
instead of dbt-spark's per-cell INSERT path, see docs/compute.md). Spark's start-up (a JVM
with the Iceberg runtime, the first SparkSession) is measured on its own in a fresh process
and shown separately. Both runs must publish the same row counts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PRODUCT = "iot-telemetry"
SPARK = "approved_compute: [duckdb, spark]\ncompute_configs:\n  spark: {master: 'local[2]'}\n"
STARTUP = (
    "import time; t = time.perf_counter()\n"
    "from floe.runtime.spark.session import base_session\n"
    "base_session('local[2]').range(1).count()\n"
    "print(time.perf_counter() - t)\n"
)


def _platform(dest: Path, compute: str, rows: int) -> Path:
    """The product beside the demo manifest (spark approved), ``compute:`` set."""
    dest.mkdir(parents=True)
    manifest = (ROOT / "demo" / "manifest.yaml").read_text()
    (dest / "manifest.yaml").write_text(manifest.replace("approved_compute: [duckdb]\n", SPARK))
    product = dest / PRODUCT
    shutil.copytree(ROOT / "demo" / PRODUCT, product, ignore=shutil.ignore_patterns("target"))
    spec = product / "floe.yaml"
    spec.write_text(
        spec.read_text().replace("\ntransforms:\n", f"\ncompute: {compute}\ntransforms:\n")
    )
    if rows:
        _run([str(BIN / "floe"), "seeds", "generate", str(product), "--scale", str(rows)], dest)
    return product


def _run(cmd: list[str], cwd: Path) -> tuple[float, str]:
    start = time.perf_counter()
    env = {**os.environ, "FLOE_HOME": str(cwd / ".floe")}
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return time.perf_counter() - start, proc.stdout


def _row_counts(dest: Path) -> dict[str, int]:
    from floe.runtime.platform import catalog_for_manifest

    catalog = catalog_for_manifest(dest / "manifest.yaml")
    namespace = PRODUCT.replace("-", "_")
    return {
        name: catalog.load_table(f"{namespace}.{name}").scan().count()
        for _, name in sorted(catalog.list_tables(namespace))
    }


def spark_startup() -> float:
    """A fresh process's Spark: JVM, floe's jars, the first query."""
    secs, out = _run([sys.executable, "-c", STARTUP], Path(tempfile.gettempdir()))
    print(f"Spark start-up (fresh process, local[2], import to first query): {float(out):.1f} s "
          f"(process {secs:.1f} s)")  # fmt: skip
    return float(out)


def compare(tmp: Path, rows: int, startup: float) -> None:
    """Cold `floe run` of the product on each engine at one size."""
    label = f"{rows:,} readings" if rows else "committed seeds (1,000 readings)"
    times: dict[str, float] = {}
    counts: dict[str, dict[str, int]] = {}
    for compute in ("duckdb", "spark"):
        dest = tmp / f"{compute}-{rows}"
        product = _platform(dest, compute, rows)
        times[compute], _ = _run([str(BIN / "floe"), "run", str(product)], dest)
        counts[compute] = _row_counts(dest)
    if counts["duckdb"] != counts["spark"]:
        raise SystemExit(f"row counts differ: {counts}")
    total = sum(counts["duckdb"].values())
    duck, spark = times["duckdb"], times["spark"]
    print(f"{label}: {len(counts['duckdb'])} tables, {total:,} rows published")
    print(f"  duckdb  floe run {duck:8.1f} s")
    rest = spark - startup
    print(f"  spark   floe run {spark:8.1f} s  (start-up ~{startup:.1f} s; "
          f"without it {rest:.1f} s, {rest / duck:.1f}x DuckDB)")  # fmt: skip


def main() -> None:
    rows = int(os.environ.get("FLOE_BENCH_SPARK_ROWS", "100000"))
    startup = spark_startup()
    with tempfile.TemporaryDirectory(prefix="floe-spark-bench-") as tmp:
        compare(Path(tmp), 0, startup)
        if rows:
            compare(Path(tmp), rows, startup)


if __name__ == "__main__":
    main()
