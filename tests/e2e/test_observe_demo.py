"""The three demo products, observed: valid lineage with column lineage on real SQL, one span
per model, and the CLI trees showing every product's run."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import jsonschema
import pytest

from tests.conftest import PRODUCTS, ROOT, floe_cli
from tests.e2e.conftest import Platform

SCHEMA = json.loads((ROOT / "tests/data/openlineage/OpenLineage.json").read_text())
MARTS = {
    "customer-360": "customer_360.mart_customer_360",
    "iot-telemetry": "iot_telemetry.mart_equipment_health",
    "financial-risk": "financial_risk.mart_risk_dashboard",
}


def _events(platform: Platform) -> list[dict[str, Any]]:
    path = platform.root / ".floe" / "lineage" / "events.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _spans(platform: Platform) -> list[dict[str, Any]]:
    path = platform.root / ".floe" / "telemetry" / "spans.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _parent_run(event: dict[str, Any]) -> str:
    parent = event["run"].get("facets", {}).get("parent")
    return str(parent["run"]["runId"]) if parent else str(event["run"]["runId"])


@pytest.mark.requirement("FR-041")
def test_demo_lineage_is_valid_and_names_iceberg_tables(demo_platform: Platform) -> None:
    """Every event of the three first runs validates; each model has one START and one
    COMPLETE; each mart's columns trace back to upstream Iceberg tables."""
    events = _events(demo_platform)
    for event in events:
        jsonschema.validate(event, SCHEMA)
    for product in PRODUCTS:
        summary = demo_platform.first[product]
        runs = [e for e in events if e["job"]["namespace"] == product
                and _parent_run(e) == summary.run_id]  # fmt: skip
        models = Counter((e["job"]["name"], e["eventType"]) for e in runs
                         if e["job"]["facets"]["jobType"]["jobType"] == "MODEL")  # fmt: skip
        names = {a.table for a in summary.assets if a.tier != "raw"}
        assert models == {(n, s): 1 for n in names for s in ("START", "COMPLETE")}
        mart = next(e for e in runs if e["eventType"] == "COMPLETE"
                    and e["job"]["name"] == MARTS[product])  # fmt: skip
        out = mart["outputs"][0]
        assert (out["namespace"], out["name"]) == ("iceberg://floe", MARTS[product])
        sources = {f["name"] for col in out["facets"]["columnLineage"]["fields"].values()
                   for f in col["inputFields"]}  # fmt: skip
        prefix = MARTS[product].split(".")[0] + "."
        assert sources
        assert all(s.startswith(prefix) and s != MARTS[product] for s in sources)


@pytest.mark.requirement("FR-040")
def test_demo_runs_have_one_span_per_model(demo_platform: Platform) -> None:
    """Each product's first run is one trace with exactly one dbt.model span per model."""
    spans = _spans(demo_platform)
    for product in PRODUCTS:
        summary = demo_platform.first[product]
        (root,) = [s for s in spans if s["name"] == "floe.run"
                   and s["attributes"]["floe.run_id"] == summary.run_id]  # fmt: skip
        models = [s for s in spans if s["trace_id"] == root["trace_id"]
                  and s["name"].startswith("dbt.model ")]  # fmt: skip
        expected = sorted(a.name for a in summary.assets if a.tier != "raw")
        assert sorted(s["name"].split(" ", 1)[1] for s in models) == expected
        assert all(s["end_ns"] > s["start_ns"] for s in models)
        assert {s["service"] for s in spans if s["trace_id"] == root["trace_id"]} == {
            f"floe-{product}"
        }


@pytest.mark.requirement("FR-048")
def test_traces_and_lineage_show_every_demo_product(demo_platform: Platform) -> None:
    """`floe traces show` draws the three products' runs; `floe lineage show` each graph."""
    manifest = demo_platform.root / "manifest.yaml"
    traces = floe_cli("traces", "show", "-m", manifest)
    assert traces.code == 0, traces.err
    for product in PRODUCTS:
        assert f"{product} run {demo_platform.first[product].run_id}" in traces.out
        lineage = floe_cli("lineage", "show", product, "-m", manifest)
        assert lineage.code == 0, lineage.err
        assert f"job {MARTS[product]} COMPLETE" in lineage.out
