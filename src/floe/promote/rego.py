"""The Rego gate: the manifest's Rego policies evaluated with a real Rego engine (regopy, the
rego-cpp interpreter) over the promotion's input document (docs/promotion.md#the-rego-gate);
the engine runs in its own process (:mod:`floe.promote.rego_engine`).

Each policy file is evaluated on its own; floe queries the rule ``deny`` of the file's package
(``data.<package>.deny``), a set of messages (``deny contains msg if …``; the older
``deny[msg] { … }`` form works too). Any message blocks. A file that cannot be read, does
not parse or defines no ``deny`` rule raises a located :class:`FloeError` — the gate errors,
and an error blocks as well (FR-072).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from floe.errors import FloeError, Location
from floe.spec.manifest import E_REGO

RULE = "deny"
_PACKAGE = re.compile(r"^\s*package\s+([A-Za-z_][\w.]*)", re.MULTILINE)
ENGINE_TIMEOUT = 60


@dataclass(frozen=True)
class Policy:
    """A Rego policy file and where the manifest names it."""

    path: Path
    named_at: Location


def input_document(compiled: dict[str, Any], *, digest: str, source: str, target: str,
                   who: str) -> dict[str, Any]:  # fmt: skip
    """The document a policy sees as ``input`` (documented in docs/promotion.md)."""
    meta = compiled.get("metadata", {})
    models = []
    for t in compiled.get("transforms", []):
        columns = [{"name": c["name"], "description": c.get("description", ""),
                    "data_type": c.get("data_type"), "tests": list(c.get("tests", []))}
                   for c in t.get("columns", [])]  # fmt: skip
        tests = sorted({*t.get("tests", []), *(x for c in columns for x in c["tests"])})
        models.append({"name": t["name"], "tier": t["tier"], "owner": meta.get("owner", ""),
                       "materialization": t["materialization"], "tags": t.get("tags", []),
                       "description": t.get("description", ""), "tests": tests,
                       "columns": columns})  # fmt: skip
    return {
        "product": meta.get("product", ""),
        "version": meta.get("version", ""),
        "owner": meta.get("owner", ""),
        "digest": digest,
        "from": source,
        "to": target,
        "who": who,
        "compiled_for": compiled.get("environment", ""),
        "models": models,
        "enforcement": compiled.get("enforcement_result", {}),
    }


def evaluate(policies: Sequence[Policy], document: dict[str, Any]) -> dict[str, list[str]]:
    """``{policy file: [deny messages]}`` for every policy; raises a located FloeError when a
    policy is missing, does not parse or has no ``deny`` rule."""
    return {str(p.path): _evaluate_one(p, document) for p in policies}


def _evaluate_one(policy: Policy, document: dict[str, Any]) -> list[str]:
    try:
        source = policy.path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FloeError.single(
            E_REGO, f"Rego policy {policy.path} cannot be read ({exc.strerror})",
            policy.named_at, field_path="artifacts.promotion.rego",
            hint="paths are relative to the manifest; fix the path or add the file",
        ) from None  # fmt: skip
    package = _PACKAGE.search(source)
    if package is None:
        raise _located(policy.path, source, 0, "no 'package' declaration")
    request = {"input": document, "rule": RULE, "policies": [
        {"name": policy.path.name, "source": source, "package": package.group(1)}]}  # fmt: skip
    result = _run_engine(request)[policy.path.name]
    if "error" in result:
        offset = int(result["offset"])
        where = package.start(1) if offset < 0 else offset
        raise _located(policy.path, source, where, str(result["error"]))
    if result.get("undefined"):
        raise _located(policy.path, source, package.start(1),
                       f"package {package.group(1)} defines no rule '{RULE}'")  # fmt: skip
    return [str(m) for m in result["deny"]]


def _run_engine(request: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The engine in its own process (see :mod:`floe.promote.rego_engine` for why)."""
    import subprocess
    import sys

    try:
        done = subprocess.run(
            [sys.executable, "-m", "floe.promote.rego_engine"], input=json.dumps(request),
            capture_output=True, text=True, timeout=ENGINE_TIMEOUT, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise FloeError.single(E_REGO, f"the Rego engine did not answer in {ENGINE_TIMEOUT} s",
                               hint="simplify the policy") from None  # fmt: skip
    if done.returncode != 0:
        tail = " ".join(done.stderr.split())[-300:]
        raise FloeError.single(E_REGO, f"the Rego engine failed (exit {done.returncode}): {tail}",
                               hint="check that regopy installs for this Python")  # fmt: skip
    answer: dict[str, dict[str, Any]] = json.loads(done.stdout)
    return answer


def _located(path: Path, source: str, offset: int, message: str) -> FloeError:
    head = source.encode("utf-8")[:offset].decode("utf-8", errors="replace")
    line = head.count("\n") + 1
    col = len(head) - (head.rfind("\n") + 1) + 1
    return FloeError.single(E_REGO, f"Rego policy: {message}", Location(str(path), line, col),
                            hint=f"fix the policy; floe queries data.<package>.{RULE}, a set "
                            "of messages (deny contains msg if { … })")  # fmt: skip
