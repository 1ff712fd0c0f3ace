"""Run records: one JSON file per run in the platform home (what metrics are computed from)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RECORD = "record.json"


def write_record(runs_dir: Path, record: dict[str, Any]) -> Path:
    """``<home>/runs/<run_id>/record.json``."""
    path = runs_dir / str(record["run_id"]) / RECORD
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1, sort_keys=True), encoding="utf-8")
    return path


def read_records(runs_dir: Path) -> list[dict[str, Any]]:
    """Every run record, oldest first."""
    records = []
    for path in runs_dir.glob(f"*/{RECORD}"):
        try:
            records.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return sorted(records, key=lambda r: (r.get("started_at", 0), r.get("run_id", "")))


def annotate_record(runs_dir: Path, run_id: str, fields: dict[str, Any]) -> Path | None:
    """Add ``fields`` to the record of ``run_id`` (None when the run wrote no record)."""
    path = runs_dir / run_id / RECORD
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return write_record(runs_dir, {**record, **fields})
