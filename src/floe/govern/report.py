"""Enforcement reports: JSON, SARIF 2.1.0 (code-scanning UIs) and a self-contained HTML page."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any, Literal

from floe import __version__
from floe.spec.artifacts import EnforcementResultSummary, Violation

ReportFormat = Literal["json", "sarif", "html"]
FORMATS: tuple[str, ...] = ("json", "sarif", "html")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def split_location(location: str) -> tuple[str, int, int]:
    """``file:line:col`` → (file, line, col); a bare file has line and col 0."""
    parts = location.rsplit(":", 2)
    if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
        return parts[0], int(parts[1]), int(parts[2])
    return location, 0, 0


def as_json(summary: EnforcementResultSummary, product: str) -> dict[str, Any]:
    """The summary with the product it belongs to."""
    return {"product": product, "tool": f"floe {__version__}", **summary.model_dump(mode="json")}


def _result(v: Violation) -> dict[str, Any]:
    file, line, col = split_location(v.location)
    physical: dict[str, Any] = {"artifactLocation": {"uri": file or "floe.yaml"}}
    if line:
        physical["region"] = {"startLine": line, "startColumn": max(col, 1)}
    result: dict[str, Any] = {
        "ruleId": v.code,
        "level": _LEVELS[v.severity],
        "message": {"text": f"{v.message}. Fix: {v.hint}" if v.hint else v.message},
        "locations": [{"physicalLocation": physical}],
        "properties": {"policy": v.policy, "severity": v.severity},
    }
    if v.model:
        result["properties"]["model"] = v.model
    return result


def _rules(violations: list[Violation]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for v in violations:
        seen.setdefault(
            v.code,
            {
                "id": v.code,
                "name": v.policy,
                "shortDescription": {"text": f"floe policy '{v.policy}' ({v.code})"},
                "help": {"text": v.hint or v.message},
            },
        )
    return [seen[k] for k in sorted(seen)]


def as_sarif(summary: EnforcementResultSummary, product: str) -> dict[str, Any]:
    """One SARIF 2.1.0 run: floe as the tool, one result per violation."""
    violations = list(summary.violations)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "floe",
                        "version": __version__,
                        "rules": _rules(violations),
                    }
                },
                "results": [_result(v) for v in violations],
                "properties": {
                    "product": product,
                    "enforcementLevel": summary.enforcement_level,
                    "passed": summary.passed,
                },
            }
        ],
    }


def as_html(summary: EnforcementResultSummary, product: str) -> str:
    """A single page: verdict, coverage figures and one table row per violation."""
    esc = html.escape
    rows = "".join(
        f"<tr class='{esc(v.severity)}'><td>{esc(v.severity)}</td><td>{esc(v.code)}</td>"
        f"<td>{esc(v.policy)}</td><td>{esc(v.location)}</td><td>{esc(v.message)}</td>"
        f"<td>{esc(v.hint)}</td></tr>"
        for v in summary.violations
    )
    verdict = "passed" if summary.passed else "failed"
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>floe enforcement · {esc(product)}</title><style>"
        "body{font-family:sans-serif}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px}.error{background:#fdd}.warning{background:#ffd}"
        "</style></head><body>"
        f"<h1>floe enforcement · {esc(product)}</h1>"
        f"<p>level <b>{esc(summary.enforcement_level)}</b> · <b>{verdict}</b> · "
        f"{summary.error_count} errors · {summary.warning_count} warnings · "
        f"column test coverage {summary.test_coverage:.1f}% · "
        f"model test coverage {summary.model_test_coverage:.1f}% · "
        f"models validated {summary.models_validated}</p>"
        "<table><tr><th>severity</th><th>code</th><th>policy</th><th>location</th>"
        f"<th>message</th><th>how to fix</th></tr>{rows}</table></body></html>\n"
    )


def write_report(summary: EnforcementResultSummary, product: str, fmt: str, path: Path) -> Path:
    """Write the report in ``fmt`` to ``path`` (parents created)."""
    if fmt == "html":
        text = as_html(summary, product)
    else:
        data = as_sarif(summary, product) if fmt == "sarif" else as_json(summary, product)
        text = json.dumps(data, indent=2, sort_keys=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
