"""dbt's manifest as floe reads it: every relation exactly as dbt names it.

dbt is the specification of what a project builds: the manifest of ``dbt parse`` gives each
seed, model and snapshot its database, schema and identifier (custom ``schema``, the project's
``generate_schema_name``, ``alias``), its materialization and its config. floe never guesses
a relation name; it reads them here.

How a dbt relation maps into Iceberg (docs/runtime.md): every published node of a product is
the table ``<product namespace>.<identifier>`` — the dbt schema is where the node lives in the
scratch DuckDB, the identifier (the alias, else the name) is its Iceberg table name. Two nodes
with one identifier are an error naming both, never a silent overwrite.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from floe.errors import Diagnostic, InputError, Location

E_SAME_TABLE = "E230"
E_DATABASE = "E231"

#: resource types floe publishes to Iceberg (ephemeral models are inlined, never published)
PUBLISHED_TYPES = ("seed", "model", "snapshot")


@dataclass(frozen=True)
class Relation:
    """A relation in the scratch DuckDB: ``"database"."schema"."identifier"``."""

    database: str
    schema: str
    identifier: str


@dataclass(frozen=True)
class DbtNode:
    """A seed, model or snapshot of the project."""

    unique_id: str
    name: str
    resource_type: str
    materialization: str
    relation: Relation | None
    path: str
    package: str
    depends_on: tuple[str, ...] = ()
    config: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def published(self) -> bool:
        """True for nodes floe publishes to Iceberg (not ephemeral)."""
        return self.relation is not None and self.materialization != "ephemeral"

    @property
    def table_name(self) -> str:
        """The Iceberg table name: dbt's identifier (alias, else name)."""
        return self.relation.identifier if self.relation else self.name

    @property
    def keeps_state(self) -> bool:
        """Incremental models and snapshots build on their published rows."""
        return self.resource_type == "snapshot" or self.materialization == "incremental"


@dataclass(frozen=True)
class DbtSource:
    """A table of a dbt ``sources:`` entry."""

    unique_id: str
    source_name: str
    name: str
    relation: Relation
    path: str
    as_of: str | None = None  # meta.floe_as_of: read the table as of that snapshot/tag/time


@dataclass(frozen=True)
class DbtGraph:
    """The nodes and sources of one dbt manifest."""

    nodes: Mapping[str, DbtNode]
    sources: Mapping[str, DbtSource]
    #: data tests: unique id → (name, the nodes it reads)
    tests: Mapping[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)

    def published(self) -> list[DbtNode]:
        """Seeds, models and snapshots floe publishes, in unique-id order."""
        return [n for _, n in sorted(self.nodes.items()) if n.published]

    def in_build_order(self, nodes: Iterable[DbtNode]) -> list[DbtNode]:
        """``nodes`` parents first (through ephemeral models too), ties by unique id."""
        wanted = {n.unique_id: n for n in nodes}
        order: list[DbtNode] = []
        state: dict[str, int] = {}

        def visit(uid: str) -> None:
            if state.get(uid):
                return
            state[uid] = 1
            for parent in sorted(self.inputs_of([uid])):
                visit(parent)
            if uid in wanted:
                order.append(wanted[uid])

        for uid in sorted(wanted):
            visit(uid)
        return order

    def inputs_of(self, unique_ids: Iterable[str]) -> set[str]:
        """Every node and source the given nodes read, through ephemeral models too."""
        todo = list(unique_ids)
        seen: set[str] = set()
        out: set[str] = set()
        while todo:
            uid = todo.pop()
            if uid in seen:
                continue
            seen.add(uid)
            node = self.nodes.get(uid)
            for parent in node.depends_on if node else ():
                out.add(parent)
                parent_node = self.nodes.get(parent)
                if parent_node is not None and parent_node.materialization == "ephemeral":
                    todo.append(parent)
        return out


def load_graph(manifest: Mapping[str, Any]) -> DbtGraph:
    """The graph of a ``manifest.json`` (as dict)."""
    nodes = {
        uid: _node(uid, raw)
        for uid, raw in manifest.get("nodes", {}).items()
        if raw.get("resource_type") in PUBLISHED_TYPES
    }
    sources = {uid: _source(uid, raw) for uid, raw in manifest.get("sources", {}).items()}
    tests = {
        uid: (str(raw.get("name", uid)), tuple(raw.get("depends_on", {}).get("nodes", ())))
        for uid, raw in manifest.get("nodes", {}).items()
        if raw.get("resource_type") == "test"
    }
    return DbtGraph(nodes, sources, tests)


def _node(uid: str, raw: Mapping[str, Any]) -> DbtNode:
    config = dict(raw.get("config") or {})
    kind = str(raw["resource_type"])
    materialization = str(config.get("materialized") or ("seed" if kind == "seed" else "table"))
    relation = None
    if materialization != "ephemeral":
        relation = Relation(
            str(raw.get("database") or ""),
            str(raw.get("schema") or "main"),
            str(raw.get("alias") or raw.get("identifier") or raw["name"]),
        )
    return DbtNode(
        unique_id=uid,
        name=str(raw["name"]),
        resource_type=kind,
        materialization=materialization,
        relation=relation,
        path=str(raw.get("original_file_path") or raw.get("path") or ""),
        package=str(raw.get("package_name") or ""),
        depends_on=tuple(raw.get("depends_on", {}).get("nodes", [])),
        config=config,
    )


def _source(uid: str, raw: Mapping[str, Any]) -> DbtSource:
    return DbtSource(
        unique_id=uid,
        source_name=str(raw["source_name"]),
        name=str(raw["name"]),
        relation=Relation(
            str(raw.get("database") or ""),
            str(raw.get("schema") or raw["source_name"]),
            str(raw.get("identifier") or raw["name"]),
        ),
        path=str(raw.get("original_file_path") or ""),
        as_of=_as_of(raw),
    )


def _as_of(raw: Mapping[str, Any]) -> str | None:
    """A source's ``meta: {floe_as_of: …}`` (dbt keeps meta in ``meta`` and ``config.meta``)."""
    meta = {**(raw.get("config") or {}).get("meta", {}), **(raw.get("meta") or {})}
    value = meta.get("floe_as_of")
    return None if value is None else str(value)


def check_graph(graph: DbtGraph, project_dir: str, scratch_database: str | None) -> None:
    """Raise InputError when two nodes would land on one Iceberg table, or (given the scratch
    database's name) a node asks for a database other than the scratch one (floe runs a
    product in one scratch database)."""
    problems: list[Diagnostic] = []
    owners: dict[str, DbtNode] = {}
    for node in graph.published():
        other = owners.setdefault(node.table_name.lower(), node)
        if other is not node:
            problems.append(
                Diagnostic(
                    E_SAME_TABLE,
                    f"{other.resource_type} '{other.name}' ({other.path}) and "
                    f"{node.resource_type} '{node.name}' ({node.path}) would both be published "
                    f"as the Iceberg table '{node.table_name}'",
                    Location(f"{project_dir}/{node.path}"),
                    "alias",
                    "give one of them another alias (or name): a product's tables share one "
                    "Iceberg namespace, whatever their dbt schema",
                )
            )
        assert node.relation is not None
        database = node.relation.database
        if scratch_database is not None and database and database != scratch_database:
            problems.append(
                Diagnostic(
                    E_DATABASE,
                    f"{node.resource_type} '{node.name}' sets database "
                    f"'{node.relation.database}'; floe builds a product in one DuckDB database",
                    Location(f"{project_dir}/{node.path}"),
                    "database",
                    "remove the database config (use schema or alias to place the table)",
                )
            )
    if problems:
        raise InputError(problems)
