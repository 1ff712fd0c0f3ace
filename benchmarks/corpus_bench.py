"""Benchmark the dbt compatibility corpus (run with `make bench`).

Per corpus project: a cold `floe run` process on a fresh platform against the plain
reference — a cold `dbt build` process on a DuckDB file plus a naive publish (every seed,
model and snapshot written to Iceberg with one PyIceberg overwrite each) — in the same
benchmark run, twice: the first round includes floe's dbt check and parse (cached per source
hash afterwards), the second is the steady state of a scheduled product. Then the same with
the incremental project's seed at FLOE_BENCH_CORPUS_ROWS rows (default 1,000,000).
Goals: floe ≤ 1.5× the reference at default size, ≤ 1.3× at 1 M rows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent

from tests.e2e import dbt_corpus as corpus  # noqa: E402


def _timed(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return time.perf_counter() - start


def _reference(project: Path, work: Path) -> tuple[float, float]:
    """Seconds of a cold `dbt build` process and of the naive publish after it (the second
    of two rounds: dbt's partial parse is warm, as it is for floe's second run)."""
    profiles = work / "ref-profiles"
    profiles.mkdir(exist_ok=True)
    database = work / "reference.duckdb"
    output = {"type": "duckdb", "path": str(database), "threads": 2}
    name = corpus.profile_name(project)
    (profiles / "profiles.yml").write_text(
        json.dumps({name: {"target": "dev", "outputs": {"dev": output}}})
    )
    if (project / "packages.yml").is_file():
        _timed([str(BIN / "dbt"), "deps", "--profiles-dir", str(profiles)], project)
    corpus.load_externals(project.name, database)
    first = _timed([str(BIN / "dbt"), "build", "--profiles-dir", str(profiles)], project)
    start = time.perf_counter()
    _naive_publish(project, database, work / "naive")
    first_publish = time.perf_counter() - start
    build = _timed([str(BIN / "dbt"), "build", "--profiles-dir", str(profiles)], project)
    start = time.perf_counter()
    _naive_publish(project, database, work / "naive")
    FIRST[project.name] = first + first_publish
    return build, time.perf_counter() - start


def _naive_publish(project: Path, database: Path, warehouse: Path) -> None:
    import duckdb
    from pyiceberg.catalog.sql import SqlCatalog

    from floe.runtime.publish import replace

    warehouse.mkdir(parents=True, exist_ok=True)
    catalog = SqlCatalog(
        "naive", uri=f"sqlite:///{warehouse}/catalog.db", warehouse=f"file://{warehouse}"
    )
    manifest = json.loads((project / "target" / "manifest.json").read_text())
    con = duckdb.connect(str(database), read_only=True)
    try:
        for node in corpus.published_nodes(manifest).values():
            data = con.execute(
                f'select * from "{node["schema"]}"."{node["alias"]}"'
            ).to_arrow_table()
            replace(catalog, f"naive.{node['alias']}", data, {})
    finally:
        con.close()


FIRST: dict[str, float] = {}


def _floe(project: Path, platform: Path) -> tuple[float, float]:
    """Seconds of the first (dbt check and parse included) and the second cold `floe run`."""
    (platform / "manifest.yaml").write_text(corpus.MANIFEST)
    if corpus.externals(project.name):
        from floe.runtime.platform import catalog_for_manifest

        corpus.publish_externals(project.name, catalog_for_manifest(platform / "manifest.yaml"))
    first = _timed([str(BIN / "floe"), "run", str(project)], platform)
    return first, _timed([str(BIN / "floe"), "run", str(project)], platform)


def _scale_events(project: Path, rows: int) -> None:
    """The incremental project's events seed at ``rows`` rows (deterministic)."""
    import duckdb

    duckdb.sql(
        f"copy (select i as event_id, i % 5000 as user_id, "
        f"case when i % 3 = 0 then 'buy' else 'view' end as kind, "
        f"cast((i % 1000) / 10 as decimal(10,2)) as amount, "
        f"timestamp '2024-03-01' + to_seconds(i % 86400) as loaded_at "
        f"from range({rows}) t(i)) to '{project / 'seeds' / 'events.csv'}' (header)"
    )


def _row(
    name: str, work: Path, scale: int | None = None
) -> tuple[str, float, float, float, float, float]:
    ref_root, floe_root = work / "ref", work / "floe"
    ref_root.mkdir()
    floe_root.mkdir()
    ref_project = corpus.copy_project(name, ref_root)
    floe_project = corpus.copy_project(name, floe_root)
    if scale:
        _scale_events(ref_project, scale)
        _scale_events(floe_project, scale)
    build, publish = _reference(ref_project, ref_root)
    floe_first, floe = _floe(floe_project, floe_root)
    label = name if not scale else f"{name} @ {scale:,} rows"
    return label, FIRST[name], floe_first, build, publish, floe


def main() -> None:
    rows = int(os.environ.get("FLOE_BENCH_CORPUS_ROWS", "1000000"))
    results = []
    for name in corpus.projects():
        with tempfile.TemporaryDirectory(prefix="floe-corpus-bench-") as tmp:
            results.append(_row(name, Path(tmp)))
    with tempfile.TemporaryDirectory(prefix="floe-corpus-bench-") as tmp:
        results.append(_row("incremental", Path(tmp), rows))
    print("corpus: floe run vs dbt build + naive publish (cold processes, seconds)")
    print("first round (floe: dbt check + parse included) | second round (warm partial parse)")
    print(f"{'project':<30} {'ref 1':>6} {'floe 1':>7} {'ratio':>6} | {'dbt build':>9} "
          f"{'publish':>7} {'ref 2':>6} {'floe 2':>7} {'ratio':>6}")  # fmt: skip
    for name, ref1, floe1, build, publish, floe in results:
        ref2 = build + publish
        print(f"{name:<30} {ref1:>6.2f} {floe1:>7.2f} {floe1 / ref1:>5.2f}x | {build:>9.2f} "
              f"{publish:>7.2f} {ref2:>6.2f} {floe:>7.2f} {floe / ref2:>5.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
