"""Column-level lineage of a model from its compiled SQL (sqlglot)."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

LOG = logging.getLogger("floe.observe")

#: output column → [(upstream relation name, upstream column)]
ColumnSources = dict[str, list[tuple[str, str]]]


def _schema(tree: Any, known: Mapping[str, list[str]]) -> dict[str, Any]:
    """A sqlglot schema for the relations ``tree`` reads, from the columns we know of."""
    from sqlglot import exp

    schema: dict[str, Any] = {}
    for table in tree.find_all(exp.Table):
        cols = known.get(table.name)
        if not cols:
            continue
        level: dict[str, Any] = schema
        for part in (table.catalog, table.db):
            if part:
                nxt = level.setdefault(part, {})
                assert isinstance(nxt, dict)
                level = nxt
        level[table.name] = dict.fromkeys(cols, "unknown")
    return schema


def column_sources(sql: str, outputs: list[str], known: Mapping[str, list[str]]) -> ColumnSources:
    """For each output column, the upstream columns it is computed from (best effort: a column
    sqlglot cannot resolve is left out)."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError
    from sqlglot.lineage import lineage

    try:
        tree = sqlglot.parse_one(sql, dialect="duckdb")
        schema = _schema(tree, known)
        nodes = lineage(None, tree, schema=schema, dialect="duckdb", copy=False)  # all columns
    except (SqlglotError, KeyError, ValueError) as exc:
        LOG.debug("no column lineage: %s", exc)
        return {}
    out: ColumnSources = {}
    for column in outputs:
        node = nodes.get(column)
        if node is None:
            continue
        sources = {
            (leaf.expression.name, leaf.name.rsplit(".", 1)[-1])
            for leaf in node.walk()
            if not leaf.downstream and isinstance(leaf.expression, exp.Table)
        }
        if sources:
            out[column] = sorted(sources)
    return out


def cached_column_sources(
    cache_dir: Path | None, sql: str, outputs: list[str], known: Mapping[str, list[str]]
) -> ColumnSources:
    """:func:`column_sources`, remembered per SQL and schema in ``cache_dir`` (the compiled
    SQL of a model rarely changes between runs; sqlglot's analysis is the costly part)."""
    if cache_dir is None:
        return column_sources(sql, outputs, known)
    key = json.dumps([sql, outputs, sorted((k, list(v)) for k, v in known.items())])
    path = cache_dir / f"{hashlib.sha256(key.encode()).hexdigest()}.json"
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        return {col: [(t, f) for t, f in refs] for col, refs in cached.items()}
    except (OSError, ValueError):
        pass
    result = column_sources(sql, outputs, known)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result), encoding="utf-8")
    except OSError as exc:
        LOG.debug("column lineage not cached: %s", exc)
    return result
