"""Column-level lineage of a model from its compiled SQL (sqlglot)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

LOG = logging.getLogger("floe.observe")

#: output column → [(upstream relation name, upstream column)]
ColumnSources = dict[str, list[tuple[str, str]]]


def _schema(sql: str, known: Mapping[str, list[str]]) -> dict[str, Any]:
    """A sqlglot schema for the relations ``sql`` reads, from the columns we know of."""
    import sqlglot
    from sqlglot import exp

    schema: dict[str, Any] = {}
    for table in sqlglot.parse_one(sql, dialect="duckdb").find_all(exp.Table):
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
    from sqlglot import exp
    from sqlglot.errors import SqlglotError
    from sqlglot.lineage import lineage

    try:
        schema = _schema(sql, known)
    except SqlglotError as exc:
        LOG.debug("no column lineage: %s", exc)
        return {}
    try:
        nodes = lineage(None, sql, schema=schema, dialect="duckdb")  # all columns, one parse
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
