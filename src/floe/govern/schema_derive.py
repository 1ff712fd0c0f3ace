"""Derive each model's output columns and types from its SQL (sqlglot) — no database, no dbt.

Seeds: the CSV header, typed by ``column_types``. Models with an enforced dbt contract: the
declared columns and ``data_type``. Other models: the SQL, its Jinja reduced to plain SQL
(``ref()``/``source()``/``this`` become names, ``is_incremental()`` blocks take the full-refresh
branch), qualified with the upstream schemas. A column's type is trusted only where the SQL
fixes it (a passed-through column or a CAST); computed expressions keep an unknown type, so the
gate never guesses.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from floe.govern.schema_types import canonical
from floe.spec.dbt_project import DbtModel, DbtProject

#: ``[(column, canonical type or None)]`` per table; None when the columns cannot be derived.
Columns = list[tuple[str, str | None]]


@dataclass
class DeriveCache:
    """sha256 of (plain SQL, upstream schema) → derived columns: ``previous`` as loaded from
    the last compile, ``used`` what this compile needed (and will save)."""

    previous: dict[str, Columns | None] = field(default_factory=dict)
    used: dict[str, Columns | None] = field(default_factory=dict)

    def get(self, key: str, compute: Callable[[], Columns | None]) -> Columns | None:
        """The cached columns for ``key``, computing them on a miss."""
        if key not in self.used:
            self.used[key] = self.previous[key] if key in self.previous else compute()
        return self.used[key]

    @classmethod
    def load(cls, path: Path) -> DeriveCache:
        """The cache file, or an empty cache when it is missing or unreadable."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            previous = {
                str(k): None if v is None else [(str(c), t) for c, t in v] for k, v in data.items()
            }
        except (OSError, ValueError, TypeError, AttributeError):
            previous = {}
        return cls(previous=previous)

    def save(self, path: Path) -> None:
        """Write what this compile used (nothing when it matches the file already)."""
        if self.used == self.previous:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.used, sort_keys=True), encoding="utf-8")


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
    """The model's SQL without Jinja, or None when it uses Jinja this reader does not know
    (or is a Python model)."""
    if model.language != "sql":
        return None
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


def _model_columns(
    model: DbtModel, known: Mapping[str, Columns | None], cache: DeriveCache
) -> Columns | None:
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
    key = hashlib.sha256(json.dumps([sql, schema], sort_keys=True).encode()).hexdigest()
    return cache.get(key, lambda: _projection_columns(sql, schema))


def derive_columns(
    project: DbtProject,
    models: Sequence[str],
    live: Mapping[str, Sequence[tuple[str, str]]],
    cache: DeriveCache | None = None,
) -> dict[str, Columns | None]:
    """Output columns of every seed and of ``models`` (upstream first); a table that cannot
    be derived falls back to its live columns as input for its dependants. ``cache`` (SQL and
    upstream schema hash → columns) spares re-parsing unchanged models."""
    cache = DeriveCache() if cache is None else cache
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
            cols = _model_columns(project.models[name], known, cache)
            derived[name] = cols
            fallback = [(c, canonical(t)) for c, t in live.get(name, ())] or None
            known[name] = cols if cols is not None else fallback
            pending.remove(name)
    return derived
