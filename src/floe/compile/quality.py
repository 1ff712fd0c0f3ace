"""The quality checks a product declares (floe.yaml ``quality.expectations``), checked against
its models and the chosen quality plugin (RESOLVE) and written into the artifacts (COMPILE)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from floe.compile.context import CompileContext
from floe.errors import Diagnostic, Location
from floe.plugins.abcs import QualityPlugin
from floe.spec.artifacts import QualityCheckArtifact

E_NO_CHECKS = "E650"
E_UNKNOWN_MODEL = "E651"
E_UNKNOWN_CHECK = "E652"


@dataclass(frozen=True)
class Declared:
    """One declared check: the model, its type and arguments, where it is written."""

    model: str
    type: str
    kwargs: dict[str, Any]
    path: tuple[str | int, ...]
    location: Location


def declared(ctx: CompileContext) -> list[Declared]:
    """Every expectation of floe.yaml, in file order."""
    spec, doc = ctx.need_spec(), ctx.spec_doc
    assert doc is not None
    out = []
    for model, items in spec.quality.expectations.items():
        for i, item in enumerate(items):
            ((kind, kwargs),) = item.items()
            path = ("quality", "expectations", model, i, kind)
            out.append(Declared(model, kind, dict(kwargs), path, doc.location(path, key=True)))
    return out


def quality_problems(ctx: CompileContext, plugin: QualityPlugin[Any] | None) -> list[Diagnostic]:
    """Declared checks naming no model of the product, or a type the plugin does not
    provide; checks declared while the platform's quality plugin takes none."""
    checks = declared(ctx)
    if not checks:
        return []
    spec, doc = ctx.need_spec(), ctx.spec_doc
    assert doc is not None
    models = [t.name for t in spec.transforms]
    names = plugin.check_names() if plugin is not None else []
    out: list[Diagnostic] = []
    for model in spec.quality.expectations:
        if model not in models:
            out.append(Diagnostic(
                E_UNKNOWN_MODEL,
                f"quality.expectations names '{model}', which is not a transform of this product",
                doc.location(("quality", "expectations", model), key=True),
                f"quality.expectations.{model}",
                _close(model, models, "transforms"),
            ))  # fmt: skip
    if not names:
        chosen = plugin.name if plugin is not None else "dbt"
        first = checks[0]
        return [*out, Diagnostic(
            E_NO_CHECKS,
            f"floe.yaml declares expectations but the platform's quality plugin '{chosen}' "
            "validates none (dbt tests only)",
            doc.location(("quality", "expectations"), key=True),
            f"quality.expectations.{first.model}",
            "ask the platform team for 'plugins: {quality: {type: great_expectations}}' in "
            "manifest.yaml, or write the checks as dbt tests",
        )]  # fmt: skip
    for check in checks:
        if check.type not in names:
            out.append(Diagnostic(
                E_UNKNOWN_CHECK,
                f"unknown expectation type '{check.type}' (quality plugin '{plugin.name}')"
                if plugin is not None else f"unknown expectation type '{check.type}'",
                check.location,
                ".".join(str(p) for p in check.path[:-1]),
                _close(check.type, names, "expectation types"),
            ))  # fmt: skip
    return out


def _close(name: str, options: list[str], what: str) -> str:
    close = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    shown = ", ".join(sorted(options)[:8]) + (", …" if len(options) > 8 else "")
    return f"{what}: {shown}"


def quality_artifacts(ctx: CompileContext) -> dict[str, list[QualityCheckArtifact]]:
    """model → its checks, for the artifacts (locations relative to the product)."""
    out: dict[str, list[QualityCheckArtifact]] = {}
    for check in declared(ctx):
        where = check.location
        rel = f"{Path(where.file).name}:{where.line}:{where.col}"
        art = QualityCheckArtifact(type=check.type, kwargs=check.kwargs, where=rel)
        out.setdefault(check.model, []).append(art)
    return dict(sorted(out.items()))
