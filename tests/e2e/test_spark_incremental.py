"""Incremental models on Spark publish only what they add (issue 13, incremental point):
``is_incremental()`` reads the published rows (the table copied into the scratch at its current
snapshot), dbt's ``append`` strategy adds to them, and the audit branch — started at that
snapshot — receives only the added rows as one ``append`` snapshot, fast-forwarded to ``main``.
The seed and model are the incremental corpus project's (tests/data/dbt-projects/incremental:
``events`` and ``events_append``), its seed's text column typed ``string`` for Spark."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from tests.e2e.spark import catalog_of, run_in
from tests.unit.test_compute_spark import SPARK_MANIFEST

CORPUS = Path(__file__).resolve().parents[1] / "data" / "dbt-projects" / "incremental"
SPEC = """\
apiVersion: floe.dev/v1
kind: FloeSpec
metadata: {name: events, version: 0.1.0, owner: data@example.com}
platform: {manifest: manifest.yaml}
compute: spark
transforms:
  - {name: events_append, tier: bronze}
"""


def _product(root: Path) -> Path:
    (root / "models").mkdir(parents=True)
    (root / "seeds").mkdir()
    project = (CORPUS / "dbt_project.yml").read_text()
    assert "kind: varchar\n" in project
    project = project.replace("kind: varchar\n", "kind: string\n")
    (root / "dbt_project.yml").write_text(project.replace("corpus_incremental", "events"))
    shutil.copy(CORPUS / "models" / "events_append.sql", root / "models")
    shutil.copy(CORPUS / "seeds" / "events.csv", root / "seeds")
    (root / "floe.yaml").write_text(SPEC)
    (root / "manifest.yaml").write_text(SPARK_MANIFEST)
    return root


def _csv(path: Path) -> list[tuple[int, str]]:
    with path.open(newline="") as handle:
        return [(int(r["event_id"]), r["loaded_at"]) for r in csv.DictReader(handle)]


@pytest.mark.timeout(900)
@pytest.mark.requirement("FLOE-133")
def test_an_append_incremental_model_on_spark_publishes_only_the_added_rows(
    tmp_path: Path,
) -> None:
    """First run: the five events of round 1 replace the empty table. Second run on round 2's
    seed: dbt appends the events loaded after round 1's latest load to the published rows; the
    table's new snapshot is an ``append`` of exactly those rows on top of the first run's
    snapshot, tagged with the second run, and ``main`` holds round 1's rows plus them."""
    product = _product(tmp_path / "events")
    first = run_in(product)
    assert first.success, first.failure
    round1 = _csv(CORPUS / "seeds" / "events.csv")
    table = catalog_of(product).load_table("events.events_append")
    first_snapshot = table.current_snapshot()
    assert first_snapshot.summary["floe.run_id"] == first.run_id
    assert sorted(table.scan().to_arrow()["event_id"].to_pylist()) == sorted(e for e, _ in round1)

    shutil.copy(CORPUS / "round2" / "seeds" / "events.csv", product / "seeds" / "events.csv")
    second = run_in(product)
    assert second.success, second.failure
    latest = max(at for _, at in round1)
    added = [e for e, at in _csv(product / "seeds" / "events.csv") if at > latest]
    assert len(added) == 4
    table = catalog_of(product).load_table("events.events_append")
    snapshot = table.current_snapshot()
    assert snapshot.parent_snapshot_id == first_snapshot.snapshot_id
    assert snapshot.summary.operation.value == "append"
    assert snapshot.summary["added-records"] == str(len(added))
    assert snapshot.summary["floe.run_id"] == second.run_id
    assert table.metadata.refs[f"run-{second.run_id}"].snapshot_id == snapshot.snapshot_id
    assert sorted(table.scan().to_arrow()["event_id"].to_pylist()) == sorted(
        [e for e, _ in round1] + added
    )
    row = next(a for a in second.assets if a.name == "events_append")
    assert (row.status, row.rows) == ("published", len(round1) + len(added))
