"""The Rego engine, run in its own process: ``python -m floe.promote.rego_engine``.

regopy's native library (rego-cpp) must not share a process with DuckDB's: with regopy
loaded first, importing duckdb aborts the interpreter (``double free or corruption``,
regopy 1.5.2 / duckdb 1.5.5), so the gate never loads it into floe's own process.

stdin: ``{"input": {...}, "rule": "deny", "policies": [{"name", "source", "package"}]}``;
stdout: ``{"<name>": {"deny": [...]} | {"undefined": true} | {"error": "...", "offset": n}}``.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

# rego-cpp reports an error as ``(error <n>:<file>|<byte offset>|<length> (errormsg <n>:<text>)``
_ERROR = re.compile(r"\(error \d+:[^|]*\|(\d+)\|\d+\s*\(errormsg \d+:([^)\n]*)\)")


def evaluate(request: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each policy evaluated on its own interpreter over the same input."""
    return {p["name"]: _one(p, request["input"], request["rule"]) for p in request["policies"]}


def _one(policy: dict[str, str], document: Any, rule: str) -> dict[str, Any]:
    from regopy import Interpreter, LogLevel, RegoError  # type: ignore[import-untyped]

    rego = Interpreter()
    rego.log_level = LogLevel.NONE
    try:
        rego.add_module(policy["name"], policy["source"])
        rego.set_input(document)
        out = rego.query(f"x = data.{policy['package']}.{rule}")
    except RegoError as exc:
        found = _ERROR.search(str(exc))
        if found is None:
            return {"error": " ".join(str(exc).split())[:300], "offset": 0}
        return {"error": found.group(2).strip(), "offset": int(found.group(1))}
    if not out.ok() or str(out) == "undefined":
        return {"undefined": True}
    value = json.loads(out.binding("x").json())
    if isinstance(value, dict):  # deny[msg] { … } without `contains`: {msg: true}
        return {"deny": sorted(str(k) for k, v in value.items() if v)}
    if isinstance(value, list):
        return {"deny": sorted(str(v) for v in value)}
    return {"error": f"rule '{rule}' must be a set of messages, not {value!r}", "offset": -1}


if __name__ == "__main__":
    json.dump(evaluate(json.load(sys.stdin)), sys.stdout)
