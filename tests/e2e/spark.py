"""Helpers of the Spark tests: a ``floe run`` on its own platform home, and tables compared
across engines by an order-free checksum of their values."""

from __future__ import annotations

import hashlib
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from floe.app.run import RunSummary, run


def catalog_of(product: Path, manifest: str = "manifest.yaml") -> Any:
    """The Iceberg catalog of the platform ``product``'s manifest names."""
    from floe.runtime.platform import catalog_for_manifest

    return catalog_for_manifest(product / manifest)


def value(v: Any) -> Any:
    """A number as its normalised decimal text: the engines agree on values, not on every
    type (DuckDB's sum of bigints is a decimal(38,0), Spark's a bigint)."""
    if isinstance(v, bool) or not isinstance(v, int | float | Decimal):
        return v
    return str(Decimal(repr(v) if isinstance(v, float) else v).normalize())


def checksum(table: Any, run_id: str | None = None, ref: str | None = None) -> tuple[int, str]:
    """Row count and an order-free digest of the rows (each row as sorted column=value text),
    current, as the run ``run_id`` published them (its ``run-<id>`` tag) or at the branch or
    tag ``ref``."""
    name = ref or (f"run-{run_id}" if run_id else None)
    snapshot = table.metadata.refs[name].snapshot_id if name else None
    rows = table.scan(snapshot_id=snapshot).to_arrow().to_pylist()
    lines = sorted(repr(sorted((k, value(v)) for k, v in r.items())) for r in rows)
    return len(rows), hashlib.md5("\n".join(lines).encode()).hexdigest()


def run_in(product: Path, home: Path | None = None) -> RunSummary:
    """``floe run`` of ``product`` with its own platform home (beside it unless ``home``)."""
    saved = os.environ.get("FLOE_HOME")
    os.environ["FLOE_HOME"] = str(home or product / ".floe")
    try:
        return run(product)
    finally:
        if saved is None:
            os.environ.pop("FLOE_HOME", None)
        else:
            os.environ["FLOE_HOME"] = saved
