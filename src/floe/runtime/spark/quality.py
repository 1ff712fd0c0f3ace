"""Quality checks (floe.yaml ``quality.expectations``) on Spark: validated on the audit branch.

After dbt's data tests ran on the branches, each model that passed them and declares checks
is validated by the quality plugin (e.g. Great Expectations) on **the rows of its branch
snapshot**, read with PyIceberg into Arrow — the same ``QualityPlugin.validate(table, data,
checks)`` call, the same Arrow types and the same in-memory pandas validation as on DuckDB
(whose scratch table is read the same way), so a check gives the same result on both
engines. A failed check makes the model ``test_failed``: ``main`` is not fast-forwarded, the
branch stays for inspection, what is built on the model is held back.

Why not GX's Spark datasource on the session's DataFrame: it validates only the expectations
GX implements for Spark (a different set than the pandas ones compile accepts), its results
and unexpected examples are rendered differently, and it would tie the plugin API to PySpark.
The cost is the rows in memory: the same bound as on DuckDB.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from floe.runtime.dbt_graph import DbtNode
from floe.runtime.runner import NodeOutcome, RunSpec, quality_checks

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog


def validate_branches(
    spec: RunSpec,
    catalog: Catalog,
    outcomes: list[NodeOutcome],
    nodes: Mapping[str, DbtNode],
    branches: Mapping[str, tuple[str, int]],
) -> None:
    """Validate the declared checks of every passed node on its branch snapshot
    (``branches``: unique id → (table, snapshot id)); a failure marks its outcome."""

    def read(node: DbtNode) -> Any:
        identifier, snapshot = branches[node.unique_id]
        return catalog.load_table(identifier).scan(snapshot_id=snapshot).to_arrow()

    checks = quality_checks(spec, read)
    if not checks:
        return
    for outcome in outcomes:
        if outcome.status == "passed" and outcome.unique_id in branches:
            node = nodes[outcome.unique_id]
            all(ok(node, outcome) for ok in checks)
