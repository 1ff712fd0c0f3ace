"""floe.yaml ``ingestion:`` at compile (issue 16 point 6): valid sources reach the artifacts
with their secrets as references and without importing dlt; every mistake is a located error
with a fix; the run's audit refuses what may not be published; the cursors survive their
trip through the Iceberg table property."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa
import pytest

from floe.compile.api import compile_product
from floe.errors import InputError
from floe.plugins.abcs import IngestionPlugin
from floe.plugins.base import EmptyConfig, PluginType
from floe.plugins.records import IngestionLoad, IngestionRequest
from floe.plugins.registry import PluginRegistry
from floe.runtime.ingest import CURSORS, audit, cursor_property, read_cursors
from floe.spec.ingestion import RestApiSource
from tests.conftest import TINY_MANIFEST, TINY_SPEC, write_tiny

MANIFEST = TINY_MANIFEST.replace(
    "  storage:\n    type: local\n", "  storage:\n    type: local\n  ingestion:\n    type: dlt\n"
)
INGESTION = """\
ingestion:
  - name: api
    type: rest_api
    base_url: http://127.0.0.1:9/
    token: {secret: API_TOKEN}
    resources:
      - name: orders_api
        incremental: {cursor: updated, param: since}
  - name: crm
    type: sql_database
    database: crm
    username: floe
    password: {secret: CRM_PASSWORD}
    resources:
      - name: customers
        primary_key: [id]
        write_disposition: merge
  - name: landing
    type: filesystem
    bucket_url: landing
    resources:
      - name: events
        glob: "*.csv"
        format: csv
"""


def _product(tmp_path: Path, ingestion: str = INGESTION, manifest: str = MANIFEST) -> Path:
    product = write_tiny(tmp_path / "tiny", spec=TINY_SPEC + ingestion, manifest=manifest)
    (product / "landing").mkdir()
    return product


PROBE = """
import sys
from pathlib import Path
from floe.compile.api import compile_product
ctx = compile_product(Path(sys.argv[1]), out_dir=Path(sys.argv[2]))
heavy = {"dlt", "sqlalchemy", "dagster", "dbt", "pyarrow", "duckdb", "pyiceberg"}
print("HEAVY=" + ",".join(sorted({m.split(".")[0] for m in sys.modules} & heavy)))
"""


@pytest.mark.requirement("FLOE-321")
def test_ingestion_sources_compile_into_the_artifacts_without_dlt(tmp_path: Path) -> None:
    """A floe.yaml with a rest_api, a sql_database and a filesystem source compiles without
    importing dlt (or any run-time library); the artifacts carry the sources with their
    credentials as references, and map each source to the product's own namespace."""
    product = _product(tmp_path)
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-c", PROBE, str(product), str(out)],
                          capture_output=True, text=True, check=False, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY=\n" in proc.stdout
    data = json.loads((out / "compiled_artifacts.json").read_text())
    assert data["plugins"]["ingestion"]["type"] == "dlt"
    assert [(s["name"], s["type"]) for s in data["ingestion"]] == [
        ("api", "rest_api"), ("crm", "sql_database"), ("landing", "filesystem"),
    ]  # fmt: skip
    assert data["ingestion"][0]["token"] == {"secret": "API_TOKEN"}
    assert data["ingestion"][1]["password"] == {"secret": "CRM_PASSWORD"}
    assert data["ingestion"][1]["schema"] is None  # the alias, as floe.yaml spells it
    ctx = compile_product(product, write=False)
    assert ctx.artifacts is None  # write=False stops before COMPILE
    spec = ctx.need_spec()
    assert [r.name for s in spec.ingestion_sources() for r in s.resources] == [
        "orders_api", "customers", "events",
    ]  # fmt: skip


def _errors(product: Path, registry: PluginRegistry | None = None) -> list[Any]:
    with pytest.raises(InputError) as err:
        compile_product(product, write=False, registry=registry)
    return sorted(err.value.diagnostics, key=lambda d: d.code)


@pytest.mark.requirement("FLOE-321")
def test_every_ingestion_mistake_is_a_located_error_with_a_fix(tmp_path: Path) -> None:
    """A plaintext password (its value never shown), a raw table named like a model, two
    sources of one name, a missing folder: each an error at its floe.yaml line with a hint."""
    bad = (
        INGESTION.replace("password: {secret: CRM_PASSWORD}", "password: hunter2")
        .replace("- name: customers", "- name: stg_orders")
        .replace("- name: landing", "- name: api")
        .replace("bucket_url: landing", "bucket_url: no-such-dir")
    )
    product = _product(tmp_path, bad)
    found = _errors(product)
    lines = (product / "floe.yaml").read_text().splitlines()

    def line_of(text: str) -> int:
        return next(i for i, line in enumerate(lines, 1) if text in line)

    assert [(d.code, d.location.line, d.field_path) for d in found] == [
        ("E671", _nth(lines, "- name: api", 2), "ingestion[2].name"),
        ("E672", _nth(lines, "- name: stg_orders", 2), "ingestion[1].resources[0].name"),
        ("E673", line_of("password: hunter2"), "ingestion[1].password"),
        ("E679", line_of("bucket_url: no-such-dir"), "ingestion[2].bucket_url"),
    ]  # fmt: skip
    assert all(d.hint for d in found)
    assert all("hunter2" not in str(d) for d in found)
    assert "'password' must be a secret reference" in found[2].message
    assert found[2].hint.startswith("write 'password: {secret: NAME}'")
    assert "has the name of a dbt node" in found[1].message


def _nth(lines: list[str], text: str, n: int) -> int:
    """The line number of the ``n``-th line containing ``text``."""
    return [i for i, line in enumerate(lines, 1) if text in line][n - 1]


@pytest.mark.requirement("FLOE-321")
def test_ingestion_needs_a_platform_plugin_that_loads_its_source_types(tmp_path: Path) -> None:
    """Without an ingestion plugin in the manifest: E670 naming the manifest fix; with a
    plugin that loads only rest_api: E674 at each other source's type."""
    found = _errors(_product(tmp_path / "a", manifest=TINY_MANIFEST))
    assert [(d.code, d.field_path) for d in found] == [("E670", "ingestion")]
    assert "plugins: {ingestion: {type: dlt}}" in found[0].hint

    class RestOnly(IngestionPlugin[EmptyConfig]):
        name: ClassVar[str] = "rest-only"
        description: ClassVar[str] = "loads REST APIs only"

        def sources(self) -> list[str]:
            return ["rest_api"]

        def load(self, request: IngestionRequest) -> IngestionLoad:
            raise NotImplementedError

    registry = PluginRegistry(extra={PluginType.INGESTION: {"rest-only": RestOnly}})
    manifest = MANIFEST.replace("type: dlt", "type: rest-only")
    found = _errors(_product(tmp_path / "b", manifest=manifest), registry)
    assert [(d.code, d.field_path) for d in found] == [
        ("E674", "ingestion[1].type"), ("E674", "ingestion[2].type"),
    ]  # fmt: skip
    assert found[0].message == (
        "ingestion source 'crm' has type 'sql_database', which the ingestion plugin "
        "'rest-only' does not load (it loads: rest_api)"
    )


SOURCE = RestApiSource.model_validate({
    "type": "rest_api", "name": "api", "base_url": "http://127.0.0.1:9/",
    "resources": [{"name": "orders", "primary_key": ["id"]},
                  {"name": "prices", "write_disposition": "replace"}],
})  # fmt: skip


@pytest.fixture
def published(tmp_path: Path) -> Any:
    """An Iceberg table ``raw.orders`` (id long, amount long) with one snapshot, in a SQLite
    catalog, its cursors property set as a publish sets it."""
    from pyiceberg.catalog.sql import SqlCatalog

    catalog = SqlCatalog("t", uri=f"sqlite:///{tmp_path}/c.db", warehouse=f"file://{tmp_path}")
    catalog.create_namespace("raw")
    rows = pa.table({"id": pa.array([1], pa.int64()), "amount": pa.array([5], pa.int64())})
    table = catalog.create_table("raw.orders", schema=rows.schema)
    table.append(rows)
    cursors = {"updated": dt.datetime(2026, 1, 4, tzinfo=dt.UTC), "n": 7,
               "day": dt.date(2026, 1, 2), "price": Decimal("1.50"), "name": "x"}  # fmt: skip
    with table.transaction() as tx:
        tx.set_properties({CURSORS: cursor_property(cursors)})
    return catalog.load_table("raw.orders"), cursors


@pytest.mark.requirement("FLOE-325")
def test_the_audit_refuses_what_may_not_be_published(published: Any) -> None:
    """Nothing loaded on a first load or a replace, a null and a duplicated primary key, a
    column whose type changes: each refused naming the resource; new columns, a widened type
    and an incremental run that found nothing new pass."""
    table, _ = published
    first = audit(SOURCE, "orders", None, None, [])
    assert first == ["error[E677]: api.orders loaded no rows (a first load must bring rows; "
                     "the source returned none)"]  # fmt: skip
    assert audit(SOURCE, "prices", None, table, [])[0].startswith(
        "error[E677]: api.prices loaded no rows (write_disposition replace"
    )
    assert audit(SOURCE, "orders", None, table, []) == []  # incremental: nothing new
    keys = pa.table({"id": pa.array([1, 1, None], pa.int64())})
    assert audit(SOURCE, "orders", keys, None, [("id", "long")]) == [
        "error[E677]: api.orders: 1 loaded row(s) with a null primary key (id)",
        "error[E677]: api.orders: 1 primary key value(s) loaded more than once (id)",
    ]
    typed = pa.table({"id": pa.array([2], pa.int64()), "amount": ["5"]})
    assert audit(SOURCE, "orders", typed, table, [("id", "long"), ("amount", "string")]) == [
        "error[E678]: api.orders: column amount changes type long → string; the published "
        "table cannot take it (fix the source, or drop the raw table to reload it from scratch)"
    ]
    grown = pa.table({"id": pa.array([2], pa.int64()), "note": ["n"]})
    assert audit(SOURCE, "orders", grown, table, [("id", "long"), ("note", "string")]) == []


@pytest.mark.requirement("FLOE-323")
def test_cursors_survive_the_iceberg_table_property(published: Any) -> None:
    """Datetimes, dates, decimals, integers and text come back from the table property as
    the same values and types; a table without the property has no cursors."""
    table, cursors = published
    assert read_cursors(table) == cursors
    assert read_cursors(None) == {}
    assert json.loads(table.properties[CURSORS])["updated"] == {
        "datetime": "2026-01-04T00:00:00+00:00"
    }


class _Refused(Exception):
    """Stands for dlt's step error wrapping what the source raised."""


@pytest.mark.requirement("FLOE-322")
def test_dlt_plugin_retries_only_transient_load_failures(tmp_path: Path) -> None:
    """The dlt plugin's ``retry_config`` (the upstream manifest's field) validates; a
    connection error or timeout anywhere in a failure's chain is transient (retried), an
    error the source answered with is not; the plugin loads the three source types."""
    from floe.plugins.builtin.ingestion_dlt import DltIngestionPlugin, transient

    plugin = DltIngestionPlugin.from_config({"retry_config": {"max_retries": 3}})
    assert plugin.config.retry_config.max_retries == 3
    assert plugin.config.retry_config.backoff_seconds == 1.0
    assert plugin.sources() == ["filesystem", "rest_api", "sql_database"]
    assert plugin.health_check().ok
    wrapped = _Refused("extract failed")
    wrapped.__cause__ = ConnectionRefusedError("connection refused")
    assert transient(wrapped)
    assert transient(TimeoutError("read timed out"))
    assert not transient(ValueError("HTTP 404 for /orders"))


@pytest.mark.requirement("FLOE-321")
def test_a_misspelt_key_names_the_fields_of_its_own_source_type(tmp_path: Path) -> None:
    """A typo in a sql_database source is an unknown field at its own line, listing the
    sql_database fields (not another source type's) with the closest one, and the field it
    misses at the source's line — not at the union's internal tag."""
    product = _product(tmp_path, INGESTION.replace("    database: crm", "    databse: crm"))
    found = _errors(product)
    lines = (product / "floe.yaml").read_text().splitlines()
    assert [(d.code, d.location.line, d.field_path) for d in found] == [
        ("E110", _nth(lines, "- name: crm", 1), "ingestion[1].database"),
        ("E110", _nth(lines, "databse: crm", 1), "ingestion[1].databse"),
    ]
    assert found[0].message == "required field is missing"
    assert found[1].message == (
        "unknown field (expected one of: database, drivername, host, name, password, port, "
        "resources, schema, type, username)"
    )
    assert found[1].hint == "did you mean 'database'?"
