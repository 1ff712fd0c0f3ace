"""The dbt manifest.json dagster-dbt needs, parsed once per source hash."""

from __future__ import annotations

from pathlib import Path

from floe.spec.artifacts import CompiledArtifacts

STAMP = ".floe_source_hash"


def ensure_manifest(
    product_dir: Path,
    compiled_dir: Path,
    artifacts: CompiledArtifacts,
    scratch: Path,
    env: dict[str, str] | None = None,
) -> Path:
    """``<compiled>/dbt/manifest.json``, re-parsed (dbt parse) when the sources changed.

    The parse sees the same scratch path the runs use, so its partial-parse state stays valid
    for every run's dbt invocations.
    """
    from floe.plugins.builtin.compute_duckdb import SCRATCH_ENV
    from floe.runtime.dbt_exec import DbtProjectRef, run_dbt

    target = compiled_dir / "dbt"
    manifest = target / "manifest.json"
    stamp = target / STAMP
    wanted = f"{artifacts.metadata.source_hash} {artifacts.environment} {scratch}"
    if manifest.is_file() and stamp.is_file() and stamp.read_text() == wanted:
        return manifest
    ref = DbtProjectRef(product_dir, compiled_dir, artifacts.dbt.target)
    run_dbt(ref, ["parse", "--quiet"], target, {**(env or {}), SCRATCH_ENV: str(scratch)})
    stamp.write_text(wanted)
    return manifest
