"""The compile entry points used by the CLI, the runtime and the tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from floe.compile.context import CompileContext, CompileOptions
from floe.compile.stage import run_stages
from floe.plugins.registry import PluginRegistry, default_registry


def compile_product(
    product_dir: Path,
    *,
    manifest: Path | None = None,
    env: str = "dev",
    out_dir: Path | None = None,
    registry: PluginRegistry | None = None,
    write: bool = True,
    live_schema: Mapping[str, Sequence[tuple[str, str]]] | None = None,
    allow_breaking_reason: str | None = None,
) -> CompileContext:
    """Run the six stages (or the first four with ``write=False``) and return the context.

    ``live_schema`` (the product's existing Iceberg tables, ``{table: [(column, type)]}``) turns
    on the breaking-change gate; ``allow_breaking_reason`` accepts breaking changes.
    """
    from floe.compile.stages import ALL_STAGES, CHECK_STAGES

    ctx = CompileContext(
        CompileOptions(
            Path(product_dir), manifest, env, out_dir, live_schema, allow_breaking_reason
        ),
        registry or default_registry(),
    )
    return run_stages(ctx, ALL_STAGES if write else CHECK_STAGES)
