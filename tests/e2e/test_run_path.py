"""One path per run: `floe run` goes through the same compile and live-schema reading as
`floe compile`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TINY_MANIFEST, TINY_MODELS, run_floe, write_tiny


@pytest.mark.requirement("FLOE-002")
def test_run_warns_like_compile_when_the_gate_cannot_read_the_catalog(tmp_path: Path) -> None:
    """`floe run` reads the live schema the way `floe compile` does and prints the same W150
    line when the gate cannot run (it used to drop it and skip the gate silently)."""
    manifest = TINY_MANIFEST.replace(
        "  catalog:\n    type: sql\n",
        "  catalog:\n    type: rest\n    config:\n"
        "      uri: http://127.0.0.1:9/api/catalog\n      token: s3cr3t-plain\n",
    )
    product = write_tiny(tmp_path / "tiny", manifest=manifest)
    env = dict.fromkeys(("FLOE_HOME", "FLOE_MANIFEST"), "")
    compiled = run_floe("compile", product, env=env)
    ran = run_floe("run", product, env=env)
    assert ran.code != 0  # the catalog is unusable for the run itself
    gate = [line for line in compiled.err.splitlines() if "W150" in line]
    assert len(gate) == 1
    assert [line for line in ran.err.splitlines() if "W150" in line] == gate
    assert "s3cr3t-plain" not in ran.err + ran.out


@pytest.mark.requirement("FLOE-002")
@pytest.mark.timeout(240)
def test_a_run_resolves_each_plugin_once_and_opens_the_catalog_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A whole `floe run` (compile with the live-schema read through PyIceberg, the Dagster
    job, dbt, publish, observers) opens the Iceberg catalog once and creates each chosen plugin
    once beyond compile's own validation of it: one object holds them for the run."""
    import pyiceberg.catalog

    from floe.app.run import run
    from floe.compile.api import compile_product
    from floe.plugins.registry import PluginRegistry

    root = tmp_path / "tiny"
    uri = f"sqlite:///{root / '.floe' / 'catalog.db'}"
    manifest = TINY_MANIFEST.replace(
        "  catalog:\n    type: sql\n", f"  catalog:\n    type: sql\n    config:\n      uri: {uri}\n"
    )
    product = write_tiny(root, manifest=manifest)
    monkeypatch.setenv("FLOE_HOME", str(root / ".floe"))
    monkeypatch.delenv("FLOE_MANIFEST", raising=False)
    assert run(product).success  # the tables exist: the next run's gate reads them

    created: list[str] = []
    opened: list[str] = []
    create, load = PluginRegistry.create, pyiceberg.catalog.load_catalog

    def counting_create(self: PluginRegistry, ptype: object, name: str, *a: object, **k: object):  # type: ignore[no-untyped-def]
        created.append(str(getattr(ptype, "value", ptype)))
        return create(self, ptype, name, *a, **k)  # type: ignore[arg-type]

    def counting_load(name: str | None = None, **props: object):  # type: ignore[no-untyped-def]
        opened.append(str(name))
        return load(name, **props)  # type: ignore[arg-type]

    monkeypatch.setattr(PluginRegistry, "create", counting_create)
    monkeypatch.setattr(pyiceberg.catalog, "load_catalog", counting_load)
    compile_product(product)
    by_compile = {c: created.count(c) for c in set(created)}
    created.clear()

    summary = run(product)
    assert summary.success, summary.failure
    models = {name.removesuffix(".sql") for name in TINY_MODELS}
    assert {a.name for a in summary.assets} == {"raw_orders", *models}
    assert opened == ["floe"]  # the live-schema read's catalog is the run's
    extra = {c: created.count(c) - by_compile.get(c, 0) for c in set(created)}
    assert extra["catalog"] == 1
    assert all(n <= 1 for n in extra.values()), extra


HOLD = (
    "import sys, duckdb\n"
    "con = duckdb.connect(sys.argv[1])\n"
    "con.execute('create table held as select 42 as x')\n"
    "print('held', flush=True)\n"
    "sys.stdin.read()\n"
)


@pytest.mark.requirement("WU5-BC2")
def test_a_duckdb_file_locked_by_another_process_neither_blocks_nor_fails_a_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The manifest's DuckDB path is a file another process holds open (DuckDB's exclusive
    file lock: a third process cannot open it, failing at once with DuckDB's lock error).
    `floe run` gives each dbt phase a fresh scratch database instead of that file, so the
    run neither waits on the lock nor fails: it publishes every seed and model of the
    product, and the holder's table is untouched."""
    import duckdb

    from floe.app.run import run

    monkeypatch.delenv("FLOE_HOME", raising=False)
    monkeypatch.delenv("FLOE_MANIFEST", raising=False)
    db = tmp_path / "shared.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(db)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        probe = subprocess.run(
            [sys.executable, "-c", "import sys, duckdb; duckdb.connect(sys.argv[1])", str(db)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert probe.returncode != 0
        assert "lock" in probe.stderr.lower()
        manifest = TINY_MANIFEST.replace(
            "  compute:\n    type: duckdb\n", f"  compute:\n    type: duckdb\n    config:\n"
            f"      path: {db}\n",
        )  # fmt: skip
        assert f"path: {db}" in manifest
        product = write_tiny(tmp_path / "tiny", manifest=manifest)
        summary = run(product)
        assert summary.success, summary.failure
        published = sorted(a.name for a in summary.assets if a.snapshot_id)
        assert published == sorted(["raw_orders", *(m.removesuffix(".sql") for m in TINY_MODELS)])
    finally:
        if holder.stdin is not None:
            holder.stdin.close()
        holder.wait(60)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select x from held").fetchall() == [(42,)]
