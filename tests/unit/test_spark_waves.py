"""Which incremental models floe merges by key on Spark, and the waves of the build around
them (floe.runtime.spark.incremental; no Spark needed)."""

from __future__ import annotations

from typing import Any

import pytest

from floe.runtime.dbt_graph import DbtGraph, DbtNode, Relation
from floe.runtime.spark.incremental import KeyedMerge, ancestors, unique_key, waves


def _node(name: str, *parents: str, kind: str = "table", **config: Any) -> DbtNode:
    return DbtNode(
        unique_id=f"model.p.{name}",
        name=name,
        resource_type="model",
        materialization=kind,
        relation=None if kind == "ephemeral" else Relation("", "main", name),
        path=f"models/{name}.sql",
        package="p",
        depends_on=tuple(f"model.p.{p}" for p in parents),
        config={"materialized": kind, **config},
    )


@pytest.mark.requirement("FLOE-341")
def test_the_key_applies_to_incremental_models_on_dbts_default_strategy() -> None:
    """A ``unique_key`` (one column or a list) of an incremental model without a strategy is
    merged by; an explicit strategy (``append`` ignores the key on both engines), a table
    model, or no key: none."""
    assert unique_key(_node("a", kind="incremental", unique_key="id")) == ["id"]
    assert unique_key(_node("b", kind="incremental", unique_key=["k1", "k2"])) == ["k1", "k2"]
    assert unique_key(_node("c", kind="incremental")) == []
    assert unique_key(_node("d", kind="incremental", unique_key="id",
                            incremental_strategy="append")) == []  # fmt: skip
    assert unique_key(_node("e", unique_key="id")) == []
    assert KeyedMerge(batch=5, replaced=2).inserted == 3


@pytest.mark.requirement("FLOE-341")
def test_waves_stop_before_what_reads_a_keyed_model() -> None:
    """stg → inc (keyed) → eph (ephemeral) → mart, and a side table: the first wave builds
    everything but what reads ``inc`` (through the ephemeral model too); a second keyed model
    on ``inc`` makes a third wave; no keyed model is one wave in the given order."""
    stg = _node("stg")
    inc = _node("inc", "stg", kind="incremental", unique_key="id")
    eph = _node("eph", "inc", kind="ephemeral")
    mart = _node("mart", "eph")
    side = _node("side", "stg")
    inc2 = _node("inc2", "inc", kind="incremental", unique_key="id")
    top = _node("top", "inc2")
    nodes = [stg, inc, eph, mart, side, inc2, top]
    graph = DbtGraph({n.unique_id: n for n in nodes}, {})
    building = [n for n in nodes if n.materialization != "ephemeral"]
    keyed = {inc.unique_id, inc2.unique_id}
    names = [[n.name for n in wave] for wave in waves(graph, building, keyed)]
    assert names == [["stg", "inc", "side"], ["mart", "inc2"], ["top"]]
    assert [[n.name for n in w] for w in waves(graph, building, set())] == [
        ["stg", "inc", "mart", "side", "inc2", "top"]
    ]
    assert ancestors(graph, [mart.unique_id])[mart.unique_id] == {
        eph.unique_id, inc.unique_id, stg.unique_id}  # fmt: skip
