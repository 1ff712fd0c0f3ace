"""Seeds on Spark loaded by floe, not by dbt-spark's per-cell ``INSERT … VALUES`` (issue 13):
the same tables as a plain ``dbt build`` on dbt-duckdb — on a platform whose sql catalog is a
real PostgreSQL 15 and whose storage is s3 (moto), both shared by Spark and PyIceberg.

``tests/data/spark-seeds/seeds`` exercises what dbt's seed loading decides: agate's inferred
types (integers, decimals as doubles, booleans, dates, timestamps with and without ``T`` and
microseconds), empty cells as nulls in every type, ``column_types`` (``bigint`` beyond 2^53,
``decimal(10,2)``, ``string`` keeping leading zeros, ``date`` from text), quoted column names
with a space and capitals, a ``;`` delimiter with ``quote_columns: false``, text with a quote,
a comma and a backslash; and one seed with a ``post-hook``, which floe leaves to dbt's own
path. One ``floe run`` on Spark (the module's only Spark run) and one ``dbt build``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import boto3
import duckdb
import psycopg
import pytest
import yaml

from floe.app.run import RunSummary, run
from floe.runtime.home import PlatformHome
from floe.runtime.platform import catalog_for_manifest
from floe.runtime.publish import replace
from tests.e2e import dbt_corpus as corpus
from tests.e2e.servers import moto_server, postgres_server
from tests.e2e.test_spark_corpus import MANIFEST

PROJECT = Path(__file__).resolve().parents[1] / "data" / "spark-seeds" / "seeds"
NAMESPACE = "spark_seeds"
REGIONS = PROJECT / "external" / "crm" / "regions.csv"
#: dbt-spark's types for readings.csv: convert_type of agate's inference, else column_types
READINGS_TYPES = [
    ("id", "long"), ("amount", "double"), ("flag", "boolean"), ("day", "date"),
    ("at", "timestamp"), ("at_iso", "timestamp"), ("label", "string"),
    ("Customer Name", "string"), ("big", "long"), ("amount_dec", "decimal(10, 2)"),
    ("code", "string"), ("since", "date"),
]  # fmt: skip


@dataclass(frozen=True)
class Built:
    """The reference dbt build and floe's Spark run of the seeds project (PostgreSQL catalog):
    fingerprints, the published tables' columns, the run's folder."""

    expected: dict[str, corpus.Fingerprint]
    got: dict[str, corpus.Fingerprint]
    summary: RunSummary
    columns: dict[str, list[tuple[str, str]]]
    runs: Path
    catalog_rows: list[tuple[str, str]]  # (namespace, table) in PostgreSQL's iceberg_tables
    s3_keys: list[str]  # the objects under the warehouse prefix in the bucket


def _manifest(uri: str, endpoint: str) -> tuple[str, str]:
    """The Spark corpus manifest on the PostgreSQL SQL catalog (the password by reference) and
    s3 storage on ``endpoint`` (the keys by reference)."""
    parts = urlsplit(uri)
    bare = uri.replace(f":{parts.password}@", "@")
    catalog = (f"  catalog:\n    type: sql\n    config:\n      uri: '{bare}'\n"
               "      password: {secret: CATALOG_DB_PASSWORD}\n")  # fmt: skip
    storage = ("  storage:\n    type: s3\n    config:\n      bucket: lake\n      prefix: wh\n"
               f"      endpoint: {endpoint}\n      path_style_access: true\n"
               "      access_key_id: {secret: SEEDS_S3_KEY}\n"
               "      secret_access_key: {secret: SEEDS_S3_SECRET}\n")  # fmt: skip
    assert "  catalog: {type: sql}\n" in MANIFEST
    assert "  storage: {type: local}\n" in MANIFEST
    text = MANIFEST.replace("  catalog: {type: sql}\n", catalog)
    return text.replace("  storage: {type: local}\n", storage), unquote(parts.password or "")


def _fingerprints(manifest: dict[str, Any], catalog: Any) -> dict[str, corpus.Fingerprint]:
    """Fingerprint of every published node's Iceberg table, read by PyIceberg (from s3)."""
    out = {}
    with duckdb.connect() as con:
        for node in corpus.published_nodes(manifest).values():
            rows = catalog.load_table(f"{NAMESPACE}.{node['alias']}").scan().to_arrow()
            con.register("published", rows)
            out[node["name"]] = corpus.fingerprint(con, "select * from published")
            con.unregister("published")
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    """``dbt build`` on dbt-duckdb, and ``floe run`` with ``compute: spark`` on a platform
    whose sql catalog is a real PostgreSQL 15, the source ``crm.regions`` published there by
    PyIceberg first (and loaded into the reference DuckDB)."""
    root = tmp_path_factory.mktemp("spark-seeds")
    ref_root, floe_root = root / "ref", root / "platform"
    ref_project, floe_project = ref_root / "seeds", floe_root / "seeds"
    shutil.copytree(PROJECT, ref_project, ignore=shutil.ignore_patterns("external"))
    shutil.copytree(PROJECT, floe_project, ignore=shutil.ignore_patterns("external"))
    spec = yaml.safe_load((floe_project / "floe.yaml").read_text())
    (floe_project / "floe.yaml").write_text(yaml.safe_dump({**spec, "compute": "spark"}))
    regions = duckdb.sql(f"select * from read_csv('{REGIONS}', header = true)").to_arrow_table()
    database = ref_root / "reference.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("create schema crm")
        con.execute("create table crm.regions as select * from regions")
    manifest = corpus.reference_build(ref_project, database, {})
    with postgres_server() as uri, moto_server() as endpoint, pytest.MonkeyPatch.context() as env:
        text, password = _manifest(uri, endpoint)
        (floe_root / "manifest.yaml").write_text(text)
        for name, value in (("CATALOG_DB_PASSWORD", password), ("SEEDS_S3_KEY", "seeds-key"),
                            ("SEEDS_S3_SECRET", "seeds-secret")):  # fmt: skip
            env.setenv(name, value)
        s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="seeds-key",
            aws_secret_access_key="seeds-secret",
        )
        s3.create_bucket(Bucket="lake")
        catalog = catalog_for_manifest(floe_root / "manifest.yaml")
        replace(catalog, "crm.regions", regions, {"floe.run_id": "external"})
        summary = run(floe_project)
        got = _fingerprints(manifest, catalog) if summary.success else {}
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket="lake", Prefix="wh/")
        keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
        columns = {name: [(f.name, str(f.field_type)) for f in
                          catalog.load_table(f"{NAMESPACE}.{name}").schema().fields]
                   for name in got}  # fmt: skip
        with psycopg.connect(uri.replace("postgresql+psycopg", "postgresql")) as pg:
            rows = pg.execute("select table_namespace, table_name from iceberg_tables "
                              "order by 1, 2").fetchall()  # fmt: skip
        runs = PlatformHome.for_manifest(floe_root / "manifest.yaml").runs / summary.run_id
        yield Built(corpus.reference_fingerprints(manifest, database), got, summary, columns,
                    runs, [(str(a), str(b)) for a, b in rows], keys)  # fmt: skip


def _results(folder: Path) -> dict[str, dict[str, Any]]:
    data = json.loads((folder / "run_results.json").read_text())
    return {r["unique_id"]: r for r in data["results"]}


@pytest.mark.timeout(900)
@pytest.mark.requirement("FLOE-371")
def test_seeds_loaded_by_floe_on_spark_equal_dbt_build_on_duckdb(built: Built) -> None:
    """Every seed and the model on them: the same column names, row count and hash of the
    sorted rows in the Iceberg table Spark published as in dbt-duckdb's ``dbt build``; the
    seed's Spark types are dbt-spark's (agate's inference converted, ``column_types``)."""
    assert built.summary.success, built.summary.failure
    assert set(built.expected) == {"readings", "sites", "hooked", "site_totals"}
    assert built.got == built.expected
    assert built.columns["readings"] == READINGS_TYPES
    assert [name for name, _ in built.columns["sites"]] == ["site_id", "site_name", "region"]


@pytest.mark.timeout(900)
@pytest.mark.requirement("FLOE-373")
def test_spark_and_pyiceberg_share_the_postgresql_sql_catalog(built: Built) -> None:
    """On the PostgreSQL catalog: Spark read the source PyIceberg published there (the
    model's region names come from it: the fingerprints above equal the reference's), and
    PyIceberg reads every table Spark published; PostgreSQL's ``iceberg_tables`` holds exactly
    the source and the four tables."""
    assert built.summary.success, built.summary.failure
    assert built.got["site_totals"] == built.expected["site_totals"]
    assert built.catalog_rows == [("crm", "regions")] + [
        (NAMESPACE, name) for name in ("hooked", "readings", "site_totals", "sites")
    ]
    assert built.columns["site_totals"][:3] == [
        ("site_id", "long"), ("region", "string"), ("region_name", "string"),
    ]  # fmt: skip


@pytest.mark.timeout(900)
@pytest.mark.requirement("FLOE-374")
def test_spark_writes_the_tables_on_s3_through_s3fileio(built: Built) -> None:
    """Storage s3 (moto): every table Spark published has its data files and metadata in the
    bucket under the warehouse prefix — read back by PyIceberg above, equal to the
    reference."""
    assert built.summary.success, built.summary.failure
    for name in ("hooked", "readings", "site_totals", "sites"):
        folder = [k for k in built.s3_keys if f"/{name}/" in k]
        assert any("/data/" in k and k.endswith(".parquet") for k in folder), name
        assert any("/metadata/" in k and k.endswith(".metadata.json") for k in folder), name
    assert built.got == built.expected


@pytest.mark.timeout(900)
@pytest.mark.requirement("FLOE-372")
def test_floe_loads_the_seeds_it_reproduces_and_dbt_the_others_their_tests_on_the_branch(
    built: Built,
) -> None:
    """dbt's build ran only the seed with a hook (left to dbt-spark's path) and the model;
    floe loaded the two others (rows as in their CSVs); the seeds' data tests ran on the audit
    branch: unique/not_null pass on ``sites``, the ``warn`` not_null on ``readings``'
    ``amount_dec`` counts its two empty cells."""
    build = _results(built.runs / "dbt")
    assert set(build) == {"seed.spark_seeds.hooked", "model.spark_seeds.site_totals"}
    rows = {a.name: a.rows for a in built.summary.assets}
    assert (rows["readings"], rows["sites"], rows["hooked"]) == (5, 3, 3)
    tests = _results(built.runs / "dbt-test")
    unique = [r["status"] for uid, r in tests.items() if ".unique_sites_site_id" in uid]
    assert unique == ["pass"]
    warned = [r for uid, r in tests.items() if "not_null_readings_amount_dec" in uid]
    assert [(r["status"], r["failures"]) for r in warned] == [("warn", 2)]
