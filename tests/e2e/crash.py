"""Helpers of the crash-safety and concurrency tests (issue 12 point 6): a tiny product whose
int_orders is incremental, the rows every table must hold (derived from the seed), readers of
the catalog, the warehouse and the Dagster runs, and `floe` processes."""

from __future__ import annotations

import fcntl
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.conftest import FLOE, TINY_MANIFEST, TINY_SPEC, CliResult, write_tiny
from tests.e2e.servers import postgres_server

#: int_orders becomes incremental: its publish is a sync (APPEND of the new ids)
INCREMENTAL = (
    "{{ config(materialized='incremental') }}\n"
    "select id, amount * 2 as amount from {{ ref('stg_orders') }}\n"
    "{% if is_incremental() %}where id > (select max(id) from {{ this }}){% endif %}\n"
)
ROUND1 = [(1, 10), (2, 20)]
ROUND2 = [*ROUND1, (3, 30), (4, 40)]
TABLES = ("raw_orders", "stg_orders", "int_orders", "mart_revenue")  # their publish order
KILLED = -9  # the return code of a process killed by SIGKILL


def expected(seed: list[tuple[int, int]]) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, derived from the seed rows as the models compute them."""
    doubled = sorted((i, a * 2) for i, a in seed)
    return {"raw_orders": sorted(seed), "stg_orders": sorted(seed), "int_orders": doubled,
            "mart_revenue": [(sum(a for _, a in doubled),)]}  # fmt: skip


def seed(product: Path, rows: list[tuple[int, int]]) -> None:
    lines = "".join(f"{i},{a}\n" for i, a in rows)
    (product / "seeds" / "raw_orders.csv").write_text("id,amount\n" + lines)


def product(root: Path, name: str = "tiny", manifest: str | None = None) -> Path:
    spec = TINY_SPEC.replace("name: tiny", f"name: {name}")
    if manifest is not None:  # products beside one shared manifest
        spec = spec.replace("manifest: manifest.yaml", "manifest: ../manifest.yaml")
    product = write_tiny(root / name, spec=spec)
    if manifest is not None:
        (product / "manifest.yaml").unlink()
        (root / "manifest.yaml").write_text(manifest)
    (product / "models" / "int_orders.sql").write_text(INCREMENTAL)
    return product


def catalog(manifest: Path, env: dict[str, str] | None = None) -> Any:
    from floe.runtime.platform import catalog_for_manifest

    old = {k: os.environ.get(k) for k in env or {}}
    os.environ.update(env or {})
    try:
        return catalog_for_manifest(manifest)
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def states(catalog: Any, ns: str = "tiny") -> dict[str, list[tuple[Any, ...]]]:
    """Each table's rows, sorted, read through the catalog (its current metadata must load)."""
    out = {}
    for name in TABLES:
        table = catalog.load_table(f"{ns}.{name}")
        out[name] = sorted(tuple(r.values()) for r in table.scan().to_arrow().to_pylist())
    return out


def mixed(before: dict[str, Any], after: dict[str, Any], published: int) -> dict[str, Any]:
    """The first ``published`` tables (in publish order) after the run, the others before."""
    return {t: (after if i < published else before)[t] for i, t in enumerate(TABLES)}


def orphans(catalog: Any, ns: str, name: str) -> list[str]:
    """Data files of the table on disk that no snapshot references."""
    table = catalog.load_table(f"{ns}.{name}")
    referenced = {
        task.file.file_path.removeprefix("file://")
        for snap in table.snapshots()
        for task in table.scan(snapshot_id=snap.snapshot_id).plan_files()
    }
    folder = Path(table.location().removeprefix("file://")) / "data"
    return sorted(str(p) for p in folder.rglob("*.parquet") if str(p) not in referenced)


def stored(catalog: Any, ns: str, name: str) -> set[str]:
    """Every file under the table's location (data and metadata)."""
    table = catalog.load_table(f"{ns}.{name}")
    root = Path(table.location().removeprefix("file://"))
    return {str(p) for p in root.rglob("*") if p.is_file()}


def runs(home: Path) -> dict[str, tuple[str, str]]:
    """run id → (status, failure message) of the platform's Dagster runs."""
    from floe.orchestrate.adapters.dagster_instance import open_instance

    with open_instance(home / "dagster") as instance:
        out = {}
        for run in instance.get_runs():
            failures = instance.all_logs(run.run_id)
            text = " ".join(e.message or "" for e in failures if e.is_dagster_event
                            and e.dagster_event.event_type_value == "PIPELINE_FAILURE")  # fmt: skip
            out[run.run_id] = (run.status.value, text)
        return out


def run_tag_on_current(catalog: Any, ns: str, name: str) -> str:
    """The run id of the table's current snapshot, checked to carry that run's tag."""
    table = catalog.load_table(f"{ns}.{name}")
    snap = table.current_snapshot()
    run_id = snap.summary.additional_properties["floe.run_id"]
    assert table.metadata.refs[f"run-{run_id}"].snapshot_id == snap.snapshot_id
    return str(run_id)


def await_all(procs: list[subprocess.Popen[bytes]], deadline_s: float = 300) -> list[str]:
    """Wait for every process (a deadline, no sleeping); their outputs."""
    return [p.communicate(timeout=deadline_s)[0].decode() for p in procs]


def start(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """``floe *args`` as a process, its output (stdout and stderr) piped."""
    return subprocess.Popen(
        [str(FLOE), *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env={**os.environ, "COLUMNS": "200", "PYTHONUNBUFFERED": "1", **(env or {})},
    )  # fmt: skip


@contextmanager
def holding(lock: Path, holder: str) -> Iterator[None]:
    """Hold the product's run lock as a run would (its file names the holder)."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.truncate(0)
        handle.write(f"{holder}\n")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def catalog_uri(kind: str, tmp_path: Path) -> Iterator[str]:
    if kind == "postgresql":
        with postgres_server() as uri:
            yield uri
    else:
        yield f"sqlite:///{tmp_path / 'catalog.db'}"


def shared_manifest(kind: str, uri: str) -> tuple[str, dict[str, str]]:
    """The platform manifest (SQLite in the home, or PostgreSQL with its password as a secret
    reference) and the environment the runs need."""
    if kind == "sqlite":
        return TINY_MANIFEST, {}
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(uri)
    bare = uri.replace(f":{parts.password}@", "@")
    manifest = TINY_MANIFEST.replace(
        "  catalog:\n    type: sql\n",
        f"  catalog:\n    type: sql\n    config:\n      uri: '{bare}'\n"
        "      password: {secret: CATALOG_DB_PASSWORD}\n",
    )
    return manifest, {"CATALOG_DB_PASSWORD": unquote(parts.password or "")}


def floe(*args: str | Path, env: dict[str, str] | None = None) -> CliResult:
    """``floe *args`` as a real process, awaited with a generous deadline (a loaded 2-core
    machine may take minutes for what takes seconds alone)."""
    proc = subprocess.run(
        [str(FLOE), *map(str, args)], capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )  # fmt: skip
    return CliResult(proc.returncode, proc.stdout, proc.stderr)
