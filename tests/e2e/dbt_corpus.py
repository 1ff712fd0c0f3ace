"""The dbt compatibility corpus: a plain ``dbt build`` is the reference for ``floe run``.

Each project under ``tests/data/dbt-projects/<name>/`` is an ordinary dbt project plus a
floe.yaml. :func:`reference_build` runs ``dbt build`` on a persistent DuckDB file exactly as a
dbt user would; :func:`floe_build` runs ``floe run`` on a fresh embedded platform; the
fingerprints of every seed, model and snapshot (row count and a hash of the sorted rows) must
be equal. ``round2/`` holds files that replace the project's before a second round
(incremental and snapshot behaviour across runs); ``external/<schema>/<table>.csv`` are source
tables that exist before the first run (in the reference database and in the Iceberg catalog).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from floe.runtime.dbt_exec import DbtProjectRef, run_dbt
from floe.runtime.scratch import quote_ident

CORPUS = Path(__file__).resolve().parents[1] / "data" / "dbt-projects"
EXTRA = ("round2", "external")
#: snapshot columns dbt fills with the wall clock under the ``check`` strategy
CLOCK_COLUMNS = ("dbt_scd_id", "dbt_updated_at", "dbt_valid_from", "dbt_valid_to")

MANIFEST = """\
apiVersion: floe.dev/v1
kind: Manifest
metadata: {name: corpus, version: 1.0.0, owner: corpus@example.com}
plugins:
  compute: {type: duckdb, config: {threads: 2}}
  orchestrator: {type: dagster}
  catalog: {type: sql}
  storage: {type: local}
approved_compute: [duckdb]
observability:
  tracing: {enabled: false}
  lineage: {enabled: false}
governance:
  policy_enforcement_level: "off"
"""


@dataclass(frozen=True)
class Fingerprint:
    """Row count and hash of the sorted rows of one relation."""

    rows: int
    digest: str


def projects() -> list[str]:
    """The corpus project names."""
    return sorted(p.name for p in CORPUS.iterdir() if (p / "dbt_project.yml").is_file())


def copy_project(name: str, dest: Path) -> Path:
    """The project without its round-2 and external files, at ``dest/name``."""
    out = dest / name
    shutil.copytree(CORPUS / name, out, ignore=shutil.ignore_patterns(*EXTRA, "target"))
    for sibling in ("macros_shared", "packages_local"):  # paths outside a project (../x)
        if (CORPUS / sibling).is_dir() and not (dest / sibling).exists():
            shutil.copytree(CORPUS / sibling, dest / sibling)
    return out


def overlay_round2(name: str, project: Path) -> None:
    """Copy ``round2/`` over the project."""
    shutil.copytree(CORPUS / name / "round2", project, dirs_exist_ok=True)


def externals(name: str) -> list[tuple[str, str, Path]]:
    """(schema, table, csv) of the project's external source tables."""
    root = CORPUS / name / "external"
    if not root.is_dir():
        return []
    return [(p.parent.name, p.stem, p) for p in sorted(root.glob("*/*.csv"))]


def profile_name(project: Path) -> str:
    """The ``profile:`` of dbt_project.yml."""
    import yaml

    data = yaml.safe_load((project / "dbt_project.yml").read_text())
    return str(data["profile"])


def reference_build(project: Path, database: Path, vars_: dict[str, Any]) -> dict[str, Any]:
    """``dbt deps`` (when packages.yml exists) and ``dbt build`` on ``database``; returns
    the manifest; every result must pass (``warn`` counts as passing, as in dbt)."""
    profiles = project.parent / f"{project.name}-profiles"
    profiles.mkdir(exist_ok=True)
    output = {"type": "duckdb", "path": str(database), "threads": 2}
    (profiles / "profiles.yml").write_text(
        json.dumps({profile_name(project): {"target": "dev", "outputs": {"dev": output}}})
    )
    ref = DbtProjectRef(project, profiles, "dev")
    target = project / "target"
    if (project / "packages.yml").is_file():
        run_dbt(ref, ["deps"], target)
    args = ["build"] + (["--vars", json.dumps(vars_)] if vars_ else [])
    run_dbt(ref, args, target)
    results = json.loads((target / "run_results.json").read_text())["results"]
    bad = [(r["unique_id"], r["status"]) for r in results
           if r["status"] not in ("success", "pass", "warn")]  # fmt: skip
    assert not bad, f"the reference dbt build failed: {bad}"
    manifest: dict[str, Any] = json.loads((target / "manifest.json").read_text())
    return manifest


def load_externals(name: str, database: Path) -> None:
    """Create the external source tables in the reference database."""
    con = duckdb.connect(str(database))
    try:
        for schema, table, csv in externals(name):
            con.execute(f"create schema if not exists {quote_ident(schema)}")
            con.execute(
                f"create or replace table {quote_ident(schema)}.{quote_ident(table)} as "
                f"select * from read_csv('{csv}', header = true)"
            )
    finally:
        con.close()


def publish_externals(name: str, catalog: Any) -> None:
    """Publish the external source tables to Iceberg (``<schema>.<table>``)."""
    from floe.runtime.publish import replace

    for schema, table, csv in externals(name):
        data = duckdb.sql(f"select * from read_csv('{csv}', header = true)").to_arrow_table()
        replace(catalog, f"{schema}.{table}", data, {"floe.run_id": "external"})


def published_nodes(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Seeds, non-ephemeral models and snapshots of the reference manifest by unique id."""
    out = {}
    for uid, node in manifest["nodes"].items():
        kind = node["resource_type"]
        if kind not in ("seed", "model", "snapshot"):
            continue
        if node["config"].get("materialized") == "ephemeral":
            continue
        out[uid] = node
    return out


def _select(node: dict[str, Any], relation: str) -> str:
    """The rows to hash: every column, except the wall-clock ones of ``check`` snapshots
    (replaced by whether the row is current)."""
    if node["resource_type"] == "snapshot" and node["config"].get("strategy") == "check":
        cols = ", ".join(CLOCK_COLUMNS)
        return f"select * exclude ({cols}), dbt_valid_to is null as is_current from {relation}"
    return f"select * from {relation}"


def fingerprint(con: duckdb.DuckDBPyConnection, select: str) -> Fingerprint:
    """Count and md5 of the rows (each row cast to text) in sorted order."""
    row = con.execute(
        f"select count(*), coalesce(md5(string_agg(r, chr(10) order by r)), '') "
        f"from (select cast(t as varchar) as r from ({select}) t)"
    ).fetchone()
    assert row is not None
    return Fingerprint(int(row[0]), str(row[1]))


def reference_fingerprints(manifest: dict[str, Any], database: Path) -> dict[str, Fingerprint]:
    """Fingerprint of every published node in the reference database, by node name."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        out = {}
        for node in published_nodes(manifest).values():
            relation = f"{quote_ident(node['schema'])}.{quote_ident(node['alias'])}"
            out[node["name"]] = fingerprint(con, _select(node, relation))
        return out
    finally:
        con.close()


def floe_fingerprints(
    manifest: dict[str, Any], catalog: Any, namespace: str
) -> dict[str, Fingerprint]:
    """Fingerprint of every published node's Iceberg table, by node name."""
    from floe.runtime.scratch import connect

    con = connect(Path(":memory:"))
    try:
        out = {}
        for node in published_nodes(manifest).values():
            table = catalog.load_table(f"{namespace}.{node['alias']}")
            location = str(table.metadata_location).removeprefix("file://")
            out[node["name"]] = fingerprint(con, _select(node, f"iceberg_scan('{location}')"))
        return out
    finally:
        con.close()
