"""`floe semantic validate`: compile the product (which writes the semantic layer's data model
of its gold models into ``target/floe/semantic``), then load that model with the semantic
layer's own loader (Cube's schema compiler for ``cube``). docs/semantic-layer.md."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from floe.app.compile import GateOptions, compile_one
from floe.compile.context import CompileContext
from floe.compile.semantic import SEMANTIC_DIR
from floe.errors import Diagnostic, InputError, Location
from floe.plugins.abcs import SemanticLayerPlugin
from floe.plugins.records import SemanticLoaded, SemanticProblem

E_NO_LAYER = "E682"
E_REFUSED = "E683"


@dataclass(frozen=True)
class SemanticCheck:
    """What was written, and loaded without a problem."""

    product: str
    plugin: str
    files: list[Path]
    loaded: tuple[SemanticLoaded, ...]


def validate_semantic(product_dir: Path, manifest: Path | None, env: str) -> SemanticCheck:
    """Compile (offline) and load the data model; every problem the loader reports is an
    error located at the model's dbt properties."""
    ctx = compile_one(product_dir, manifest, env, gate=GateOptions(offline=True))
    plugin = ctx.need_resolved().instances.get("semantic_layer")
    product = ctx.need_spec().metadata.name
    if not isinstance(plugin, SemanticLayerPlugin):
        assert ctx.manifest_doc is not None
        raise InputError.single(
            E_NO_LAYER,
            f"the platform of '{product}' chooses no semantic layer",
            ctx.manifest_doc.location(("plugins",), key=True),
            field_path="plugins.semantic_layer",
            hint="add 'semantic_layer: {type: cube}' under plugins in manifest.yaml",
        )
    folder = ctx.options.output_dir / SEMANTIC_DIR
    files = sorted(p for p in ctx.written if folder in p.parents)
    done = plugin.validate(folder) if files else None
    if done is not None and done.problems:
        raise InputError([_diagnostic(ctx, folder, p) for p in done.problems])
    return SemanticCheck(product, plugin.name, files, done.loaded if done else ())


def _diagnostic(ctx: CompileContext, folder: Path, problem: SemanticProblem) -> Diagnostic:
    model = ctx.need_project().models.get(problem.model or "")
    where = model.properties_location if model is not None else None
    generated = folder / problem.file if problem.file else folder
    subject = f"model '{problem.model}'" if problem.model else "the data model"
    return Diagnostic(
        E_REFUSED,
        f"the semantic layer refuses {subject} ({generated.name}): {problem.message}",
        where or Location(str(generated)),
        field_path="meta.cube" if model is not None else "",
        hint=f"fix the model's meta.cube in its dbt properties; the generated file is {generated}",
    )
