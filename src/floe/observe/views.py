"""Trees of what the embedded backends recorded: span trees of runs, lineage graphs."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from rich.tree import Tree

SHOWN_ATTRS = {
    "floe.tier": "tier",
    "floe.rows": "rows",
    "iceberg.snapshot_id": "snapshot",
    "dbt.status": "dbt",
    "floe.status": "outcome",
}


def run_roots(spans: list[dict[str, Any]], run: str | None) -> list[dict[str, Any]]:
    """``floe.run`` spans: the one whose run id starts with ``run``, else the latest per product."""
    roots = [s for s in spans if s["name"] == "floe.run" and s["parent_span_id"] is None]
    if run:
        return [s for s in roots if str(s["attributes"].get("floe.run_id", "")).startswith(run)]
    latest: dict[str, dict[str, Any]] = {}
    for span in sorted(roots, key=lambda s: s["start_ns"]):
        latest[str(span["attributes"].get("floe.product"))] = span
    return [latest[p] for p in sorted(latest)]


def _label(span: dict[str, Any]) -> str:
    ms = (span["end_ns"] - span["start_ns"]) / 1e6
    attrs = span["attributes"]
    extra = " ".join(f"{short}={attrs[k]}" for k, short in SHOWN_ATTRS.items() if k in attrs)
    colour = "red" if span["status"] == "ERROR" else "green"
    return f"[{colour}]{span['name']}[/] [dim]{ms:,.1f} ms[/] {extra}".rstrip()


def span_tree(root: dict[str, Any], spans: list[dict[str, Any]]) -> Tree:
    """The spans of ``root``'s trace below it, ordered by start time."""
    children: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for span in spans:
        if span["trace_id"] == root["trace_id"] and span["parent_span_id"]:
            children[span["parent_span_id"]].append(span)
    attrs = root["attributes"]
    product, run = attrs.get("floe.product"), attrs.get("floe.run_id")
    tree = Tree(f"{_label(root)} [bold]{product}[/] run {run} trace {root['trace_id']}")
    _grow(tree, root["span_id"], children)
    return tree


def _grow(tree: Tree, span_id: str, children: dict[str, list[dict[str, Any]]]) -> None:
    for child in sorted(children.get(span_id, []), key=lambda s: (s["start_ns"], s["name"])):
        _grow(tree.add(_label(child)), child["span_id"], children)


def _latest_model_events(events: list[dict[str, Any]], namespace: str) -> list[dict[str, Any]]:
    """The last COMPLETE/FAIL event of every model job in ``namespace``."""
    last: dict[str, dict[str, Any]] = {}
    for event in events:
        job = event["job"]
        kind = (job.get("facets") or {}).get("jobType", {}).get("jobType")
        if job["namespace"] == namespace and kind == "MODEL" and event["eventType"] != "START":
            last[job["name"]] = event
    return [last[k] for k in sorted(last)]


def lineage_tree(events: list[dict[str, Any]], namespace: str) -> Tree:
    """Datasets and the model jobs between them, from the sources downwards."""
    latest = _latest_model_events(events, namespace)
    consumers: dict[str, list[dict[str, Any]]] = defaultdict(list)
    produced: set[str] = set()
    rows: dict[str, Any] = {}
    for event in latest:
        for dataset in event.get("inputs") or []:
            consumers[dataset["name"]].append(event)
        for dataset in event.get("outputs") or []:
            produced.add(dataset["name"])
            stats = (dataset.get("outputFacets") or {}).get("outputStatistics") or {}
            rows[dataset["name"]] = stats.get("rowCount")
    tree = Tree(f"[bold]{namespace}[/] lineage ({len(latest)} model jobs)")
    sources = sorted(set(consumers) - produced)
    seen: set[str] = set()
    for source in sources:
        _dataset(tree, source, consumers, rows, seen)
    return tree


def _dataset(parent: Tree, name: str, consumers: dict[str, list[dict[str, Any]]],
             rows: dict[str, Any], seen: set[str]) -> None:  # fmt: skip
    count = f" [dim]{rows[name]} rows[/]" if rows.get(name) is not None else ""
    if name in seen:
        parent.add(f"[cyan]{name}[/]{count} [dim](above)[/]")
        return
    seen.add(name)
    node = parent.add(f"[cyan]{name}[/]{count}")
    for event in consumers.get(name, []):
        colour = "green" if event["eventType"] == "COMPLETE" else "red"
        job = node.add(f"[{colour}]job {event['job']['name']}[/] [dim]{event['eventType']}[/]")
        for out in event.get("outputs") or []:
            _dataset(job, out["name"], consumers, rows, seen)
