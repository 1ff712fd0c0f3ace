"""Time travel on Iceberg tables (FR-092): run tags and ``--as-of`` resolution.

Every run tags the snapshot it published in each table (``run-<run id>``; an unchanged
incremental table gets the tag on its current snapshot), so "as of that run" is addressable.
``--as-of`` (and a dbt source's ``meta: {floe_as_of: …}``) accepts

* an integer **snapshot id**;
* a **tag or branch** name (``run-<run id>``, ``main``, …);
* an ISO-8601 **timestamp** (no zone = UTC): the snapshot that was current at that moment
  (Iceberg's snapshot log, so a rollback is part of the history).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from floe.errors import FloeError, Location

if TYPE_CHECKING:
    from pyiceberg.table import Table

E_UNKNOWN_AS_OF = "E570"
E_BEFORE_FIRST = "E571"
RUN_TAG_PREFIX = "run-"
_INTEGER = re.compile(r"^-?\d+$")


def run_tag(run_id: str) -> str:
    """The tag a run puts on the snapshots it published."""
    return f"{RUN_TAG_PREFIX}{run_id}"


def is_run_tag(name: str) -> bool:
    """True for the tags runs create (retention may drop them with their snapshot)."""
    return name.startswith(RUN_TAG_PREFIX)


def tag_run(table: Table, snapshot_id: int, run_id: str) -> None:
    """Tag ``snapshot_id`` with ``run-<run_id>`` (moved there if a retry tagged another)."""
    tag = run_tag(run_id)
    ref = table.metadata.refs.get(tag)
    if ref is not None and ref.snapshot_id == snapshot_id:
        return
    table.manage_snapshots().create_tag(snapshot_id, tag).commit()


def parse_timestamp(text: str) -> datetime | None:
    """``text`` as an aware datetime (naive = UTC), or None when it is no ISO timestamp. An
    integer is never one: Python 3.11 reads many snapshot ids as basic-format timestamps
    (``7590031111640465009`` → 7590-03-11 16:40:46.5009)."""
    if _INTEGER.match(text.strip()):
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def resolve_as_of(
    table: Table,
    as_of: str,
    *,
    location: Location | None = None,
    field_path: str = "--as-of",
) -> int:
    """The snapshot id ``as_of`` names in ``table`` (snapshot id, tag/branch or timestamp)."""
    text = as_of.strip()
    name = ".".join(table.name())
    if _INTEGER.match(text) and table.snapshot_by_id(int(text)) is not None:
        return int(text)
    ref = table.metadata.refs.get(text)
    if ref is not None:
        return ref.snapshot_id
    moment = parse_timestamp(text)
    if moment is not None:
        snap = table.snapshot_as_of_timestamp(int(moment.timestamp() * 1000))
        if snap is not None:
            return snap.snapshot_id
        first = min((e.timestamp_ms for e in table.history()), default=None)
        since = datetime.fromtimestamp(first / 1000, UTC).isoformat() if first else "never (empty)"
        if _expired(table):
            since = f"first kept: {since}; older snapshots were expired"
        else:
            since = f"first: {since}"
        raise FloeError.single(
            E_BEFORE_FIRST,
            f"{name} has no snapshot at or before {moment.isoformat()} ({since})",
            location,
            field_path=field_path,
            hint="pick a later timestamp, a snapshot id or a run tag (floe tables show lists them)",
        )
    tags = sorted(table.metadata.refs)
    shown = ", ".join(tags[:5]) + (", …" if len(tags) > 5 else "")
    gone = ""
    if is_run_tag(text) and _expired(table):
        gone = (
            "; older snapshots were expired (governance.snapshot_keep_last) and a run tag "
            "goes with its snapshot"
        )
    raise FloeError.single(
        E_UNKNOWN_AS_OF,
        f"{name} has no snapshot, tag or branch '{text}' (refs: {shown or 'none'}){gone}",
        location,
        field_path=field_path,
        hint="use a snapshot id or run-<run id> tag listed by `floe tables show`, or an ISO "
        "timestamp such as 2026-01-31T12:00:00Z",
    )


def _expired(table: Table) -> bool:
    """True when snapshots of the table were expired: it committed more snapshots (each takes
    the next sequence number, format v2) than it keeps. (Expiry also clears the parent id of
    a kept snapshot whose parent it removes, so parents cannot tell.)"""
    last = getattr(table.metadata, "last_sequence_number", 0)  # format v1 has none
    return int(last) > len(table.snapshots())


#: table properties recording rollbacks (``floe.rollback.<UTC time>`` = JSON record)
ROLLBACK_PREFIX = "floe.rollback."


def rollbacks(properties: dict[str, str]) -> list[dict[str, object]]:
    """The rollback records of a table's properties, oldest first."""
    import json

    return [json.loads(v) for k, v in sorted(properties.items()) if k.startswith(ROLLBACK_PREFIX)]
