"""RESOLVE: platform defaults + product overrides, locks, plugins, compute, governance."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from floe import events
from floe.compile.context import CompileContext, Resolved
from floe.compile.engines import engine_problems, other_computes
from floe.compile.quality import quality_problems
from floe.compile.stages.ingestion_checks import unsupported_sources
from floe.errors import Diagnostic, FloeError, InputError, Location
from floe.govern.secrets import find_plaintext, reference_name, scrub
from floe.plugins.abcs import QualityPlugin
from floe.plugins.base import Plugin, PluginType
from floe.spec.common import LEVEL_ORDER, Tier
from floe.spec.floe_spec import GovernanceOverride
from floe.spec.manifest import PLUGIN_CATEGORIES, Governance, QualityGates
from floe.spec.yamlload import YamlDocument

E_LOCKED = "E301"
E_LAXER = "E302"
E_COMPUTE = "E303"
E_CATEGORY = "E304"
W_PLAINTEXT = "W401"
W_PLUGIN = "W209"


class ResolveStage:
    """Compute the effective configuration of the product in the chosen environment."""

    name = "resolve"

    def run(self, ctx: CompileContext) -> None:
        """Fill ``ctx.resolved``; raise with every override, lock or plugin problem."""
        problems: list[Diagnostic] = []
        raw_plugins = _merged_plugins(ctx, problems)
        findings = [f for doc in (ctx.manifest_doc, ctx.spec_doc) if doc for f in _findings_in(doc)]
        plugins: dict[str, tuple[str, str, dict[str, Any]]] = {}
        instances: dict[str, Plugin] = {}
        for category, (ptype_name, version, config) in raw_plugins.items():
            clean = scrub(config, ("plugins", category, "config"))
            try:
                plugin = ctx.registry.create(
                    PluginType(category),
                    ptype_name,
                    clean,
                    _mloc(ctx, *_plugin_path(ctx, category)),
                    _config_locator(ctx, category),
                )
            except FloeError as exc:
                problems += exc.diagnostics
                continue
            instances[category] = plugin
            plugins[category] = (ptype_name, version or plugin.version, clean)
            ctx.warnings += _notices(ctx, category, plugin)
        governance = _governance(ctx, problems)
        compute = _compute(ctx, problems)
        computes = other_computes(ctx, compute, problems)
        problems += engine_problems(ctx, compute)
        if "quality" in instances or "quality" not in raw_plugins:
            problems += quality_problems(ctx, _quality(instances))
        problems += unsupported_sources(ctx, instances.get("ingestion"))
        if problems:
            _log_refused_overrides(ctx, problems)
            raise InputError(problems)
        ctx.resolved = Resolved(
            plugins=plugins,
            instances=instances,
            governance=governance,
            compute_by_model=compute,
            schedule=_schedule(ctx, instances),
            secret_findings=findings,
            computes=computes,
        )


def _quality(instances: dict[str, Plugin]) -> QualityPlugin[Any] | None:
    plugin = instances.get("quality")
    return plugin if isinstance(plugin, QualityPlugin) else None


def _notices(ctx: CompileContext, category: str, plugin: Plugin) -> list[Diagnostic]:
    """A plugin's warnings about its (valid) config, located in manifest.yaml."""
    locate = _config_locator(ctx, category)
    return [
        Diagnostic(
            W_PLUGIN,
            n.message,
            locate(n.config_path),
            ".".join(["plugins", category, "config", *(str(p) for p in n.config_path)]),
            n.hint,
            severity="warning",
        )
        for n in plugin.notices()
    ]


def _log_refused_overrides(ctx: CompileContext, problems: list[Diagnostic]) -> None:
    """FR-067: a product reaching past the platform's locks or governance floor is an event."""
    refused = sorted({d.field_path for d in problems if d.code in (E_LOCKED, E_LAXER, E_COMPUTE)})
    if refused:
        events.security_event(events.OVERRIDE_REFUSED, product=ctx.need_spec().metadata.name,
                              fields=refused)  # fmt: skip


def _plugin_path(ctx: CompileContext, category: str) -> tuple[str, ...]:
    """Where the manifest configures the plugin: ``plugins.<category>``, or
    ``compute_configs.<type>`` for a compute the product chose over the manifest's."""
    chosen, manifest = ctx.need_spec().compute, ctx.need_manifest()
    if category == "compute" and chosen and chosen != manifest.plugins.compute.type:
        return ("compute_configs", chosen)
    return ("plugins", category)


def _config_locator(
    ctx: CompileContext, category: str
) -> Callable[[tuple[str | int, ...]], Location]:
    prefix = _plugin_path(ctx, category)
    inner = ("config",) if prefix[0] == "plugins" else ()

    def locate(loc: tuple[str | int, ...]) -> Location:
        return _mloc(ctx, *prefix, *inner, *loc)

    return locate


def _mloc(ctx: CompileContext, *path: str | int) -> Location:
    assert ctx.manifest_doc is not None
    return ctx.manifest_doc.location(path)


def _sloc(ctx: CompileContext, *path: str | int, key: bool = False) -> Location:
    assert ctx.spec_doc is not None
    return ctx.spec_doc.location(path, key=key)


def _locked(locks: list[str], path: str) -> str | None:
    for lock in locks:
        if path == lock or path.startswith(lock + ".") or lock.startswith(path + "."):
            return lock
    return None


def _merged_plugins(
    ctx: CompileContext, problems: list[Diagnostic]
) -> dict[str, tuple[str, str | None, dict[str, Any]]]:
    manifest, spec = ctx.need_manifest(), ctx.need_spec()
    out: dict[str, tuple[str, str | None, dict[str, Any]]] = {}
    for category in PLUGIN_CATEGORIES:
        ref = getattr(manifest.plugins, category)
        if ref is not None:
            out[category] = (ref.type, ref.version, dict(ref.config))
    chosen = spec.compute
    if chosen is not None and chosen != manifest.plugins.compute.type:  # approved: _compute
        out["compute"] = (chosen, None, dict(manifest.compute_configs.get(chosen, {})))
    for category, override in (spec.plugins or {}).items():
        where = _sloc(ctx, "plugins", category, key=True)
        if category not in PLUGIN_CATEGORIES:
            problems.append(
                Diagnostic(
                    E_CATEGORY,
                    f"unknown plugin category '{category}'",
                    where,
                    f"plugins.{category}",
                    f"categories: {', '.join(PLUGIN_CATEGORIES)}",
                )
            )
            continue
        touched = [f"plugins.{category}.config.{k}" for k in override.config]
        if override.type is not None:
            touched.append(f"plugins.{category}.type")
        for path in touched:
            lock = _locked(manifest.locked, path)
            if lock:
                problems.append(
                    Diagnostic(
                        E_LOCKED,
                        f"the platform locks '{lock}'; a product cannot override it",
                        where,
                        path,
                        "ask the platform team to change manifest.yaml instead",
                    )
                )
        base_type, base_version, base_config = out.get(category, ("", None, {}))
        out[category] = (
            override.type or base_type,
            override.version or base_version,
            {**base_config, **override.config},
        )
    return out


def _findings_in(doc: YamlDocument) -> list[Diagnostic]:
    out = []
    for path, reason in find_plaintext(doc.data):
        name = reference_name(path)
        out.append(
            Diagnostic(
                W_PLAINTEXT,
                f"plaintext secret: {reason}; "
                f"floe replaced it by {{secret: {name}}} in the artifacts",
                doc.location(path),
                ".".join(str(p) for p in path),
                f"write '{{secret: {name}}}' here and provide {name} at run time "
                "(environment variable with the 'env' secrets plugin)",
                severity="warning",
            )
        )
    return out


def _governance(ctx: CompileContext, problems: list[Diagnostic]) -> Governance:
    base = ctx.need_manifest().governance
    override: GovernanceOverride | None = ctx.need_spec().governance
    if override is None:
        return base
    level = base.policy_enforcement_level
    if override.policy_enforcement_level is not None:
        if LEVEL_ORDER[override.policy_enforcement_level] < LEVEL_ORDER[level]:
            problems.append(
                Diagnostic(
                    E_LAXER,
                    f"policy_enforcement_level '{override.policy_enforcement_level}' is laxer than "
                    f"the platform's '{level}'",
                    _sloc(ctx, "governance", "policy_enforcement_level"),
                    "governance.policy_enforcement_level",
                    "a product may only make governance stricter",
                )
            )
        else:
            level = override.policy_enforcement_level
    gates = base.quality_gates
    qg = override.quality_gates
    updates: dict[str, Any] = {}
    if qg is not None:
        if qg.minimum_test_coverage is not None:
            if qg.minimum_test_coverage < gates.minimum_test_coverage:
                problems.append(
                    Diagnostic(
                        E_LAXER,
                        f"minimum_test_coverage {qg.minimum_test_coverage:g} is below "
                        f"the platform's {gates.minimum_test_coverage:g}",
                        _sloc(ctx, "governance", "quality_gates", "minimum_test_coverage"),
                        "governance.quality_gates.minimum_test_coverage",
                        "a product may only raise the coverage gate",
                    )
                )
            else:
                updates["minimum_test_coverage"] = qg.minimum_test_coverage
        tiers = _tier_coverage(ctx, gates, qg.tier_test_coverage, problems)
        if tiers != gates.tier_test_coverage:
            updates["tier_test_coverage"] = tiers
        for flag in ("require_descriptions", "block_on_failure"):
            value = getattr(qg, flag)
            if value is False and getattr(gates, flag):
                problems.append(
                    Diagnostic(
                        E_LAXER,
                        f"{flag} cannot be turned off by a product",
                        _sloc(ctx, "governance", "quality_gates", flag),
                        f"governance.quality_gates.{flag}",
                        "a product may only make governance stricter",
                    )
                )
            elif value:
                updates[flag] = True
    return base.model_copy(
        update={
            "policy_enforcement_level": level,
            "quality_gates": gates.model_copy(update=updates),
        }
    )


def _tier_coverage(
    ctx: CompileContext,
    gates: QualityGates,
    wanted: Mapping[Tier, float],
    problems: list[Diagnostic],
) -> dict[Tier, float]:
    """Per-tier coverage of the platform, raised (never lowered) by the product."""
    out: dict[Tier, float] = dict(gates.tier_test_coverage)
    for tier, value in sorted(wanted.items()):
        floor = gates.tier_test_coverage.get(tier, gates.minimum_test_coverage)
        if value < floor:
            problems.append(
                Diagnostic(
                    E_LAXER,
                    f"tier_test_coverage.{tier} {value:g} is below the platform's {floor:g}",
                    _sloc(ctx, "governance", "quality_gates", "tier_test_coverage", tier),
                    f"governance.quality_gates.tier_test_coverage.{tier}",
                    "a product may only raise the coverage gate",
                )
            )
        else:
            out[tier] = value
    return out


def _compute(ctx: CompileContext, problems: list[Diagnostic]) -> dict[str, str]:
    """The compute of each transform: its own, else the product's (floe.yaml ``compute``), else
    the manifest's; approved by the manifest. Engines may be mixed in one product (one dbt
    target per engine, run in waves: :mod:`floe.compile.engines` checks what a wave split
    breaks)."""
    manifest, spec = ctx.need_manifest(), ctx.need_spec()
    approved = manifest.compute_types()
    product = spec.compute or manifest.plugins.compute.type
    if product not in approved:
        problems.append(
            Diagnostic(
                E_COMPUTE,
                f"compute '{product}' is not approved by the platform "
                f"(approved: {', '.join(approved)})",
                _sloc(ctx, "compute"),
                "compute",
                "use an approved compute or ask the platform team to approve it",
            )
        )
    out: dict[str, str] = {}
    for i, t in enumerate(spec.transforms):
        chosen = t.compute or product
        if t.compute is not None and chosen not in approved:
            problems.append(
                Diagnostic(
                    E_COMPUTE,
                    f"compute '{chosen}' is not approved by the platform "
                    f"(approved: {', '.join(approved)})",
                    _sloc(ctx, "transforms", i, "compute"),
                    f"transforms[{i}].compute",
                    "use an approved compute or ask the platform team to approve it",
                )
            )
        out[t.name] = chosen
    return out


def _schedule(ctx: CompileContext, instances: dict[str, Plugin]) -> tuple[str, str, bool]:
    spec = ctx.need_spec()
    if spec.schedule is not None:
        return spec.schedule.cron, spec.schedule.timezone, spec.schedule.enabled
    orchestrator = instances.get("orchestrator")
    default = getattr(orchestrator, "default_schedule", None)
    cron = default() if callable(default) else "*/10 * * * *"
    return str(cron), "UTC", True
