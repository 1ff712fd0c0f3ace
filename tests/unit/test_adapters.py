"""Each adapter over a third-party internal, exercised for real against the installed version
(issue 11 point 4, docs/architecture.md "Adapters").

Nothing here is mocked: a real DuckDB file held by dbt-duckdb, a real PyIceberg SQL catalog,
a real Dagster instance with a failed run. When an upgrade changes what an adapter relies on,
the failure names the library, its installed version and the adapter to fix.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest


def _upgrade(dist: str, adapter: str, what: str) -> str:
    """The failure message: which library changed what, and which adapter to fix."""
    return f"{dist} {version(dist)} changed {what}: fix src/floe/{adapter} (see its docstring)"


# --- dbt-duckdb: the process-wide environment ----------------------------------------------

DBT_DUCKDB = "plugins/adapters/dbt_duckdb_env.py"


@pytest.fixture
def dbt_duckdb_env() -> Iterator[Any]:
    """dbt-duckdb's connection manager; its shared environment restored afterwards."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    from floe.plugins.adapters.dbt_duckdb_env import ENV_ATTRIBUTE

    assert hasattr(DuckDBConnectionManager, ENV_ATTRIBUTE), _upgrade(
        "dbt-duckdb", DBT_DUCKDB, f"DuckDBConnectionManager.{ENV_ATTRIBUTE} (attribute gone)"
    )
    before = getattr(DuckDBConnectionManager, ENV_ATTRIBUTE)
    yield DuckDBConnectionManager
    setattr(DuckDBConnectionManager, ENV_ATTRIBUTE, before)


@pytest.mark.requirement("FLOE-004")
def test_dbt_duckdb_environment_holds_the_file_until_the_adapter_releases_it(
    dbt_duckdb_env: Any, tmp_path: Path
) -> None:
    """dbt-duckdb keeps the database of an opened connection in its class-level ``_ENV``
    (another configuration cannot open the file); ``release_environment`` frees it and the
    rows dbt wrote are there."""
    import duckdb
    from dbt.adapters.contracts.connection import Connection, ConnectionState
    from dbt.adapters.duckdb.credentials import DuckDBCredentials

    from floe.plugins.adapters.dbt_duckdb_env import ENV_ATTRIBUTE, release_environment

    path = tmp_path / "scratch.duckdb"
    creds = DuckDBCredentials(path=str(path), database="scratch", schema="main")
    conn = Connection(type="duckdb", name="adapter", credentials=creds, state=ConnectionState.INIT)
    dbt_duckdb_env.open(conn)
    conn.handle.cursor().execute("create table t as select 41 + 1 as v")

    env = getattr(dbt_duckdb_env, ENV_ATTRIBUTE)
    held = _upgrade("dbt-duckdb", DBT_DUCKDB, f"what DuckDBConnectionManager.{ENV_ATTRIBUTE} holds")
    assert env is not None, held
    assert env.creds.path == str(path), held
    assert callable(getattr(env, "close", None)), held
    with pytest.raises(duckdb.ConnectionException, match="different configuration"):
        duckdb.connect(str(path), read_only=True)  # dbt still holds the file: what we release

    release_environment()

    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("select v from t").fetchall() == [(42,)], _upgrade(
            "dbt-duckdb", DBT_DUCKDB, "closing the environment (file still held)"
        )


# --- PyIceberg: the private writer, the SQL catalog's rows ----------------------------------

PYICEBERG_WRITER = "runtime/adapters/pyiceberg_writer.py"
SQL_CATALOG = "runtime/adapters/sql_catalog.py"


@pytest.fixture
def catalog(tmp_path: Path) -> Any:
    """A PyIceberg SQL catalog on SQLite, as the platform home's embedded catalog."""
    from pyiceberg.catalog.sql import SqlCatalog

    (tmp_path / "warehouse").mkdir()
    cat = SqlCatalog(
        "floe", uri=f"sqlite:///{tmp_path / 'catalog.db'}", warehouse=f"file://{tmp_path}/warehouse"
    )
    cat.create_namespace("shop")
    return cat


@pytest.mark.requirement("FLOE-004")
def test_pyiceberg_private_writer_takes_our_arguments_and_writes_the_rows(catalog: Any) -> None:
    """``_dataframe_to_data_files`` still takes the keywords the adapter passes, the snapshot
    producer still has a ``commit_uuid``, and ``write_rows`` in one overwrite snapshot that
    also deletes the old file leaves exactly the new rows."""
    import pyarrow as pa
    from pyiceberg.io import pyarrow as pyiceberg_pyarrow

    from floe.runtime.adapters.pyiceberg_writer import WRITER, WRITER_ARGUMENTS, write_rows

    module, _, name = WRITER.rpartition(".")
    assert module == pyiceberg_pyarrow.__name__
    writer = getattr(pyiceberg_pyarrow, name, None)
    assert writer is not None, _upgrade("pyiceberg", PYICEBERG_WRITER, f"{WRITER} (gone)")
    params = inspect.signature(writer).parameters
    missing = [a for a in WRITER_ARGUMENTS if a not in params]
    assert not missing, _upgrade("pyiceberg", PYICEBERG_WRITER, f"{WRITER}: no {missing}")

    first = pa.table({"id": pa.array([1, 2], pa.int64()), "name": ["a", "b"]})
    table = catalog.create_table("shop.orders", schema=first.schema)
    table.append(first)
    table = catalog.load_table("shop.orders")
    old = [task.file for task in table.scan().plan_files()]
    second = pa.table({"id": pa.array([3, 4, 5], pa.int64()), "name": ["c", "d", "e"]})
    with (
        table.transaction() as tx,
        tx.update_snapshot(snapshot_properties={"floe.run_id": "r1"}).overwrite() as producer,
    ):
        assert hasattr(producer, "commit_uuid"), _upgrade(
            "pyiceberg", PYICEBERG_WRITER, "the snapshot producer's commit_uuid"
        )
        for data_file in old:
            producer.delete_data_file(data_file)
        written = write_rows(tx, producer, table.io, second.cast(table.schema().as_arrow()))

    table = catalog.load_table("shop.orders")
    rows = table.scan().to_arrow().sort_by("id")
    assert rows.column("id").to_pylist() == [3, 4, 5], _upgrade(
        "pyiceberg", PYICEBERG_WRITER, f"{WRITER}'s output"
    )
    assert len(written) == len(list(table.scan().plan_files())) == 1
    snap = table.current_snapshot()
    assert snap is not None
    assert snap.summary is not None
    assert snap.summary["floe.run_id"] == "r1"
    assert snap.summary.operation.value == "overwrite"


@pytest.mark.requirement("FLOE-004")
def test_pyiceberg_commit_once_refuses_a_rebase_and_cleans_its_manifests(catalog: Any) -> None:
    """``commit_once`` reaches the transaction's producer list and their cleanup: an append
    staged on snapshot A, while another writer committed B, raises CommitFailedException
    (PyIceberg itself would rebase it onto B), leaves B current with B's rows, and deletes the
    manifest files written for it; on an unchanged table it commits the snapshot and the tag
    staged with it in one commit."""
    import pyarrow as pa
    from pyiceberg.exceptions import CommitFailedException
    from pyiceberg.table import Transaction
    from pyiceberg.table.update.snapshot import ManageSnapshots

    from floe.runtime.adapters.pyiceberg_writer import commit_once, write_rows

    where = _upgrade("pyiceberg", PYICEBERG_WRITER, "commit_once (Transaction._snapshot_producers)")
    assert isinstance(getattr(Transaction(catalog.create_table(
        "shop.probe", schema=pa.schema([("id", pa.int64())])
    )), "_snapshot_producers", None), list), where  # fmt: skip
    rows = pa.table({"id": pa.array([1], pa.int64())})
    table = catalog.create_table("shop.items", schema=rows.schema)
    table.append(rows)
    stale = catalog.load_table("shop.items")
    catalog.load_table("shop.items").append(pa.table({"id": pa.array([2], pa.int64())}))
    tx = stale.transaction()
    with tx.update_snapshot().fast_append() as producer:
        write_rows(tx, producer, stale.io, pa.table({"id": pa.array([3], pa.int64())}))
    folder = Path(stale.location().removeprefix("file://")) / "metadata"
    manifests = {p.name for p in folder.glob("*.avro")}
    with pytest.raises(CommitFailedException):
        commit_once(tx)
    assert {p.name for p in folder.glob("*.avro")} < manifests, where  # its manifests deleted
    now = catalog.load_table("shop.items")
    assert sorted(now.scan().to_arrow().column("id").to_pylist()) == [1, 2], where

    tx = now.transaction()
    with tx.update_snapshot().fast_append() as producer:
        write_rows(tx, producer, now.io, pa.table({"id": pa.array([3], pa.int64())}))
    ManageSnapshots(tx).create_tag(producer.snapshot_id, "run-x").commit()
    commit_once(tx)
    done = catalog.load_table("shop.items")
    assert done.metadata.refs["run-x"].snapshot_id == producer.snapshot_id
    assert done.current_snapshot().snapshot_id == producer.snapshot_id
    assert sorted(done.scan().to_arrow().column("id").to_pylist()) == [1, 2, 3]


@pytest.mark.requirement("FLOE-004")
def test_pyiceberg_writer_unsplit_writes_one_file_per_call_under_one_counter(catalog: Any) -> None:
    """``write_unsplit`` (compaction) writes each call's rows as ONE file even above the
    table's target file size, numbered by the shared counter: two calls on one producer give
    two distinct files holding every row, and the table's property is unchanged."""
    import itertools

    import pyarrow as pa

    from floe.runtime.adapters.pyiceberg_writer import WRITER, write_unsplit

    schema = pa.schema([("id", pa.int64())])
    table = catalog.create_table(
        "shop.events", schema=schema, properties={"write.target-file-size-bytes": "1024"}
    )
    counter = itertools.count(0)
    first, second = (pa.table({"id": ids}, schema) for ids in (range(5000), range(5000, 6000)))
    with table.transaction() as tx, tx.update_snapshot().fast_append() as producer:
        files = [
            *write_unsplit(tx, producer, table.io, first, counter),
            *write_unsplit(tx, producer, table.io, second, counter),
        ]
    assert len({f.file_path for f in files}) == 2, _upgrade(
        "pyiceberg", PYICEBERG_WRITER, f"{WRITER}'s file names or size splitting"
    )
    table = catalog.load_table("shop.events")
    assert sorted(table.scan().to_arrow()["id"].to_pylist()) == list(range(6000))
    assert [f.record_count for f in files] == [5000, 1000]
    assert table.properties["write.target-file-size-bytes"] == "1024"


@pytest.mark.requirement("FLOE-004")
def test_sql_catalog_rows_give_each_tables_metadata_location(catalog: Any, tmp_path: Path) -> None:
    """PyIceberg's SQL catalog still keeps ``iceberg_tables`` with the columns the adapter reads,
    and ``table_locations`` returns each table of the namespace with the metadata location
    PyIceberg itself reports; a catalog file without tables yet, or none at all, reads []."""
    import pyarrow as pa
    from pyiceberg.catalog.sql import IcebergTables

    from floe.runtime.adapters.sql_catalog import COLUMNS, TABLE, table_locations

    shape = _upgrade("pyiceberg", SQL_CATALOG, "the SQL catalog's table layout")
    assert IcebergTables.__tablename__ == TABLE, shape
    assert set(COLUMNS) <= set(IcebergTables.__table__.columns.keys()), shape

    db = tmp_path / "catalog.db"
    assert table_locations(db, "floe", "shop") == []  # namespace, no table: nothing published
    schema = pa.schema([("id", pa.int64())])
    names = ["orders", "customers"]
    for name in names:
        catalog.create_table(f"shop.{name}", schema=schema)
    catalog.create_namespace("other")
    catalog.create_table("other.orders", schema=schema)

    expected = [(n, catalog.load_table(f"shop.{n}").metadata_location) for n in sorted(names)]
    assert table_locations(db, "floe", "shop") == expected, shape
    assert table_locations(db, "another_catalog", "shop") == []
    assert table_locations(tmp_path / "absent.db", "floe", "shop") == []


# --- Dagster: the persistent instance, re-execution from failure ----------------------------

DAGSTER_INSTANCE = "orchestrate/adapters/dagster_instance.py"


@pytest.mark.requirement("FLOE-004")
def test_dagster_instance_from_a_directory_and_the_keys_a_failed_run_did_not_build(
    tmp_path: Path,
) -> None:
    """``open_instance`` keeps runs in the directory (a second instance opened there reads
    them), and ``keys_to_reexecute`` of a run where ``b`` failed after ``a`` succeeded is
    ``b`` and what depends on it, not ``a`` — Dagster's FROM_ASSET_FAILURE rule."""
    import dagster as dg

    from floe.orchestrate.adapters.dagster_instance import keys_to_reexecute, open_instance

    params = inspect.signature(dg.DagsterInstance.from_config).parameters
    assert "config_dir" in params, _upgrade("dagster", DAGSTER_INSTANCE, "from_config")

    @dg.asset
    def a() -> int:
        return 1

    @dg.asset
    def b(a: int) -> int:
        raise RuntimeError("b fails")

    @dg.asset
    def c(b: int) -> int:
        return b

    with open_instance(tmp_path) as instance:
        result = dg.materialize([a, b, c], instance=instance, raise_on_error=False)
    assert not result.success

    with open_instance(tmp_path) as instance:
        runs = instance.get_runs(dg.RunsFilter(run_ids=[result.run_id]))
        assert [r.status for r in runs] == [dg.DagsterRunStatus.FAILURE], _upgrade(
            "dagster", DAGSTER_INSTANCE, "where DagsterInstance.from_config keeps runs"
        )
        assert hasattr(instance, "run_domain"), _upgrade(
            "dagster", DAGSTER_INSTANCE, "DagsterInstance.run_domain (gone)"
        )
        keys = keys_to_reexecute(instance, runs[0])
    assert keys == [dg.AssetKey("b"), dg.AssetKey("c")], _upgrade(
        "dagster", DAGSTER_INSTANCE, "run_domain.get_keys_to_reexecute"
    )


# --- pydantic: the plugin loader ------------------------------------------------------------

PYDANTIC_PLUGINS = "cli/adapters/pydantic_plugins.py"


@pytest.mark.requirement("FLOE-004")
def test_pydantic_builds_its_validators_through_the_plugin_loader_the_adapter_replaces() -> None:
    """What the stand-in replaces is still there: pydantic's schema-validator factory imports
    ``get_plugins`` from ``pydantic.plugin._loader`` when it builds a validator, the real
    ``get_plugins`` takes no argument and returns no plugin for each value the adapter treats
    as "off" (so the stand-in answers what the real loader would)."""
    import importlib.util
    import os

    import pydantic.plugin._schema_validator as schema_validator

    from floe.cli.adapters.pydantic_plugins import LOADER, OFF, PLUGINS_ENV

    source = inspect.getsource(schema_validator.create_schema_validator)
    assert "from ._loader import get_plugins" in source, _upgrade(
        "pydantic", PYDANTIC_PLUGINS, "where create_schema_validator finds its plugins"
    )
    assert f"{schema_validator.__package__}._loader" == LOADER
    # pydantic's own module, loaded from its file (this process may hold the stand-in)
    path = Path(schema_validator.__file__).with_name("_loader.py")
    spec = importlib.util.spec_from_file_location("pydantic_real_loader", path)
    assert spec is not None, _upgrade("pydantic", PYDANTIC_PLUGINS, "_loader.py")
    assert spec.loader is not None
    real = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(real)
    assert list(inspect.signature(real.get_plugins).parameters) == [], _upgrade(
        "pydantic", PYDANTIC_PLUGINS, "get_plugins' parameters"
    )
    before = os.environ.get(PLUGINS_ENV)
    try:
        for value in OFF:
            os.environ[PLUGINS_ENV] = value
            assert tuple(real.get_plugins()) == (), _upgrade(
                "pydantic", PYDANTIC_PLUGINS, f"what {PLUGINS_ENV}={value} means"
            )
    finally:
        if before is None:
            os.environ.pop(PLUGINS_ENV, None)
        else:
            os.environ[PLUGINS_ENV] = before


_PROBE = """
import json, sys
sys.argv = ["floe", "compile", sys.argv[1], "--out", sys.argv[2], "--offline"]
from floe.cli.entry import main
try:
    main()
except SystemExit as exc:
    code = exc.code
loader = sys.modules.get("pydantic.plugin._loader")
doc = getattr(loader, "__doc__", "") or ""
print(json.dumps({"code": code, "metadata": "importlib.metadata" in sys.modules,
                  "stand_in": doc.startswith("floe's stand-in")}))
"""


@pytest.mark.requirement("FLOE-004")
@pytest.mark.parametrize(("setting", "stand_in"), [(None, True), ("", False)])
def test_the_console_script_compiles_without_pydantics_plugin_scan_unless_asked(
    setting: str | None, stand_in: bool, tmp_path: Path
) -> None:
    """``floe compile`` through the console script's entry point builds and validates every
    model with the stand-in loader — ``importlib.metadata`` never imported — and writes the
    same artifacts; an empty ``PYDANTIC_DISABLE_PLUGINS`` brings pydantic's own loader back."""
    import json
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    if setting is not None:
        env["PYDANTIC_DISABLE_PLUGINS"] = setting
    product = ROOT / "demo" / "customer-360"
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(product), str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=120, check=True,
    )  # fmt: skip
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"code": 0, "metadata": not stand_in, "stand_in": stand_in}, done.stderr
    artifacts = json.loads((tmp_path / "compiled_artifacts.json").read_text())
    assert artifacts["metadata"]["product"] == product.name


# --- nothing else touches these internals ---------------------------------------------------

THIRD_PARTY = ("dagster", "dagster_dbt", "pyiceberg", "dbt", "duckdb", "sqlalchemy", "pydantic")
ADAPTER_DIRS = (
    "src/floe/cli/adapters/",
    "src/floe/plugins/adapters/",
    "src/floe/runtime/adapters/",
    "src/floe/orchestrate/adapters/",
)


def _private_uses(path: Path, root: Path) -> list[str]:
    """``file:line what`` for each private third-party name the module reaches."""
    import ast

    found = []
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        what = ""
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in THIRD_PARTY:
            private = [a.name for a in node.names if a.name.startswith("_")]
            if private or any(p.startswith("_") for p in (node.module or "").split(".")):
                what = f"from {node.module} import {', '.join(a.name for a in node.names)}"
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names if a.name.split(".")[0] in THIRD_PARTY]
            what = ", ".join(n for n in names if any(p.startswith("_") for p in n.split(".")))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value in ("_ENV", "iceberg_tables") or "from iceberg_tables" in node.value:
                what = repr(node.value)
        elif isinstance(node, ast.Attribute) and node.attr in ("run_domain", "commit_uuid"):
            what = f".{node.attr}"
        if what:
            found.append(f"{path.relative_to(root)}:{getattr(node, 'lineno', 0)} {what}")
    return found


@pytest.mark.requirement("FLOE-004")
def test_only_the_adapters_reach_third_party_internals() -> None:
    """No module of src/floe outside the ``adapters`` packages imports a private name of
    Dagster, dbt, DuckDB, PyIceberg or SQLAlchemy, reads dbt-duckdb's ``_ENV``, queries the SQL
    catalog's ``iceberg_tables`` or calls Dagster's ``run_domain`` / a producer's
    ``commit_uuid``; the adapters themselves do (the scan finds what it looks for)."""
    from tests.conftest import ROOT

    outside: list[str] = []
    inside: list[str] = []
    for path in sorted((ROOT / "src" / "floe").rglob("*.py")):
        uses = _private_uses(path, ROOT)
        rel = path.relative_to(ROOT).as_posix()
        (inside if rel.startswith(ADAPTER_DIRS) else outside).extend(uses)
    assert outside == [], "call the adapter instead (docs/architecture.md, Adapters):\n" + (
        "\n".join(outside)
    )
    kinds = {use.split(" ", 1)[1].split(" ")[0] for use in inside}
    assert {"'_ENV'", "from", ".run_domain", ".commit_uuid"} <= kinds, inside


# --- Cube's schema compiler: what a compile asks of the native extension ------------------

CUBE = "plugins/adapters/cube_compile.js"


@pytest.mark.requirement("FLOE-004")
@pytest.mark.requirement("FLOE-332")
def test_cube_compiler_asks_the_native_extension_only_for_a_jinja_engine() -> None:
    """The installed @cubejs-backend/schema-compiler is the version deploy/cube pins; it still
    takes ``nativeInstance`` as an option of prepareCompiler, and its compiler calls only
    ``newJinjaEngine`` and ``loadPythonContext`` (with a globals.py, which floe never writes)
    on it: the two things the adapter's script relies on."""
    import json
    import re
    import sys

    from tests.conftest import ROOT

    lock = json.loads((ROOT / "deploy" / "cube" / "package-lock.json").read_text())
    pinned = lock["packages"]["node_modules/@cubejs-backend/schema-compiler"]["version"]
    dist = Path(sys.prefix) / "cube" / "node_modules" / "@cubejs-backend" / "schema-compiler"
    installed = json.loads((dist / "package.json").read_text())["version"]
    assert installed == pinned, f"run `make setup`: .venv/cube has {installed}, not {pinned}"
    changed = f"@cubejs-backend/schema-compiler {installed} changed {{}}: fix src/floe/{CUBE}"
    options = (dist / "dist" / "src" / "compiler" / "PrepareCompiler.d.ts").read_text()
    assert "nativeInstance?: NativeInstance;" in options, changed.format("PrepareCompilerOptions")
    calls = {
        m.group(1)
        for path in (dist / "dist" / "src").rglob("*.js")
        for m in re.finditer(r"nativeInstance\.([A-Za-z]+)\(", path.read_text())
    }
    assert calls == {"newJinjaEngine", "loadPythonContext"}, changed.format(f"its calls {calls}")
