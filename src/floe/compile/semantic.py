"""The semantic layer's input: the product's gold models as the plugin sees them.

A gold model (floe.yaml ``tier: gold``) is served over the Iceberg table it is published as
(``<namespace>.<alias or model name>``), with its documented columns (dbt properties:
description, tests, ``meta``). A column's type is its declared ``data_type``, else the type
derived from the SQL (floe.govern.schema_derive: passed-through columns and casts); a gold
model without documented columns is served with the columns derived from its SQL.
"""

from __future__ import annotations

from pathlib import Path

from floe.compile.canonical import write_atomic
from floe.govern.schema_derive import Columns, DeriveCache, derive_columns
from floe.govern.schema_types import canonical
from floe.plugins.abcs import SemanticLayerPlugin
from floe.plugins.records import SemanticColumn, SemanticModel
from floe.spec.artifacts import CompiledArtifacts
from floe.spec.dbt_project import DbtProject

SEMANTIC_DIR = "semantic"


def gold_models(
    artifacts: CompiledArtifacts, project: DbtProject, cache: DeriveCache | None = None
) -> list[SemanticModel]:
    """The gold models of the product, by name."""
    gold = sorted(t.name for t in artifacts.transforms if t.tier == "gold")
    gold = [name for name in gold if name in project.models]
    untyped = [
        n for n in gold
        if not project.models[n].columns or any(not c.data_type for c in project.models[n].columns)
    ]  # fmt: skip
    derived = derive_columns(project, untyped, {}, cache) if untyped else {}
    namespace = artifacts.metadata.namespace
    return [_model(project, name, namespace, derived.get(name)) for name in gold]


def _model(
    project: DbtProject, name: str, namespace: str, derived: Columns | None
) -> SemanticModel:
    model = project.models[name]
    types = dict(derived or [])
    columns = tuple(
        SemanticColumn(
            c.name,
            canonical(c.data_type) or types.get(c.name),
            c.description,
            tuple(sorted(t.name for t in c.tests)),
            c.meta,
        )
        for c in model.columns
    ) or tuple(SemanticColumn(n, t) for n, t in derived or [])
    alias, _ = model.config_at.get("alias", (None, None))
    table = alias if isinstance(alias, str) and "alias" not in model.config_unknown else name
    return SemanticModel(
        name, f"{namespace}.{table}", model.description, columns, model.unique_key, model.meta
    )


def write_data_model(
    plugin: SemanticLayerPlugin, models: list[SemanticModel], out: Path
) -> list[Path]:
    """Write the plugin's files into ``out/semantic`` (files of earlier compiles that it no
    longer writes are removed: the folder is what the semantic layer loads)."""
    files = plugin.data_model(models)
    folder = out / SEMANTIC_DIR
    if not files and not folder.exists():
        return []
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for rel, text in sorted(files.items()):
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, text)
        written.append(path)
    for stale in sorted(p for p in folder.rglob("*") if p.is_file() and p not in written):
        stale.unlink()
    return written
