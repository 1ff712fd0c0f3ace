"""Policies beyond naming/coverage/docs: key tests, SELECT * in gold, approved plugin types."""

from __future__ import annotations

import re

from floe.errors import Location
from floe.govern.finding import Finding, PolicyInput
from floe.spec.dbt_project import DbtModel, DbtTest

_COMMENTS = re.compile(r"\{#.*?#\}|/\*.*?\*/|--[^\n]*", re.DOTALL)
_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
_KEYWORD = re.compile(r"\b(select|from)\b", re.IGNORECASE)
_STAR = re.compile(
    r"(?:\bselect\s+(?:distinct\s+)?|,\s*)(?:[A-Za-z_][\w]*\s*\.\s*)?\*(?![\w*])", re.IGNORECASE
)


def _base(test: DbtTest) -> str:
    return test.name.rsplit(".", 1)[-1]


def _column_tests(model: DbtModel, column: str) -> set[str]:
    return {_base(t) for c in model.columns if c.name == column for t in c.tests}


def _missing_key_tests(model: DbtModel) -> list[str]:
    """What the model's unique_key lacks: not_null per column, uniqueness of the key."""
    keys = list(model.unique_key)
    missing = [f"not_null on {k}" for k in keys if "not_null" not in _column_tests(model, k)]
    model_level = {_base(t) for t in model.tests}
    unique = any("unique" in name for name in model_level)
    if len(keys) == 1:
        unique = unique or "unique" in _column_tests(model, keys[0])
    if not unique:
        what = keys[0] if len(keys) == 1 else f"({', '.join(keys)})"
        missing.append(f"a uniqueness test on {what}")
    return missing


def key_tests(inp: PolicyInput) -> list[Finding]:
    """A model's key (dbt ``unique_key``) is tested not_null and unique; incremental models
    declare a key."""
    out = []
    for _, model in inp.transform_models():
        where = inp.model_location(model)
        if not model.unique_key:
            if model.materialization == "incremental":
                out.append(
                    Finding(
                        "P423",
                        "key_tests",
                        f"incremental model '{model.name}' declares no unique_key",
                        where,
                        "set config(unique_key=...) so runs merge rows instead of replacing them",
                        model.name,
                        quality_gate=True,
                    )
                )
            continue
        missing = _missing_key_tests(model)
        if missing:
            key = ", ".join(model.unique_key)
            out.append(
                Finding(
                    "P422",
                    "key_tests",
                    f"model '{model.name}' has key ({key}) without {' and '.join(missing)}",
                    where,
                    "add data_tests: [not_null, unique] to the key column in schema.yml "
                    "(dbt_utils.unique_combination_of_columns for a composite key)",
                    model.name,
                    quality_gate=True,
                )
            )
    return out


def _depth_map(text: str) -> list[int]:
    depth, out = 0, []
    for ch in text:
        if ch == ")":
            depth = max(depth - 1, 0)
        out.append(depth)
        if ch == "(":
            depth += 1
    return out


def star_position(sql: str) -> tuple[int, int] | None:
    """1-based (line, column) of a ``*`` in the outermost projection (``select *``, ``t.*``).

    Import CTEs (``with x as (select * from {{ ref('x') }})``) are fine: only what the model
    finally returns counts.
    """
    blanked = _COMMENTS.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), sql)
    blanked = _JINJA.sub(lambda m: "_" * len(m.group(0)), blanked)
    depth = _depth_map(blanked)
    for match in _STAR.finditer(blanked):
        star = blanked.index("*", match.start())
        if depth[star] != 0 or not _in_projection(blanked, depth, star):
            continue
        line = blanked.count("\n", 0, star) + 1
        return line, star - (blanked.rfind("\n", 0, star) + 1) + 1
    return None


def _in_projection(text: str, depth: list[int], pos: int) -> bool:
    """Whether ``pos`` lies between a top-level SELECT and its FROM."""
    words = [
        (m.start(), m.group(0).lower())
        for m in _KEYWORD.finditer(text, 0, pos)
        if depth[m.start()] == 0
    ]
    return bool(words) and words[-1][1] == "select"


def select_star(inp: PolicyInput) -> list[Finding]:
    """Gold models name their columns: ``SELECT *`` lets upstream changes leak into a mart."""
    out = []
    for tier, model in inp.transform_models():
        if tier != "gold":
            continue
        pos = star_position(model.sql)
        if pos is None:
            continue
        out.append(
            Finding(
                "P460",
                "select_star",
                f"gold model '{model.name}' selects * (its columns change whenever upstream does)",
                Location(str(inp.project.root / model.path), *pos),
                "list the columns the mart publishes explicitly",
                model.name,
            )
        )
    return out


def approved_plugins(inp: PolicyInput) -> list[Finding]:
    """A product may only switch a plugin to a type the platform approves."""
    manifest = inp.manifest
    if manifest is None or not inp.spec.plugins:
        return []
    out = []
    for category, override in inp.spec.plugins.items():
        if override.type is None:
            continue
        chosen = getattr(manifest.plugins, category, None)
        approved = manifest.approved_plugins.get(category) or (
            [chosen.type] if chosen is not None else []
        )
        if approved and override.type not in approved:
            out.append(
                Finding(
                    "P450",
                    "approved_plugins",
                    f"{category} plugin '{override.type}' is not approved by the platform "
                    f"(approved: {', '.join(approved)})",
                    inp.spec_doc.location(("plugins", category, "type")),
                    f"use one of: {', '.join(approved)}, or ask the platform team to add "
                    f"it to approved_plugins.{category}",
                )
            )
    return out
