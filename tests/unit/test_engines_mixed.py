"""Engines mixed in one product (issue 13 point 4's third step): floe.yaml ``compute:`` per
transform compiles into one dbt target per engine; a run plans engine waves in topological
order (floe.runtime.waves; no engine needed); what a wave split cannot run is refused at
compile with its floe.yaml line and a fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from floe.compile.api import compile_product
from floe.errors import FloeError
from floe.runtime.dbt_graph import DbtGraph, DbtNode, Relation
from floe.runtime.runner import NodeOutcome
from floe.runtime.spark.incremental import ancestors
from floe.runtime.waves import held_back, plan_waves
from tests.conftest import TINY_SPEC, write_tiny
from tests.unit.test_compute_spark import SPARK_MANIFEST

#: The tiny product (stg_orders → int_orders → mart_revenue) with its gold model on Spark.
MIXED_SPEC = TINY_SPEC.replace("    tier: gold\n", "    tier: gold\n    compute: spark\n")


def _node(name: str, *parents: str, kind: str = "model", engine: str = "duckdb") -> DbtNode:
    return DbtNode(
        unique_id=f"{kind}.p.{name}",
        name=name,
        resource_type=kind,
        materialization="table" if kind != "seed" else "seed",
        relation=Relation("", "main", name),
        path=f"models/{name}.sql",
        package="p",
        depends_on=tuple(parents),
        config={"engine": engine},
    )


def _engine(node: DbtNode) -> str:
    return str(node.config["engine"])


def _names(waves: list[object]) -> list[tuple[str, list[str]]]:
    return [(w.engine, [n.name for n in w.nodes]) for w in waves]  # type: ignore[attr-defined]


@pytest.mark.requirement("FLOE-381")
def test_waves_follow_the_graph_one_engine_each() -> None:
    """seed → stg → int on DuckDB, gold on Spark reading int and the seed, a snapshot on
    DuckDB reading gold, and a Spark model with no parents (first in build order): DuckDB's
    wave takes the seed, stg and int; Spark's the parentless model and gold; the snapshot
    needs a third wave (it reads gold). A relationship test of gold to int (two waves) runs
    in Spark's wave, the later one; a test inside one wave is left to dbt's own selection."""
    seed = _node("raw", kind="seed")
    stg = _node("stg", "seed.p.raw")
    int_ = _node("int", "model.p.stg")
    free = _node("free", engine="spark")
    gold = _node("gold", "model.p.int", "seed.p.raw", engine="spark")
    snap = _node("snap", "model.p.gold", kind="snapshot")
    nodes = [seed, stg, int_, free, gold, snap]
    tests = {
        "test.p.rel": ("relationships_gold_id__id__ref_int_", ("model.p.gold", "model.p.int")),
        "test.p.nn": ("not_null_stg_id", ("model.p.stg",)),
        "test.p.other": ("not_null_elsewhere", ("model.p.not_built",)),
    }
    graph = DbtGraph({n.unique_id: n for n in nodes}, {}, tests)
    building = graph.in_build_order(nodes)
    waves = plan_waves(graph, building, _engine)
    assert [n.name for n in building] == ["free", "raw", "stg", "int", "gold", "snap"]
    assert _names(waves) == [
        ("duckdb", ["raw", "stg", "int"]),
        ("spark", ["free", "gold"]),
        ("duckdb", ["snap"]),
    ]
    by_engine = {(w.engine, i): w.tests for i, w in enumerate(waves)}
    assert by_engine == {
        ("duckdb", 0): [],
        ("spark", 1): ["relationships_gold_id__id__ref_int_"],
        ("duckdb", 2): [],
    }


@pytest.mark.requirement("FLOE-381")
def test_one_engine_is_one_wave_and_the_first_node_picks_the_first_engine() -> None:
    """All nodes on one engine: one wave in build order. Two independent roots on two engines
    and a Spark model on the DuckDB root: the DuckDB root goes first (an engine switch is
    below it) and the Spark root joins the Spark model's wave (two waves, not three)."""
    a, b = _node("a"), _node("b", "model.p.a")
    graph = DbtGraph({n.unique_id: n for n in (a, b)}, {})
    assert _names(plan_waves(graph, [a, b], _engine)) == [("duckdb", ["a", "b"])]
    root = _node("a_duck")
    spark_root = _node("b_spark", engine="spark")
    on_root = _node("c_spark", "model.p.a_duck", engine="spark")
    nodes = [root, spark_root, on_root]
    graph = DbtGraph({n.unique_id: n for n in nodes}, {})
    waves = plan_waves(graph, graph.in_build_order(nodes), _engine)
    assert _names(waves) == [("duckdb", ["a_duck"]), ("spark", ["b_spark", "c_spark"])]


@pytest.mark.requirement("FLOE-381")
def test_a_node_on_one_an_earlier_wave_did_not_publish_is_skipped() -> None:
    """int (DuckDB) failed its tests: gold (Spark) reading it directly, and top reading gold,
    are skipped naming int; a Spark model reading only the published stg runs."""
    stg, int_ = _node("stg"), _node("int", "model.p.stg")
    gold = _node("gold", "model.p.int", engine="spark")
    top = _node("top", "model.p.gold", engine="spark")
    side = _node("side", "model.p.stg", engine="spark")
    nodes = [stg, int_, gold, top, side]
    graph = DbtGraph({n.unique_id: n for n in nodes}, {})
    done = {
        stg.unique_id: NodeOutcome(stg.unique_id, "stg", "model", "published"),
        int_.unique_id: NodeOutcome(int_.unique_id, "int", "model", "test_failed"),
    }
    upstream = ancestors(graph, [n.unique_id for n in nodes])
    held = held_back([gold, top, side], upstream, done)
    assert {uid: (o.name, o.status, o.message) for uid, o in held.items()} == {
        gold.unique_id: ("gold", "skipped", "an upstream node was not published (int)"),
        top.unique_id: ("top", "skipped", "an upstream node was not published (gold, int)"),
    }


@pytest.mark.requirement("FLOE-381")
@pytest.mark.requirement("FR-012")
def test_a_transform_on_another_engine_compiles_one_target_per_engine(tmp_path: Path) -> None:
    """mart_revenue on Spark, the product on the manifest's duckdb: compile writes the
    profile's ``dev`` output for DuckDB and ``dev_spark`` for Spark (the manifest's
    ``compute_configs.spark``), the artifacts carry each transform's engine and Spark's config;
    a Spark product with a transform on duckdb gets ``dev`` for Spark and ``dev_duckdb``."""
    product = write_tiny(tmp_path / "tiny", spec=MIXED_SPEC, manifest=SPARK_MANIFEST)
    ctx = compile_product(product)
    art = ctx.artifacts
    assert art is not None
    assert {t.name: t.compute for t in art.transforms} == {
        "stg_orders": "duckdb", "int_orders": "duckdb", "mart_revenue": "spark"
    }  # fmt: skip
    assert art.plugins["compute"].type == "duckdb"
    assert {k: (v.type, v.config) for k, v in art.computes.items()} == {
        "spark": ("spark", {"master": "local[2]", "conf": {"spark.driver.memory": "2g"}})
    }
    assert (art.dbt_target("duckdb"), art.dbt_target("spark")) == ("dev", "dev_spark")
    profiles = yaml.safe_load((product / "target" / "floe" / "profiles.yml").read_text())
    outputs = profiles["tiny"]["outputs"]
    assert profiles["tiny"]["target"] == "dev"
    assert sorted(outputs) == ["dev", "dev_spark"]
    assert (outputs["dev"]["type"], outputs["dev_spark"]["type"]) == ("duckdb", "spark")
    assert outputs["dev_spark"]["method"] == "session"
    spark_product = MIXED_SPEC.replace("transforms:\n", "compute: spark\ntransforms:\n").replace(
        "    tier: bronze\n", "    tier: bronze\n    compute: duckdb\n"
    )
    (product / "floe.yaml").write_text(spark_product)
    art = compile_product(product).artifacts
    assert art is not None
    assert [t.compute for t in art.transforms] == ["duckdb", "spark", "spark"]
    assert sorted(art.computes) == ["duckdb"]
    assert (art.dbt_target("spark"), art.dbt_target("duckdb")) == ("dev", "dev_duckdb")
    profiles = yaml.safe_load((product / "target" / "floe" / "profiles.yml").read_text())
    assert {k: v["type"] for k, v in profiles["tiny"]["outputs"].items()} == {
        "dev": "spark", "dev_duckdb": "duckdb"
    }  # fmt: skip


@pytest.mark.requirement("FLOE-382")
def test_an_ephemeral_model_on_another_engine_than_its_reader_is_refused(tmp_path: Path) -> None:
    """int_orders ephemeral (inlined into mart_revenue's SQL) on DuckDB while mart_revenue is
    on Spark: E695 at mart_revenue's ``compute:`` line (int_orders sets none), naming both
    models and engines, the fix putting int_orders on Spark; int_orders on Spark compiles."""
    product = write_tiny(tmp_path / "tiny", spec=MIXED_SPEC, manifest=SPARK_MANIFEST)
    sql = product / "models" / "int_orders.sql"
    sql.write_text("{{ config(materialized='ephemeral') }}\n" + sql.read_text())
    with pytest.raises(FloeError) as info:
        compile_product(product, write=False)
    (diag,) = info.value.diagnostics
    line = MIXED_SPEC.splitlines().index("    compute: spark") + 1
    assert (diag.code, diag.location.line, diag.location.col) == ("E695", line, 14)
    assert diag.field_path == "transforms[2].compute"
    assert diag.message == (
        "ephemeral model 'int_orders' is on compute 'duckdb' but 'mart_revenue' (spark) reads "
        "it: an ephemeral model is inlined into its readers' SQL, so it runs on their engine"
    )
    assert diag.hint == "set 'compute: spark' on 'int_orders' (the engine of the models reading it)"
    fixed = MIXED_SPEC.replace("    tier: silver\n", "    tier: silver\n    compute: spark\n")
    (product / "floe.yaml").write_text(fixed)
    art = compile_product(product).artifacts
    assert art is not None
    assert [t.compute for t in art.transforms] == ["duckdb", "spark", "spark"]
