"""The dbt manifest.json dagster-dbt needs, parsed once per source hash."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from floe.spec.artifacts import CompiledArtifacts

STAMP = ".floe_source_hash"


def ensure_manifest(
    product_dir: Path, compiled_dir: Path, artifacts: CompiledArtifacts, scratch: Path
) -> Path:
    """``<compiled>/dbt/manifest.json``, re-parsed (dbt parse) when the sources changed.

    The parse sees the same scratch path the runs use, so its partial-parse state stays valid
    for every run's dbt invocations.
    """
    from dagster_dbt import DbtCliResource

    target = compiled_dir / "dbt"
    manifest = target / "manifest.json"
    stamp = target / STAMP
    wanted = f"{artifacts.metadata.source_hash} {artifacts.environment} {scratch}"
    if manifest.is_file() and stamp.is_file() and stamp.read_text() == wanted:
        return manifest
    dbt = DbtCliResource(
        project_dir=str(product_dir),
        profiles_dir=str(compiled_dir),
        target=artifacts.dbt.target,
        dbt_executable=dbt_executable(),
    )
    from floe.plugins.builtin.compute_duckdb import SCRATCH_ENV

    with scratch_env(SCRATCH_ENV, scratch):
        dbt.cli(["parse", "--quiet"], target_path=target).wait()
    stamp.write_text(wanted)
    return manifest


def dbt_executable() -> str:
    """The dbt of this environment (dagster-dbt needs it on PATH otherwise)."""
    import shutil
    import sys

    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


_ENV_LOCK = threading.Lock()


@contextmanager
def scratch_env(name: str, path: Path) -> Iterator[None]:
    """Set ``name`` to ``path`` for the dbt subprocesses started inside the block."""
    with _ENV_LOCK:
        old = os.environ.get(name)
        os.environ[name] = str(path)
        try:
            yield
        finally:
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old
