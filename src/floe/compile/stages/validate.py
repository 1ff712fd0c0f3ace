"""VALIDATE: the product is consistent with itself, its dbt project and the installed plugins."""

from __future__ import annotations

from floe.compile.context import CompileContext
from floe.compile.stages.ingestion_checks import ingestion_problems
from floe.errors import Diagnostic, InputError, Location
from floe.plugins.base import PluginType
from floe.spec.common import TIER_ORDER
from floe.spec.dbt_packages import package_problems
from floe.spec.manifest import E_REGO, PLUGIN_CATEGORIES
from floe.spec.partitioning import (
    E_LAYOUT_COLUMN,
    Layout,
    LayoutError,
    check_columns,
    parse_partition_by,
    parse_sort_by,
)

E_DEPENDS = "E201"
E_CYCLE = "E202"
E_TIER_FLOW = "E203"
E_NOT_A_MODEL = "E204"
E_NOT_A_TRANSFORM = "E205"
E_UNKNOWN_REF = "E211"
E_DUPLICATE = "E212"
E_RETENTION_TABLE = "E213"
E_REF_CYCLE = "E214"
E_EXTERNAL = "E135"
E_NAMESPACE = "E217"
W_REFS = "W210"


class ValidateStage:
    """Graph, tier, dbt-project and plugin-type checks; every problem reported at once."""

    name = "validate"

    def run(self, ctx: CompileContext) -> None:
        """Raise InputError listing every inconsistency."""
        problems: list[Diagnostic] = []
        problems += _graph(ctx)
        problems += _project(ctx)
        problems += _dbt_features(ctx)
        problems += _layouts(ctx)
        problems += _foreign_namespaces(ctx)
        problems += _retention(ctx)
        problems += _plugin_types(ctx)
        problems += _rego_policies(ctx)
        problems += ingestion_problems(ctx)
        if problems:
            raise InputError(problems)


def _loc(ctx: CompileContext, *path: str | int, key: bool = False) -> Location:
    assert ctx.spec_doc is not None
    return ctx.spec_doc.location(path, key=key)


def _graph(ctx: CompileContext) -> list[Diagnostic]:
    spec = ctx.need_spec()
    out: list[Diagnostic] = []
    tiers: dict[str, str] = {}
    for i, t in enumerate(spec.transforms):
        if t.name in tiers:
            out.append(
                Diagnostic(
                    E_DUPLICATE,
                    f"transform '{t.name}' is listed twice",
                    _loc(ctx, "transforms", i, "name"),
                    f"transforms[{i}].name",
                )
            )
        tiers.setdefault(t.name, t.tier)
    for i, t in enumerate(spec.transforms):
        for j, dep in enumerate(t.depends_on):
            where = _loc(ctx, "transforms", i, "dependsOn", j)
            field = f"transforms[{i}].dependsOn[{j}]"
            if dep not in tiers:
                out.append(
                    Diagnostic(
                        E_DEPENDS,
                        f"'{t.name}' depends on '{dep}', which is not a transform",
                        where,
                        field,
                        _suggest(dep, list(tiers)),
                    )
                )
            elif TIER_ORDER[tiers[dep]] > TIER_ORDER[t.tier]:
                out.append(
                    Diagnostic(
                        E_TIER_FLOW,
                        f"{t.tier} transform '{t.name}' depends on {tiers[dep]} transform '{dep}' "
                        "(data flows bronze → silver → gold, never back)",
                        where,
                        field,
                        f"move '{t.name}' to tier {tiers[dep]} or higher, or drop the dependency",
                    )
                )
    cycle = _find_cycle({t.name: [d for d in t.depends_on if d in tiers] for t in spec.transforms})
    if cycle:
        first = next(i for i, t in enumerate(spec.transforms) if t.name == cycle[0])
        out.append(
            Diagnostic(
                E_CYCLE,
                "dependency cycle: " + " → ".join(cycle),
                _loc(ctx, "transforms", first, "dependsOn"),
                f"transforms[{first}].dependsOn",
                "a transform cannot depend on itself, directly or through others",
            )
        )
    return out


def _suggest(name: str, options: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else f"known transforms: {', '.join(options)}"


def _find_cycle(graph: dict[str, list[str]]) -> list[str]:
    """One cycle as a closed path, or [] (iterative DFS, deterministic order)."""
    state: dict[str, int] = {}
    for start in graph:
        if state.get(start):
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        path: list[str] = []
        while stack:
            node, idx = stack.pop()
            if idx == 0:
                state[node] = 1
                path.append(node)
            deps = graph.get(node, [])
            if idx < len(deps):
                stack.append((node, idx + 1))
                nxt = deps[idx]
                if state.get(nxt) == 1:
                    return [*path[path.index(nxt) :], nxt]
                if not state.get(nxt):
                    stack.append((nxt, 0))
            else:
                state[node] = 2
                path.pop()
    return []


def _project(ctx: CompileContext) -> list[Diagnostic]:
    spec, project = ctx.need_spec(), ctx.need_project()
    out: list[Diagnostic] = []
    names = {t.name for t in spec.transforms}
    for i, t in enumerate(spec.transforms):
        if t.name not in project.models:
            out.append(
                Diagnostic(
                    E_NOT_A_MODEL,
                    f"transform '{t.name}' has no dbt model (no {t.name}.sql)",
                    _loc(ctx, "transforms", i, "name"),
                    f"transforms[{i}].name",
                    _suggest(t.name, sorted(project.models))
                    if project.models
                    else "add the model's .sql file under models/",
                )
            )
    for name in sorted(set(project.models) - names):
        out.append(
            Diagnostic(
                E_NOT_A_TRANSFORM,
                f"dbt model '{name}' is not listed in floe.yaml transforms",
                project.model_location(name),
                "transforms",
                f"add '- name: {name}' with its tier to transforms, or delete the model",
            )
        )
    known = set(project.models) | set(project.seeds) | set(project.snapshots)
    known |= project.package_nodes
    for t in spec.transforms:
        model = project.models.get(t.name)
        if model is None:
            continue
        for ref in model.refs:
            if ref not in known:
                out.append(
                    Diagnostic(
                        E_UNKNOWN_REF,
                        f"ref('{ref}') names no model or seed of this project (no seed data "
                        f"{' or '.join(f'{d}/{ref}.csv' for d in project.seed_dirs)})",
                        project.model_location(t.name),
                        "",
                        _suggest(ref, sorted(known)),
                    )
                )
        model_refs = {r for r in model.refs if r in project.models}
        if model_refs != set(t.depends_on):
            ctx.warnings.append(
                Diagnostic(
                    W_REFS,
                    f"dependsOn of '{t.name}' is {sorted(t.depends_on)} but its SQL refs "
                    f"{sorted(model_refs)}; the SQL wins at run time",
                    _loc(ctx, "transforms", [x.name for x in spec.transforms].index(t.name)),
                    "dependsOn",
                    severity="warning",
                    hint=f"set dependsOn: [{', '.join(sorted(model_refs))}]",
                )
            )
    return out


def _dbt_features(ctx: CompileContext) -> list[Diagnostic]:
    """What dbt would do but floe cannot: packages to download, external materializations;
    and a cycle among the SQL refs."""
    project = ctx.need_project()
    out = package_problems(project.root)
    for name, model in sorted(project.models.items()):
        if model.materialization == "external":
            line = next((i for i, text in enumerate(model.sql.splitlines(), 1)
                         if "external" in text), 1)  # fmt: skip
            out.append(
                Diagnostic(
                    E_EXTERNAL,
                    f"model '{name}' uses dbt-duckdb's 'external' materialization, which writes "
                    "files outside the warehouse; floe publishes every model to Iceberg",
                    Location(str(project.root / model.path), line, 1),
                    "",
                    "use materialized='table' (or 'incremental'); read outside files through "
                    "a source instead",
                )
            )
    graph = {
        n: [r for r in m.refs if r in project.models] for n, m in sorted(project.models.items())
    }
    cycle = _find_cycle(graph)
    if cycle:
        out.append(
            Diagnostic(
                E_REF_CYCLE,
                "the models' ref() calls form a cycle: " + " → ".join(cycle),
                project.model_location(cycle[0]),
                "",
                "a model cannot read itself, directly or through other models",
            )
        )
    return out


def _layouts(ctx: CompileContext) -> list[Diagnostic]:
    """Every model's ``partition_by``/``sort_by``: valid transforms (E215) of columns the model
    has (E216), where its columns are known (its properties' ``columns:`` or contract);
    a value set through Jinja is checked by the run, before publishing."""
    out: list[Diagnostic] = []
    for name, model in sorted(ctx.need_project().models.items()):
        parsed: dict[str, Layout] = {}
        for key, (value, where) in sorted(model.config_at.items()):
            if key in model.config_unknown or key not in ("partition_by", "sort_by"):
                continue
            try:
                parsed[key] = (
                    Layout(partition_by=parse_partition_by(value))
                    if key == "partition_by"
                    else Layout(sort_by=parse_sort_by(value))
                )
            except LayoutError as exc:
                out.append(Diagnostic(exc.code, f"model '{name}': {exc.message}", where,
                                      key, exc.hint))  # fmt: skip
        columns = [c.name for c in model.columns]
        for key, layout in sorted(parsed.items()):
            missing = check_columns(layout, columns) if columns else None
            if missing is not None:
                out.append(
                    Diagnostic(
                        E_LAYOUT_COLUMN,
                        f"model '{name}': column '{missing}' is not among "
                        f"its columns ({', '.join(columns)})",
                        model.config_at[key][1],
                        key,
                        f"name one of its columns, or document '{missing}' under the model's "
                        "columns: in its properties file",
                    )
                )
    return out


def _foreign_namespaces(ctx: CompileContext) -> list[Diagnostic]:
    """A product writes only into its own namespace (FR-093): a model whose dbt ``schema``
    names the namespace of another product — one whose tables floe.yaml ``sources:`` reads —
    would look like a write into it; floe publishes it into the product's own namespace, so
    it is refused here (the run refuses another team's product of the same name: E546)."""
    from floe.compile.stages.build import namespace_of

    spec, project = ctx.need_spec(), ctx.need_project()
    own = namespace_of(spec.metadata.name)
    others = {namespace_of(s.product): s.product for s in spec.sources}
    others.pop(own, None)
    out: list[Diagnostic] = []
    for name, model in sorted(project.models.items()):
        value, where = model.config_at.get("schema", (None, None))
        if value is None or where is None or "schema" in model.config_unknown:
            continue
        product = others.get(str(value).strip().lower().replace("-", "_"))
        if product is not None:
            out.append(
                Diagnostic(
                    E_NAMESPACE,
                    f"model '{name}' sets schema '{value}', the Iceberg namespace of product "
                    f"'{product}' (read through floe.yaml sources); a product writes only into "
                    f"its own namespace '{own}'",
                    where,
                    "schema",
                    f"floe publishes every model as {own}.<alias or name>, whatever its dbt "
                    f"schema: drop the schema config or choose another; to change {product}'s "
                    "tables, change that product",
                )
            )
    return out


def _retention(ctx: CompileContext) -> list[Diagnostic]:
    spec, project = ctx.need_spec(), ctx.need_project()
    known = sorted(set(project.models) | set(project.seeds))
    return [
        Diagnostic(
            E_RETENTION_TABLE,
            f"retention.tables names '{name}', which is no model or seed of this product",
            _loc(ctx, "retention", "tables", i),
            f"retention.tables[{i}]",
            _suggest(name, known),
        )
        for i, name in enumerate(spec.retention.tables or [])
        if name not in known
    ]


def _plugin_types(ctx: CompileContext) -> list[Diagnostic]:
    manifest = ctx.need_manifest()
    assert ctx.manifest_doc is not None
    out: list[Diagnostic] = []
    for category in PLUGIN_CATEGORIES:
        ref = getattr(manifest.plugins, category)
        if ref is None:
            continue
        ptype = PluginType(category)
        if not ctx.registry.has(ptype, ref.type):
            out.append(
                ctx.registry.unknown(
                    ptype, ref.type, ctx.manifest_doc.location(("plugins", category, "type"))
                )
            )
    for compute in manifest.compute_types():
        if not ctx.registry.has(PluginType.COMPUTE, compute):
            out.append(
                ctx.registry.unknown(
                    PluginType.COMPUTE, compute, ctx.manifest_doc.location(("approved_compute",))
                )
            )
    return out


def _rego_policies(ctx: CompileContext) -> list[Diagnostic]:
    """Every Rego policy of ``artifacts.promotion.rego`` exists beside the manifest (cheap; its
    syntax is checked by the engine when ``floe promote`` runs the 'rego' gate)."""
    manifest, doc = ctx.need_manifest(), ctx.manifest_doc
    if manifest.artifacts is None or doc is None:
        return []
    env = ("environments", ctx.options.env, "artifacts", "promotion", "rego")
    prefix = env if (*env, 0) in doc.value_marks else env[2:]
    return [
        Diagnostic(
            E_REGO,
            f"Rego policy {path} does not exist (relative to the manifest)",
            doc.location((*prefix, i)),
            "artifacts.promotion.rego",
            "fix the path or add the policy file",
        )
        for i, path in enumerate(manifest.artifacts.promotion.rego)
        if not (doc.path.parent / path).is_file()
    ]
