"""The dbt manifest.json dagster-dbt needs, parsed once per source hash."""

from __future__ import annotations

import json
from pathlib import Path

from floe.spec.artifacts import CompiledArtifacts

STAMP = ".floe_source_hash"
ASSETS_MANIFEST = "assets_manifest.json"
#: what dagster-dbt never reads; macros alone are ~90 % of a manifest's bytes
UNUSED_KEYS = ("macros", "docs", "disabled")


def ensure_manifest(
    product_dir: Path,
    compiled_dir: Path,
    artifacts: CompiledArtifacts,
    scratch: Path,
    env: dict[str, str] | None = None,
    lock: Path | None = None,
) -> Path:
    """``<compiled>/dbt/assets_manifest.json``: dbt's manifest.json (re-parsed by ``dbt parse``
    when the sources changed) without what dagster-dbt never reads, so a code location loads
    a tenth of the bytes.

    The parse sees the same scratch path the runs use, so its partial-parse state stays valid
    for every run's dbt invocations. ``lock``: the product lock guarding ``scratch``; while it
    is free the check compiles against the empty scratch path and its parse state makes this
    parse a partial one (one full parse of the project instead of two).
    """
    from floe.plugins.builtin.compute_duckdb import SCRATCH_ENV
    from floe.runtime.dbt_check import ParseState, check_dbt_parse
    from floe.runtime.dbt_errors import parse_errors
    from floe.runtime.dbt_exec import DbtProjectRef, invoke_dbt

    target = compiled_dir / "dbt"
    slim = target / ASSETS_MANIFEST
    stamp = target / STAMP
    wanted = (
        f"{artifacts.metadata.source_hash} {artifacts.environment} {scratch} {dbt_args(artifacts)}"
    )
    if slim.is_file() and stamp.is_file() and stamp.read_text() == wanted:
        return slim
    ref = DbtProjectRef(product_dir, compiled_dir, artifacts.dbt.target)
    # what dbt rejects at parse or compile time is an input error before anything runs; the
    # check leaves its parse state in `target`, so the parse below is a partial one
    check_dbt_parse(
        product_dir, compiled_dir, artifacts.dbt.target, env, dbt_args(artifacts),
        ParseState(keep_in=target, scratch=scratch, lock=lock) if lock else None,
    )  # fmt: skip
    result = invoke_dbt(
        ref, ["parse", "--quiet", *dbt_args(artifacts)], target,
        {**(env or {}), SCRATCH_ENV: str(scratch)},
    )  # fmt: skip
    error = parse_errors(result, product_dir)
    if error is not None:
        raise error
    full = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    kept = {k: v for k, v in full.items() if k not in UNUSED_KEYS}
    slim.write_text(json.dumps(kept), encoding="utf-8")
    stamp.write_text(wanted)
    return slim


def dbt_args(artifacts: CompiledArtifacts) -> tuple[str, ...]:
    """Arguments every dbt invocation of the product gets: ``--vars`` from floe.yaml."""
    if not artifacts.dbt.vars:
        return ()
    return ("--vars", json.dumps(artifacts.dbt.vars, sort_keys=True))
