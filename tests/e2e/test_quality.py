"""The great_expectations quality plugin in a real run (issue 16 point 2, FR-026): GX
expectations declared in floe.yaml are validated on each model's scratch table after its dbt
tests; a passing suite publishes, a failed expectation keeps the model (and what is built on
it) unpublished, and is named in the run summary, the lineage assertions and the metrics.

One module-scoped pair of runs of the tiny product serves every test: the first with a
passing suite, the second after a new seed row makes int_orders break its range."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from floe.app.run import RunSummary, run_logged
from floe.runtime.platform import catalog_for_manifest
from tests.conftest import GX_MANIFEST, TINY_SPEC, tiny_quality, write_tiny

QUALITY = tiny_quality(50)
BESIDE = "expectations:\n  - expect_table_row_count_to_be_between: {min_value: 1, max_value: 10}\n"
RANGE = "expect_column_values_to_be_between(column=amount)"
NOT_NULL = "expect_column_values_to_not_be_null(column=id)"
ROWS = "expect_table_row_count_to_be_between"


@dataclass
class Runs:
    """The product, the two runs' summaries and progress lines, and what the catalog held
    after each."""

    root: Path
    first: RunSummary
    second: RunSummary
    lines: list[str]
    snapshots: list[dict[str, int]]
    rows: list[dict[str, list[tuple[Any, ...]]]]


def _state(root: Path) -> tuple[dict[str, int], dict[str, list[tuple[Any, ...]]]]:
    """Each table's current snapshot id and sorted rows, read through the catalog."""
    catalog = catalog_for_manifest(root / "manifest.yaml")
    snapshots, rows = {}, {}
    for name in ("stg_orders", "int_orders", "mart_revenue"):
        table = catalog.load_table(f"tiny.{name}")
        current = table.current_snapshot()
        assert current is not None
        snapshots[name] = current.snapshot_id
        rows[name] = sorted(tuple(r.values()) for r in table.scan().to_arrow().to_pylist())
    return snapshots, rows


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """Run 1: amounts 20 and 40, every expectation passes (stg_orders' row count declared in
    models/stg_orders.expectations.yml, the others in floe.yaml). Run 2: a third order of 30
    (amount 60 in int_orders) breaks int_orders' range of 0..50."""
    root = write_tiny(
        tmp_path_factory.mktemp("quality") / "tiny", spec=TINY_SPEC + QUALITY, manifest=GX_MANIFEST
    )
    (root / "models" / "stg_orders.expectations.yml").write_text(BESIDE)
    lines: list[str] = []
    first, _ = run_logged(root, progress=lines.append)
    after_first = _state(root)
    (root / "seeds" / "raw_orders.csv").write_text("id,amount\n1,10\n2,20\n3,30\n")
    second, _ = run_logged(root, progress=lines.append)
    after_second = _state(root)
    return Runs(
        root, first, second, lines,
        [after_first[0], after_second[0]], [after_first[1], after_second[1]],
    )  # fmt: skip


def _model_outputs(runs: Runs, run_id: str) -> dict[str, dict[str, Any]]:
    """The run's model COMPLETE events' output dataset by table (the file lineage backend)."""
    lines = (runs.root / ".floe/lineage/events.jsonl").read_text().splitlines()
    out = {}
    for event in map(json.loads, lines):
        parent = event["run"]["facets"].get("parent", {}).get("run", {}).get("runId")
        kind = event["job"]["facets"]["jobType"]["jobType"]
        if parent == run_id and kind == "MODEL" and event["eventType"] == "COMPLETE":
            out[event["outputs"][0]["name"]] = event["outputs"][0]
    return out


def _assertions(output: dict[str, Any]) -> set[tuple[str, str | None, bool]]:
    facet = output["facets"]["dataQualityAssertions"]["assertions"]
    return {(a["assertion"], a.get("column"), a["success"]) for a in facet}


@pytest.mark.requirement("FR-026")
def test_a_passing_suite_publishes_every_model(runs: Runs) -> None:
    """Run 1: the three expectations pass on the scratch tables, every model is published
    with its rows; the summary counts the three checks beside the dbt tests; the progress
    lines name each passing expectation."""
    first = runs.first
    assert first.success, first.failure
    assert first.checks_passed == 3
    assert first.tests_passed == 5  # the tiny product's dbt tests
    assert runs.rows[0] == {
        "stg_orders": [(1, 10), (2, 20)],
        "int_orders": [(1, 20), (2, 40)],
        "mart_revenue": [(60,)],
    }
    passed = [line for line in runs.lines[: _second_start(runs)] if line.startswith("PASS great")]
    assert sorted(passed) == sorted(
        [
            f"PASS great_expectations {RANGE} on int_orders",
            f"PASS great_expectations {ROWS} on stg_orders",
            f"PASS great_expectations {NOT_NULL} on stg_orders",
        ]
    )


def _second_start(runs: Runs) -> int:
    """Index of the second run's first progress line about stg_orders' checks."""
    marks = [i for i, line in enumerate(runs.lines) if f"{NOT_NULL} on stg_orders" in line]
    return marks[1]


@pytest.mark.requirement("FLOE-304")
def test_a_failed_expectation_blocks_publishing_and_is_named(runs: Runs) -> None:
    """Run 2: int_orders' dbt tests pass but its range expectation fails on the scratch table
    (60 > 50): int_orders and mart_revenue built on it keep their snapshots and rows, while
    stg_orders publishes its 3 rows; the run fails and the summary names the expectation,
    where floe.yaml declares it and the unexpected value."""
    second = runs.second
    assert not second.success
    assert [a.name for a in second.assets] == ["raw_orders", "stg_orders"]
    before, after = runs.snapshots
    assert after["int_orders"] == before["int_orders"]
    assert after["mart_revenue"] == before["mart_revenue"]
    assert after["stg_orders"] != before["stg_orders"]
    assert runs.rows[1] == {
        "stg_orders": [(1, 10), (2, 20), (3, 30)],
        "int_orders": [(1, 20), (2, 40)],
        "mart_revenue": [(60,)],
    }
    line = len(TINY_SPEC.splitlines()) + 6  # the int_orders expectation in floe.yaml
    assert (
        f"int_orders: test_failed: expectation failed: {RANGE} (floe.yaml:{line}:9) — "
        "1 of 3 values unexpected, e.g. [60]" in second.failure
    )
    assert "mart_revenue: skipped: an upstream node was not published (int_orders)" in (
        second.failure
    )
    assert (
        f"FAIL great_expectations {RANGE} on int_orders: 1 of 3 values unexpected, e.g. [60]"
        in (runs.lines)
    )


@pytest.mark.requirement("FLOE-304")
def test_expectations_are_lineage_assertions_beside_dbt_tests(runs: Runs) -> None:
    """The models' OpenLineage dataQualityAssertions facets carry the expectations beside the
    dbt tests: all passing in run 1; in run 2 int_orders' range failed (its dbt not_null
    tests still passed)."""
    first = _model_outputs(runs, runs.first.run_id)
    assert _assertions(first["tiny.stg_orders"]) == {
        ("not_null", "id", True), ("unique", "id", True),
        (NOT_NULL, "id", True), (ROWS, None, True),
    }  # fmt: skip
    assert (RANGE, "amount", True) in _assertions(first["tiny.int_orders"])
    second = _model_outputs(runs, runs.second.run_id)
    assert _assertions(second["tiny.int_orders"]) == {
        ("not_null", "id", True), ("not_null", "amount", True), (RANGE, "amount", False),
    }  # fmt: skip


@pytest.mark.requirement("FLOE-304")
def test_expectation_results_are_in_the_record_and_metrics(runs: Runs) -> None:
    """The run record lists each model's checks and the failed expectation among its failed
    tests; floe_quality_checks counts per model, check and result over both runs."""
    from floe.observe.metrics import registry_for

    record = json.loads((runs.root / ".floe/runs" / runs.second.run_id / "record.json").read_text())
    nodes = {n["name"]: n for n in record["nodes"]}
    assert nodes["int_orders"]["status"] == "test_failed"
    assert nodes["int_orders"]["failed_tests"] == [RANGE]
    assert nodes["int_orders"]["checks"] == [{"check": RANGE, "success": False}]
    assert record["tests_failed"] == 1
    registry = registry_for(runs.root / ".floe/runs")

    def count(model: str, check: str, result: str) -> float | None:
        labels = {"product": "tiny", "model": model, "check": check, "result": result}
        return registry.get_sample_value("floe_quality_checks_total", labels)

    assert count("int_orders", RANGE, "passed") == 1
    assert count("int_orders", RANGE, "failed") == 1
    assert count("stg_orders", NOT_NULL, "passed") == 2
    assert count("stg_orders", ROWS, "passed") == 2
    assert count("stg_orders", NOT_NULL, "failed") is None
