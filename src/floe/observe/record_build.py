"""The run record of an observed run (read back by ``floe metrics serve``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from floe.observe.observer import RunObserver
    from floe.runtime.runner import NodeOutcome


def _node(outcome: NodeOutcome, seconds: dict[str, float], tiers: dict[str, str]) -> dict[str, Any]:
    pub = outcome.publish
    return {
        "unique_id": outcome.unique_id,
        "name": outcome.name,
        "kind": outcome.kind,
        "tier": tiers.get(outcome.unique_id, "raw"),
        "status": outcome.status,
        "seconds": seconds.get(outcome.unique_id),
        "rows": pub.rows_total if pub else None,
        "rows_written": pub.rows_written if pub else 0,
        "table": pub.identifier if pub else None,
        "snapshot_id": str(pub.snapshot_id) if pub and pub.snapshot_id is not None else None,
        "tests_passed": outcome.tests_passed,
        "failed_tests": list(outcome.failed_tests),
        "checks": [{"check": r.name, "success": r.success} for r in outcome.checks],
    }


def run_record(obs: RunObserver, end_ns: int, ok: bool) -> dict[str, Any]:
    """Facts of the run: status, duration, and per node status, dbt seconds, rows, snapshot."""
    seconds = {
        n.unique_id: (n.end_ns - n.start_ns) / 1e9
        for n in obs.nodes
        if n.start_ns is not None and n.end_ns is not None
    }
    outcomes = obs.report.outcomes if obs.report else []
    nodes = [_node(o, seconds, obs.tiers) for o in outcomes]
    return {
        "run_id": obs.run_id,
        "product": obs.artifacts.metadata.product,
        "namespace": obs.artifacts.metadata.namespace,
        "status": "success" if ok else "failed",
        "started_at": obs.started_ns / 1e9,
        "ended_at": end_ns / 1e9,
        "duration_seconds": (end_ns - obs.started_ns) / 1e9,
        "trace_id": obs.trace_id,
        "nodes": nodes,
        "tests_failed": sum(len(n["failed_tests"]) for n in nodes),
        "observe_seconds": round(obs.overhead, 4),
    }
