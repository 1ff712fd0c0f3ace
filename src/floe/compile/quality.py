"""The quality checks a product declares — floe.yaml ``quality.expectations.<model>`` and
``<model>.expectations.yml`` beside a model's .sql — checked against its models and the chosen
quality plugin (RESOLVE) and written into the artifacts (COMPILE)."""

from __future__ import annotations

import difflib
from typing import Any, NamedTuple

from pydantic import ValidationError

from floe.compile.context import CompileContext
from floe.errors import Diagnostic, FloeError, Location
from floe.plugins.abcs import QualityPlugin
from floe.spec.artifacts import QualityCheckArtifact
from floe.spec.base import diagnostics_from
from floe.spec.floe_spec import ExpectationsFile
from floe.spec.yamlload import load_yaml

E_NO_CHECKS = "E650"
E_UNKNOWN_MODEL = "E651"
E_UNKNOWN_CHECK = "E652"
#: E653 (expectations on Spark compute) is retired: the Spark runner validates them on the
#: audit branch (floe.runtime.spark.quality).


class Declared(NamedTuple):
    """One declared check: the model, its type and arguments, where it is written."""

    model: str
    type: str
    kwargs: dict[str, Any]
    path: tuple[str | int, ...]
    location: Location


BESIDE = ".expectations.yml"


def declared(ctx: CompileContext) -> list[Declared]:
    """Every declared expectation: floe.yaml's in file order, then each model's file beside
    it (files that are no valid expectations file contribute nothing: RESOLVE reports them)."""
    return list(_read(ctx)[0])


def _read(ctx: CompileContext) -> tuple[list[Declared], list[Diagnostic]]:
    """The declared checks and the problems of the expectations files (read once)."""
    if ctx.declared_checks is None:
        beside, problems = _beside_models(ctx)
        ctx.declared_checks = ([*_in_spec(ctx), *beside], problems)
    checks, problems = ctx.declared_checks
    return checks, problems


def _in_spec(ctx: CompileContext) -> list[Declared]:
    spec, doc = ctx.need_spec(), ctx.spec_doc
    assert doc is not None
    out = []
    for model, items in spec.quality.expectations.items():
        for i, item in enumerate(items):
            ((kind, kwargs),) = item.items()
            path = ("quality", "expectations", model, i, kind)
            out.append(Declared(model, kind, dict(kwargs), path, doc.location(path, key=True)))
    return out


def _beside_models(ctx: CompileContext) -> tuple[list[Declared], list[Diagnostic]]:
    """``<model>.expectations.yml`` beside each transform's model file."""
    project = ctx.need_project()
    out: list[Declared] = []
    problems: list[Diagnostic] = []
    for transform in ctx.need_spec().transforms:
        model = project.models.get(transform.name)
        if model is None:
            continue
        sql = project.root / model.path
        path = sql.with_name(sql.stem + BESIDE)
        if not path.is_file():
            continue
        try:
            doc = load_yaml(path, what=f"expectations file of '{transform.name}'")
            parsed = ExpectationsFile.model_validate(doc.data)
        except FloeError as exc:
            problems += exc.diagnostics
            continue
        except ValidationError as exc:
            problems += diagnostics_from(exc, doc, ExpectationsFile)
            continue
        for i, item in enumerate(parsed.expectations):
            ((kind, kwargs),) = item.items()
            where = ("expectations", i, kind)
            out.append(Declared(transform.name, kind, dict(kwargs), where,
                                doc.location(where, key=True)))  # fmt: skip
    return out, problems


def quality_problems(ctx: CompileContext, plugin: QualityPlugin[Any] | None) -> list[Diagnostic]:
    """Declared checks naming no model of the product, or a type the plugin does not
    provide; checks declared while the platform's quality plugin takes none."""
    checks, out = _read(ctx)
    if not checks:
        return out
    spec, doc = ctx.need_spec(), ctx.spec_doc
    assert doc is not None
    models = [t.name for t in spec.transforms]
    names = plugin.check_names() if plugin is not None else []
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
            first.location,
            _field(first),
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
                _field(check),
                _close(check.type, names, "expectation types"),
            ))  # fmt: skip
    return out


def _field(check: Declared) -> str:
    """The field path of a check's entry (without its type key)."""
    return ".".join(str(p) for p in check.path[:-1])


def _close(name: str, options: list[str], what: str) -> str:
    close = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    shown = ", ".join(sorted(options)[:8]) + (", …" if len(options) > 8 else "")
    return f"{what}: {shown}"


def quality_artifacts(ctx: CompileContext) -> dict[str, list[QualityCheckArtifact]]:
    """model → its checks, for the artifacts (locations relative to the product)."""
    out: dict[str, list[QualityCheckArtifact]] = {}
    root = ctx.need_project().root
    for check in declared(ctx):
        where = check.location.portable(root)
        art = QualityCheckArtifact(type=check.type, kwargs=check.kwargs, where=where)
        out.setdefault(check.model, []).append(art)
    return dict(sorted(out.items()))
