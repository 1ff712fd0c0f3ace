"""The compile entry points used by the CLI, the runtime and the tests."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from floe.compile.context import CompileContext, CompileOptions
from floe.compile.stage import run_stages
from floe.govern.schema_gate import LiveState
from floe.plugins.registry import PluginRegistry, default_registry
from floe.spec.partitioning import Layout

#: The product's existing Iceberg tables: ``{table: [(column, type)]}``.
LiveSchema = Mapping[str, Sequence[tuple[str, str]]]
#: Reads the live tables of a loaded product — schemas, partition specs, sort orders (None:
#: the gate cannot run); supplied by the caller — compile itself never touches the catalog.
LiveSchemaReader = Callable[[CompileContext], LiveState | None]


def compile_product(
    product_dir: Path,
    *,
    manifest: Path | None = None,
    env: str = "dev",
    out_dir: Path | None = None,
    registry: PluginRegistry | None = None,
    write: bool = True,
    live_schema: LiveSchema | None = None,
    read_live: LiveSchemaReader | None = None,
    allow_breaking_reason: str | None = None,
    live_layouts: Mapping[str, Layout] | None = None,
) -> CompileContext:
    """Run the six stages (or the first four with ``write=False``) and return the context.

    ``live_schema`` turns on the breaking-change gate (``live_layouts``: the tables' partition
    specs and sort orders); ``read_live`` instead reads both once LOAD has read the files (so
    they are read once); ``allow_breaking_reason`` accepts breaking changes.
    """
    from floe.compile.stages import ALL_STAGES, CHECK_STAGES

    ctx = CompileContext(
        CompileOptions(
            Path(product_dir),
            manifest,
            env,
            out_dir,
            live_schema,
            live_layouts,
            allow_breaking_reason,
        ),
        registry or default_registry(),
    )
    stages = ALL_STAGES if write else CHECK_STAGES
    if read_live is None:
        return run_stages(ctx, stages)
    run_stages(ctx, stages[:1])  # LOAD
    live = read_live(ctx)
    ctx.options = ctx.options._replace(
        live_schema=live.tables if live else None,
        live_layouts=live.layouts if live else None,
    )
    return run_stages(ctx, stages[1:])
