"""A run observed over the wire: OTLP spans, OpenLineage events, the Iceberg snapshot summary."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from floe.app.run import RunSummary, run
from tests.conftest import ROOT, TINY_MANIFEST, TINY_MODELS, write_tiny
from tests.e2e.obs_servers import Received, http_receiver

SCHEMA = json.loads((ROOT / "tests/data/openlineage/OpenLineage.json").read_text())
MODELS = {"stg_orders", "int_orders", "mart_revenue"}
TESTS = 5  # not_null/unique on stg_orders.id, not_null ×2 on int_orders, not_null on revenue


def observed_manifest(url: str) -> str:
    """The tiny manifest with OTLP/HTTP telemetry and HTTP lineage at ``url``."""
    return TINY_MANIFEST.replace(
        "  storage:\n    type: local\n",
        "  storage:\n    type: local\n"
        f"  telemetry_backend:\n    type: otlp\n    config: {{endpoint: '{url}'}}\n"
        f"  lineage_backend:\n    type: http\n    config: {{url: '{url}'}}\n",
    )


@dataclass
class Observed:
    """One observed run of the tiny product."""

    root: Path
    summary: RunSummary
    got: Received

    def spans(self, prefix: str) -> list[dict[str, Any]]:
        """Spans whose name starts with ``prefix``."""
        return [s for s in self.got.spans if s["name"].startswith(prefix)]

    def root_span(self) -> dict[str, Any]:
        """The ``floe.run`` span."""
        (span,) = self.spans("floe.run")
        return span


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> Observed:
    """The tiny product run once with the manifest's backends at a local receiver."""
    with http_receiver() as (url, got):
        root = write_tiny(tmp_path_factory.mktemp("obs") / "tiny", manifest=observed_manifest(url))
        summary = run(root)
    return Observed(root, summary, got)


@pytest.mark.requirement("FR-040")
def test_one_trace_per_run_with_the_phase_structure(observed: Observed) -> None:
    """Every span of the run shares one trace id; floe.run is the root, the build (one
    ``dbt build`` of seeds, models and tests) and publish phases are its children, the service
    is named after the product."""
    assert observed.summary.success
    # a compile of this process that preceded the run is its own trace (`compile`, FLOE-006):
    # when another test of this worker compiled in-process, the run hands those spans over too
    spans = [s for s in observed.got.spans if s["name"].split(".")[0] != "compile"]
    root = observed.root_span()
    assert {s["trace_id"] for s in spans} == {root["trace_id"]}
    assert root["parent_span_id"] is None
    assert root["attributes"]["floe.product"] == "tiny"
    assert root["attributes"]["dagster.run_id"] == observed.summary.run_id
    assert root["attributes"]["floe.run_id"] == observed.summary.run_id
    assert {s["service"] for s in spans} == {"floe-tiny"}
    phases = Counter(s["name"] for s in spans if s["parent_span_id"] == root["span_id"])
    assert phases == {"floe.build": 1, "floe.publish": 1}


@pytest.mark.requirement("TQR-023")
@pytest.mark.requirement("FR-040")
@pytest.mark.requirement("GAP-004")
def test_one_span_per_model_and_test_timed_by_dbt(observed: Observed) -> None:
    """Exactly one span per dbt model and per dbt test, children of floe.build, with dbt's
    start/end (duration > 0, inside the build span) and the model's facts as attributes."""
    (build,) = observed.spans("floe.build")
    models = observed.spans("dbt.model ")
    tests = observed.spans("dbt.test ")
    assert Counter(s["attributes"]["dbt.unique_id"] for s in models) == {
        f"model.tiny.{m}": 1 for m in MODELS
    }
    assert len(tests) == TESTS
    assert len({s["attributes"]["dbt.unique_id"] for s in tests}) == TESTS
    for span in models + tests:
        assert span["parent_span_id"] == build["span_id"]
        assert span["end_ns"] > span["start_ns"]
        assert build["start_ns"] <= span["start_ns"] <= span["end_ns"] <= build["end_ns"]
    by_name = {s["name"].split(" ", 1)[1]: s["attributes"] for s in models}
    assert by_name["stg_orders"]["floe.tier"] == "bronze"
    assert by_name["mart_revenue"]["floe.tier"] == "gold"
    assert by_name["stg_orders"]["floe.rows"] == 2
    assert by_name["mart_revenue"]["floe.rows"] == 1
    assert by_name["int_orders"]["iceberg.table"] == "tiny.int_orders"
    assert by_name["int_orders"]["dbt.status"] == "success"
    published = {a.name: a.snapshot_id for a in observed.summary.assets}
    for name in MODELS:
        assert by_name[name]["iceberg.snapshot_id"] == published[name]


@pytest.mark.requirement("TQR-022")
@pytest.mark.requirement("FR-020")
def test_models_ran_in_dependency_order(observed: Observed) -> None:
    """The run's Dagster job had dbt build every model only after the models it refs had
    finished (the refs read from the product's SQL), as dbt's own timings on the spans show."""
    spans = {s["name"].split(" ", 1)[1]: s for s in observed.spans("dbt.model ")}
    refs = {
        name.removesuffix(".sql"): set(re.findall(r"ref\('(\w+)'\)", sql)) & MODELS
        for name, sql in TINY_MODELS.items()
    }
    assert refs["mart_revenue"] == {"int_orders"}
    assert refs["int_orders"] == {"stg_orders"}
    for model, upstream in refs.items():
        for ref in upstream:
            assert spans[ref]["end_ns"] <= spans[model]["start_ns"], (ref, model)


@pytest.mark.requirement("FR-042")
def test_snapshot_summary_carries_the_trace_id(observed: Observed) -> None:
    """The Iceberg snapshot of every published table names the run's trace id."""
    from floe.runtime.platform import catalog_for_manifest

    catalog = catalog_for_manifest(observed.root / "manifest.yaml")
    trace_id = observed.root_span()["trace_id"]
    for name in [*MODELS, "raw_orders"]:
        snapshot = catalog.load_table(f"tiny.{name}").current_snapshot()
        assert snapshot is not None
        assert snapshot.summary["floe.trace_id"] == trace_id


@pytest.mark.requirement("TQR-023")
@pytest.mark.requirement("FR-041")
@pytest.mark.requirement("GAP-005")
@pytest.mark.requirement("SC-005")
def test_lineage_events_are_valid_at_the_four_emission_points(observed: Observed) -> None:
    """Every event validates against the OpenLineage schema; START and COMPLETE arrive for the
    pipeline run, each dbt model (START while dbt runs) and each Dagster asset
    materialization."""
    events = observed.got.events
    for event in events:
        jsonschema.validate(event, SCHEMA)
    kinds = Counter((e["job"]["facets"]["jobType"]["jobType"], e["eventType"]) for e in events)
    assert kinds == {
        ("JOB", "START"): 1, ("JOB", "COMPLETE"): 1,
        ("MODEL", "START"): 3, ("MODEL", "COMPLETE"): 3,
        ("ASSET", "START"): 4, ("ASSET", "COMPLETE"): 4,
    }  # fmt: skip
    assert {e["job"]["namespace"] for e in events} == {"tiny"}
    model = [e["eventType"] for e in events if e["job"]["facets"]["jobType"]["jobType"] == "MODEL"]
    assert model == ["START"] * 3 + ["COMPLETE"] * 3  # STARTs sent live, as dbt starts each
    pipeline = [e for e in events if e["job"]["name"] == "tiny_job"]
    assert {e["run"]["runId"] for e in pipeline} == {observed.summary.run_id}


@pytest.mark.requirement("TQR-023")
@pytest.mark.requirement("FR-042")
def test_lineage_carries_the_trace_and_links_to_the_pipeline_run(observed: Observed) -> None:
    """Each event's floe_trace facet holds the run's trace id; a model's events carry its
    model span id; model and asset runs name the pipeline run as their parent."""
    trace_id = observed.root_span()["trace_id"]
    span_ids = {s["name"].split(" ", 1)[1]: s["span_id"] for s in observed.spans("dbt.model ")}
    for event in observed.got.events:
        facet = event["run"]["facets"]["floe_trace"]
        assert facet["traceId"] == trace_id
        kind = event["job"]["facets"]["jobType"]["jobType"]
        if kind == "MODEL":
            assert facet["spanId"] == span_ids[event["job"]["name"].split(".", 1)[1]]
        if kind != "JOB":
            parent = event["run"]["facets"]["parent"]
            assert parent["run"]["runId"] == observed.summary.run_id
            assert (parent["job"]["namespace"], parent["job"]["name"]) == ("tiny", "tiny_job")


def _completed(observed: Observed, kind: str) -> dict[str, dict[str, Any]]:
    return {
        e["outputs"][0]["name"]: e["outputs"][0]
        for e in observed.got.events
        if e["eventType"] == "COMPLETE" and e["job"]["facets"]["jobType"]["jobType"] == kind
    }


@pytest.mark.requirement("FR-041")
def test_model_datasets_are_iceberg_tables_with_facets(observed: Observed) -> None:
    """Datasets are named by the Iceberg catalog and table (never a DuckDB file) and carry the
    schema, the row count, the dbt tests as assertions and column lineage from the SQL."""
    outputs = _completed(observed, "MODEL")
    assert set(outputs) == {f"tiny.{m}" for m in MODELS}
    for out in outputs.values():
        assert out["namespace"] == "iceberg://floe"
        assert ".duckdb" not in json.dumps(out)
        assert out["facets"]["catalog"]["framework"] == "iceberg"
    stg = outputs["tiny.stg_orders"]
    assert [f["name"] for f in stg["facets"]["schema"]["fields"]] == ["id", "amount"]
    assert stg["outputFacets"]["outputStatistics"]["rowCount"] == 2
    checks = {(a["assertion"], a["column"], a["success"])
              for a in stg["facets"]["dataQualityAssertions"]["assertions"]}  # fmt: skip
    assert checks == {("not_null", "id", True), ("unique", "id", True)}
    revenue = outputs["tiny.mart_revenue"]["facets"]["columnLineage"]["fields"]["revenue"]
    assert revenue["inputFields"] == [
        {"namespace": "iceberg://floe", "name": "tiny.int_orders", "field": "amount",
         "transformations": []}
    ]  # fmt: skip
    starts = [e for e in observed.got.events if e["eventType"] == "START"]
    model_start = next(e for e in starts if e["job"]["name"] == "tiny.int_orders")
    assert [i["name"] for i in model_start["inputs"]] == ["tiny.stg_orders"]


@pytest.mark.requirement("FR-041")
def test_asset_materializations_name_the_published_tables(observed: Observed) -> None:
    """The asset-materialization events list each published table with its row count."""
    outputs = _completed(observed, "ASSET")
    rows = {name: out["outputFacets"]["outputStatistics"]["rowCount"]
            for name, out in outputs.items()}  # fmt: skip
    assert rows == {a.table: a.rows for a in observed.summary.assets}


@pytest.mark.requirement("FR-041")
def test_a_failing_model_sends_fail_events_and_marks_the_trace(tmp_path: Path) -> None:
    """A model whose SQL breaks: its COMPLETE becomes FAIL with dbt's error message, the
    pipeline run ends in FAIL, the model span and the root span are errors, and the run
    record says failed."""
    with http_receiver() as (url, got):
        root = write_tiny(tmp_path / "tiny", manifest=observed_manifest(url))
        (root / "models" / "mart_revenue.sql").write_text(
            "select sum(no_such_column) as revenue from {{ ref('int_orders') }}\n"
        )
        summary = run(root)
    assert not summary.success
    for event in got.events:
        jsonschema.validate(event, SCHEMA)
    ends = {e["job"]["name"]: e for e in got.events if e["eventType"] != "START"}
    mart = ends["tiny.mart_revenue"]
    assert mart["eventType"] == "FAIL"
    assert "no_such_column" in mart["run"]["facets"]["errorMessage"]["message"]
    assert ends["tiny.int_orders"]["eventType"] == "COMPLETE"
    assert ends["tiny_job"]["eventType"] == "FAIL"
    spans = {s["name"]: s for s in got.spans}
    assert spans["dbt.model mart_revenue"]["status"] == 2  # STATUS_CODE_ERROR
    assert spans["dbt.model int_orders"]["status"] != 2
    assert spans["floe.run"]["status"] == 2
    assert spans["floe.run"]["attributes"]["floe.status"] == "failed"
    record = json.loads((root / ".floe/runs" / summary.run_id / "record.json").read_text())
    assert record["status"] == "failed"
    assert {n["name"]: n["status"] for n in record["nodes"]}["mart_revenue"] == "error"


@pytest.mark.requirement("FR-046")
def test_otel_sdk_disabled_runs_without_trace_ids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OTEL_SDK_DISABLED=true: the run succeeds, exports no span, writes no zero trace id into
    snapshots, and its lineage events carry no trace facet."""
    from floe.runtime.platform import catalog_for_manifest

    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    root = write_tiny(tmp_path / "tiny")
    summary = run(root)
    assert summary.success
    assert not (root / ".floe/telemetry/spans.jsonl").exists()
    snapshot = catalog_for_manifest(root / "manifest.yaml").load_table("tiny.stg_orders")
    assert snapshot.current_snapshot() is not None
    assert "floe.trace_id" not in snapshot.current_snapshot().summary.additional_properties
    lines = (root / ".floe/lineage/events.jsonl").read_text().splitlines()
    events = [json.loads(line) for line in lines]
    assert len(events) == 16
    assert all("floe_trace" not in e["run"]["facets"] for e in events)
