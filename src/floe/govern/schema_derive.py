"""Derive each model's output columns and types from its SQL (sqlglot) — no database, no dbt.

Seeds: the CSV header, typed by ``column_types``. Models with an enforced dbt contract: the
declared columns and ``data_type``. Other models: the SQL, its Jinja reduced to plain SQL
(``ref()``/``source()``/``this`` become names, ``is_incremental()`` blocks take the full-refresh
branch), qualified with the upstream schemas. A column's type is trusted only where the SQL
fixes it (a passed-through column or a CAST); computed expressions keep an unknown type, so the
gate never guesses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from floe.compile.dbt_project import DbtModel, DbtProject
from floe.govern.schema_types import canonical

#: ``[(column, canonical type or None)]`` per table; None when the columns cannot be derived.
Columns = list[tuple[str, str | None]]

_CONFIG = re.compile(r"\{\{-?\s*config\s*\(.*?\)\s*-?\}\}", re.DOTALL)
_REF = re.compile(r"""\{\{-?\s*ref\(\s*['"][^'"]+['"]\s*,\s*['"]([^'"]+)['"]\s*\)\s*-?\}\}""")
_REF1 = re.compile(r"""\{\{-?\s*ref\(\s*['"]([^'"]+)['"]\s*\)\s*-?\}\}""")
_SOURCE = re.compile(r"""\{\{-?\s*source\(\s*['"][^'"]+['"]\s*,\s*['"]([^'"]+)['"]\s*\)\s*-?\}\}""")
_THIS = re.compile(r"\{\{-?\s*this\s*-?\}\}")
_INCREMENTAL = re.compile(
    r"\{%-?\s*if\s+is_incremental\(\)\s*-?%\}(.*?)"
    r"(?:\{%-?\s*else\s*-?%\}(.*?))?\{%-?\s*endif\s*-?%\}",
    re.DOTALL,
)
_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)
_AUTO_ALIAS = re.compile(r"^_col_\d+$")
_TO_DUCKDB = {
    "long": "BIGINT", "int": "INT", "string": "VARCHAR", "double": "DOUBLE", "float": "FLOAT",
    "boolean": "BOOLEAN", "date": "DATE", "time": "TIME", "timestamp": "TIMESTAMP",
    "timestamptz": "TIMESTAMPTZ", "binary": "BLOB", "uuid": "UUID",
}  # fmt: skip


def plain_sql(model: DbtModel) -> str | None:
    """The model's SQL without Jinja, or None when it uses Jinja this reader does not know."""
    sql = _COMMENT.sub("", model.sql)
    sql = _CONFIG.sub("", sql)
    sql = _INCREMENTAL.sub(lambda m: m.group(2) or "", sql)
    for pattern in (_REF, _REF1, _SOURCE):
        sql = pattern.sub(lambda m: m.group(1), sql)
    sql = _THIS.sub(model.name, sql)
    return None if "{{" in sql or "{%" in sql else sql


def _duckdb_type(canonical_type: str | None) -> str:
    if canonical_type is None:
        return "UNKNOWN"
    if canonical_type.startswith("decimal"):
        return canonical_type.upper()
    return _TO_DUCKDB.get(canonical_type, "UNKNOWN")


def _projection_columns(sql: str, schema: dict[str, object]) -> Columns | None:
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError
    from sqlglot.optimizer.annotate_types import annotate_types
    from sqlglot.optimizer.qualify import qualify

    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
        tree = annotate_types(qualify(tree, schema=schema, dialect="duckdb"), schema=schema)
    except (SqlglotError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None  # SQL this reader cannot follow: the table is reported as not derived
    if not isinstance(tree, exp.Query):
        return None
    out: Columns = []
    for select in tree.selects:
        name = select.alias_or_name
        if not name or name == "*" or _AUTO_ALIAS.match(name):
            return None  # an unnamed expression: DuckDB names it by its text, unknowable here
        trusted = isinstance(select.unalias(), exp.Column | exp.Cast | exp.TryCast)
        dtype = select.type.sql("duckdb") if trusted and select.type is not None else None
        out.append((name, canonical(dtype)))
    return out


def _seed_columns(project: DbtProject, name: str, live: Sequence[tuple[str, str]]) -> Columns:
    seed = project.seeds[name]
    live_types = {c: canonical(t) for c, t in live}
    return [
        (col, canonical(seed.column_types.get(col)) or live_types.get(col)) for col in seed.header
    ]


def _model_columns(model: DbtModel, known: Mapping[str, Columns | None]) -> Columns | None:
    declared = [(c.name, canonical(c.data_type)) for c in model.columns]
    if model.contract_enforced and declared and all(t for _, t in declared):
        return declared
    sql = plain_sql(model)
    if sql is None:
        return None
    schema: dict[str, object] = {}
    for ref in model.refs:
        cols = known.get(ref)
        if cols is None:
            return None
        schema[ref] = {c: _duckdb_type(t) for c, t in cols}
    return _projection_columns(sql, schema)


def derive_columns(
    project: DbtProject, models: Sequence[str], live: Mapping[str, Sequence[tuple[str, str]]]
) -> dict[str, Columns | None]:
    """Output columns of every seed and of ``models`` (upstream first); a table that cannot
    be derived falls back to its live columns as input for its dependants."""
    known: dict[str, Columns | None] = {
        name: _seed_columns(project, name, live.get(name, ())) for name in project.seeds
    }
    derived: dict[str, Columns | None] = dict(known)
    pending = [m for m in models if m in project.models]
    while pending:
        ready = [m for m in pending if all(r in known for r in project.models[m].refs)]
        if not ready:  # refs to something outside the project: cannot be derived
            derived.update(dict.fromkeys(pending))
            break
        for name in ready:
            cols = _model_columns(project.models[name], known)
            derived[name] = cols
            fallback = [(c, canonical(t)) for c, t in live.get(name, ())] or None
            known[name] = cols if cols is not None else fallback
            pending.remove(name)
    return derived


def as_plain(data: Any) -> dict[str, list[tuple[str, str]]]:
    """A live schema from JSON-ish data (lists of pairs), sorted: the deterministic input."""
    return {str(table): [(str(c), str(t)) for c, t in cols] for table, cols in sorted(data.items())}
