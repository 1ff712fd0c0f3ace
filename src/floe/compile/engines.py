"""Engines mixed in one product (floe.yaml ``transforms[].compute``): the compute plugin of
each engine besides the product's, and what a split of the dbt graph into engine waves
cannot run (RESOLVE).

A run builds the graph in waves, one engine each, in topological order; what an earlier wave
built is a published Iceberg table the later one reads (docs/compute.md). What crosses a wave
must therefore be a table: an ephemeral model — inlined into its consumers' SQL, never
published — runs wherever its consumers run, so its own ``compute`` must be theirs (E695).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from floe.compile.context import CompileContext
from floe.errors import Diagnostic, FloeError, Location
from floe.govern.secrets import scrub
from floe.plugins.base import Plugin, PluginType

E_EPHEMERAL = "E695"


def other_computes(
    ctx: CompileContext, compute_by_model: dict[str, str], problems: list[Diagnostic]
) -> dict[str, tuple[str, dict[str, Any], Plugin]]:
    """The compute plugin of every engine a transform uses besides the product's, configured
    as the manifest configures it (``compute_configs.<type>``, or ``plugins.compute`` for the
    manifest's own): type → (version, config with secrets as references, plugin)."""
    manifest, spec = ctx.need_manifest(), ctx.need_spec()
    product = spec.compute or manifest.plugins.compute.type
    approved = manifest.compute_types()
    out: dict[str, tuple[str, dict[str, Any], Plugin]] = {}
    for engine in sorted(set(compute_by_model.values()) - {product}):
        if engine not in approved:
            continue  # E303 already
        if engine == manifest.plugins.compute.type:
            path: tuple[str, ...] = ("plugins", "compute", "config")
            config = dict(manifest.plugins.compute.config)
        else:
            path = ("compute_configs", engine)
            config = dict(manifest.compute_configs.get(engine, {}))
        clean = scrub(config, path)
        try:
            plugin = ctx.registry.create(
                PluginType.COMPUTE, engine, clean, _mloc(ctx, *path[:2]), _locator(ctx, path)
            )
        except FloeError as exc:
            problems += exc.diagnostics
            continue
        out[engine] = (plugin.version, clean, plugin)
    return out


def engine_problems(ctx: CompileContext, compute_by_model: dict[str, str]) -> list[Diagnostic]:
    """What a wave split breaks: an ephemeral model whose compute is not its consumers'."""
    spec, project = ctx.need_spec(), ctx.need_project()
    if len(set(compute_by_model.values())) < 2 and not any(t.compute for t in spec.transforms):
        return []
    index = {t.name: i for i, t in enumerate(spec.transforms)}
    product = spec.compute or ctx.need_manifest().plugins.compute.type

    def engine(model: str) -> str:
        return compute_by_model.get(model, product)

    out: list[Diagnostic] = []
    for name, model in sorted(project.models.items()):
        if model.materialization != "ephemeral":
            continue
        readers = sorted(m.name for m in project.models.values() if name in m.refs)
        others = [r for r in readers if engine(r) != engine(name)]
        if not others:
            continue
        engines = sorted({engine(r) for r in readers})
        fix = (
            f"set 'compute: {engines[0]}' on '{name}' (the engine of the models reading it)"
            if len(engines) == 1
            else f"materialize '{name}' as a view or table: it is then published and read "
            "through the catalog by both engines"
        )
        where, field_path = _where(ctx, index, name, others[0])
        out.append(Diagnostic(
            E_EPHEMERAL,
            f"ephemeral model '{name}' is on compute '{engine(name)}' but "
            + ", ".join(f"'{r}' ({engine(r)})" for r in others)
            + " reads it: an ephemeral model is inlined into its readers' SQL, so it runs on "
            "their engine",
            where,
            field_path,
            fix,
        ))  # fmt: skip
    return out


def _where(
    ctx: CompileContext, index: dict[str, int], name: str, reader: str
) -> tuple[Location, str]:
    """The ``compute:`` line of the ephemeral model's transform, else of its reader's, else
    the transform's entry; and its field path."""
    assert ctx.spec_doc is not None
    transforms = ctx.need_spec().transforms
    for model in (name, reader):
        i = index.get(model)
        if i is not None and transforms[i].compute is not None:
            return ctx.spec_doc.location(("transforms", i, "compute")), f"transforms[{i}].compute"
    i = index.get(name, index.get(reader))
    if i is None:
        return ctx.spec_doc.location(("transforms",)), "transforms"
    return ctx.spec_doc.location(("transforms", i)), f"transforms[{i}]"


def _locator(
    ctx: CompileContext, prefix: tuple[str, ...]
) -> Callable[[tuple[str | int, ...]], Location]:
    def locate(loc: tuple[str | int, ...]) -> Location:
        return _mloc(ctx, *prefix, *loc)

    return locate


def _mloc(ctx: CompileContext, *path: str | int) -> Location:
    assert ctx.manifest_doc is not None
    return ctx.manifest_doc.location(path)
