"""What Dagster records for a published table (the asset materialization's metadata)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import dagster as dg

from floe.runtime.runner import NodeOutcome


def materializations(
    outcomes: Iterable[NodeOutcome],
    ns: str,
    details: Callable[[NodeOutcome], dict[str, Any]],
) -> Iterator[dg.MaterializeResult[Any]]:
    """One materialization per published outcome: the Iceberg table's rows, snapshot and write
    mode, plus ``details(outcome)`` (what produced it: dbt's node, an ingestion resource)."""
    for outcome in outcomes:
        if outcome.status != "published" or outcome.publish is None:
            continue
        pub = outcome.publish
        yield dg.MaterializeResult(
            asset_key=dg.AssetKey([ns, outcome.name]),
            metadata={
                "row_count": dg.MetadataValue.int(pub.rows_total),
                "rows_written": dg.MetadataValue.int(pub.rows_written),
                "table": dg.MetadataValue.text(pub.identifier),
                "snapshot_id": dg.MetadataValue.text(str(pub.snapshot_id)),
                "mode": dg.MetadataValue.text(pub.mode),
                **details(outcome),
            },
        )
