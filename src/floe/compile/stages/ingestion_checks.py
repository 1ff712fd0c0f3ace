"""VALIDATE and RESOLVE checks of floe.yaml ``ingestion:`` (docs/ingestion.md).

VALIDATE: a platform ingestion plugin is chosen, source and raw table names are unique and
clash with no dbt node or ``sources:`` entry, credentials are secret references, a local
folder exists. RESOLVE: the chosen plugin loads every declared source type.
"""

from __future__ import annotations

from pathlib import Path

from floe.compile.context import CompileContext
from floe.errors import Diagnostic, Location
from floe.plugins.abcs import IngestionPlugin
from floe.plugins.base import Plugin

E_NO_PLUGIN = "E670"
E_SOURCE_NAME = "E671"
E_TABLE_NAME = "E672"
E_PLAINTEXT = "E673"
E_UNSUPPORTED = "E674"
E_FOLDER = "E679"


def _loc(ctx: CompileContext, *path: str | int, key: bool = False) -> Location:
    assert ctx.spec_doc is not None
    return ctx.spec_doc.location(path, key=key)


def ingestion_problems(ctx: CompileContext) -> list[Diagnostic]:
    """Every problem of the ``ingestion:`` section (none when there is no such section)."""
    spec = ctx.need_spec()
    if not spec.ingestion:
        return []
    return _plugin_chosen(ctx) + _names(ctx) + _credentials(ctx) + _folders(ctx)


def _plugin_chosen(ctx: CompileContext) -> list[Diagnostic]:
    spec, manifest = ctx.need_spec(), ctx.need_manifest()
    override = (spec.plugins or {}).get("ingestion")
    if manifest.plugins.ingestion is not None or (override and override.type):
        return []
    return [
        Diagnostic(
            E_NO_PLUGIN,
            "floe.yaml declares ingestion sources but the platform chooses no ingestion plugin",
            _loc(ctx, "ingestion", key=True),
            "ingestion",
            "ask the platform team to add 'plugins: {ingestion: {type: dlt}}' to manifest.yaml "
            "(pip install 'floe-platform[ingestion]')",
        )
    ]


def _names(ctx: CompileContext) -> list[Diagnostic]:
    """Source names are unique and no floe.yaml ``sources:`` entry; raw table names are
    unique and no seed, model or snapshot of the dbt project (they share the namespace)."""
    spec, project = ctx.need_spec(), ctx.need_project()
    out: list[Diagnostic] = []
    mapped = {s.name for s in spec.sources}
    nodes = set(project.models) | set(project.seeds) | set(project.snapshots)
    seen_sources: set[str] = set()
    seen_tables: dict[str, str] = {}
    for i, source in enumerate(spec.ingestion_sources()):
        if source.name in mapped or source.name in seen_sources:
            why = "a floe.yaml 'sources:' entry" if source.name in mapped else "another source"
            out.append(Diagnostic(
                E_SOURCE_NAME, f"ingestion source '{source.name}' has the name of {why}",
                _loc(ctx, "ingestion", i, "name"), f"ingestion[{i}].name",
                "each dbt source name is either read from another product or ingested: "
                "rename the ingestion source",
            ))  # fmt: skip
        seen_sources.add(source.name)
        for j, res in enumerate(source.resources):
            clash = "a dbt node" if res.name in nodes else seen_tables.get(res.name)
            if clash:
                out.append(Diagnostic(
                    E_TABLE_NAME,
                    f"raw table '{res.name}' of ingestion source '{source.name}' has the name "
                    f"of {clash} of this product (both would be {res.name} in its namespace)",
                    _loc(ctx, "ingestion", i, "resources", j, "name"),
                    f"ingestion[{i}].resources[{j}].name",
                    "rename the resource (and the table of its dbt source)",
                ))  # fmt: skip
            seen_tables.setdefault(res.name, f"a resource of source '{source.name}'")
    return out


def _credentials(ctx: CompileContext) -> list[Diagnostic]:
    """A credential written as plaintext is refused (its value is never shown)."""
    from floe.spec.ingestion import CREDENTIAL_FIELDS

    out: list[Diagnostic] = []
    for i, source in enumerate(ctx.need_spec().ingestion_sources()):
        for name in CREDENTIAL_FIELDS[source.type]:
            if isinstance(getattr(source, name), str):
                out.append(Diagnostic(
                    E_PLAINTEXT,
                    f"ingestion source '{source.name}': '{name}' must be a secret reference, "
                    "not a plaintext value",
                    _loc(ctx, "ingestion", i, name), f"ingestion[{i}].{name}",
                    f"write '{name}: {{secret: NAME}}' and provide NAME at run time (an "
                    "environment variable with the 'env' secrets plugin)",
                ))  # fmt: skip
    return out


def _folders(ctx: CompileContext) -> list[Diagnostic]:
    """A filesystem source's local folder exists (relative to floe.yaml)."""
    assert ctx.spec_doc is not None
    base = ctx.spec_doc.path.parent
    out: list[Diagnostic] = []
    for i, source in enumerate(ctx.need_spec().ingestion_sources()):
        if source.type != "filesystem" or "://" in source.bucket_url:
            continue
        if not (base / Path(source.bucket_url)).is_dir():
            out.append(Diagnostic(
                E_FOLDER,
                f"ingestion source '{source.name}': folder '{source.bucket_url}' does not exist",
                _loc(ctx, "ingestion", i, "bucket_url"), f"ingestion[{i}].bucket_url",
                "the path is relative to floe.yaml; create the folder or fix the path",
            ))  # fmt: skip
    return out


def unsupported_sources(ctx: CompileContext, plugin: Plugin | None) -> list[Diagnostic]:
    """RESOLVE: each declared source type is one the chosen ingestion plugin loads."""
    if not isinstance(plugin, IngestionPlugin):
        return []
    known = plugin.sources()
    return [
        Diagnostic(
            E_UNSUPPORTED,
            f"ingestion source '{s.name}' has type '{s.type}', which the ingestion plugin "
            f"'{plugin.name}' does not load (it loads: {', '.join(known)})",
            _loc(ctx, "ingestion", i, "type"),
            f"ingestion[{i}].type",
            f"use one of: {', '.join(known)}",
        )
        for i, s in enumerate(ctx.need_spec().ingestion_sources())
        if s.type not in known
    ]
