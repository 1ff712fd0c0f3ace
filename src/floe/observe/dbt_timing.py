"""dbt's run results as timed nodes: the real start and end dbt reports for each node."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class DbtNode:
    """One node dbt ran (model, test, seed …) with its timing."""

    unique_id: str
    name: str
    resource_type: str
    status: str
    start_ns: int | None
    end_ns: int | None
    message: str = ""
    compiled_code: str = ""
    attached_to: str | None = None
    column: str | None = None
    test_name: str | None = None


def parse_ns(stamp: str | None) -> int | None:
    """A dbt timestamp (ISO-8601, UTC with or without ``Z``) in nanoseconds since the epoch."""
    if not stamp:
        return None
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1_000_000_000)


def _window(result: dict[str, Any]) -> tuple[int | None, int | None]:
    """From the first ``started_at`` to the last ``completed_at`` of dbt's timing entries."""
    starts = [parse_ns(t.get("started_at")) for t in result.get("timing") or []]
    ends = [parse_ns(t.get("completed_at")) for t in result.get("timing") or []]
    start = min((s for s in starts if s), default=None)
    end = max((e for e in ends if e), default=None)
    return start, end


def timed_nodes(results: list[dict[str, Any]], manifest: dict[str, Any]) -> list[DbtNode]:
    """One DbtNode per run result, in dbt's order."""
    nodes = manifest.get("nodes", {})
    out = []
    for result in results:
        uid = str(result["unique_id"])
        node = nodes.get(uid, {})
        start, end = _window(result)
        parents = node.get("depends_on", {}).get("nodes", [])
        attached = node.get("attached_node") or (parents[0] if len(parents) == 1 else None)
        meta = node.get("test_metadata") or {}
        out.append(
            DbtNode(
                unique_id=uid,
                name=str(node.get("name") or uid.rsplit(".", 1)[-1]),
                resource_type=str(node.get("resource_type") or uid.split(".", 1)[0]),
                status=str(result.get("status")),
                start_ns=start,
                end_ns=end,
                message=str(result.get("message") or ""),
                compiled_code=str(result.get("compiled_code") or node.get("compiled_code") or ""),
                attached_to=attached if node.get("resource_type") == "test" else None,
                column=node.get("column_name"),
                test_name=meta.get("name") or node.get("name"),
            )
        )
    return out
