"""The Rego gate: the manifest's Rego policies evaluated with a real Rego engine (regopy, the
rego-cpp interpreter) over the promotion's input document (docs/promotion.md#the-rego-gate).

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

E_REGO = "E644"
RULE = "deny"
_PACKAGE = re.compile(r"^\s*package\s+([A-Za-z_][\w.]*)", re.MULTILINE)
# rego-cpp reports an error as ``(error <n>:<file>|<byte offset>|<length> (errormsg <n>:<text>)``
_ERROR = re.compile(r"\(error \d+:[^|]*\|(\d+)\|\d+\s*\(errormsg \d+:([^)\n]*)\)")


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
    from regopy import Interpreter, LogLevel, RegoError  # type: ignore[import-untyped]

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
    rego = Interpreter()
    rego.log_level = LogLevel.NONE
    try:
        rego.add_module(policy.path.name, source)
        rego.set_input(document)
        out = rego.query(f"x = data.{package.group(1)}.{RULE}")
    except RegoError as exc:
        raise _rego_error(policy.path, source, str(exc)) from None
    if not out.ok() or str(out) == "undefined":
        raise _located(policy.path, source, package.start(1),
                       f"package {package.group(1)} defines no rule '{RULE}'")  # fmt: skip
    value = json.loads(out.binding("x").json())
    if isinstance(value, dict):  # deny[msg] { … } without `contains`: {msg: true}
        return sorted(str(k) for k, v in value.items() if v)
    if isinstance(value, list):
        return sorted(str(v) for v in value)
    raise _located(policy.path, source, package.start(1),
                   f"rule '{RULE}' must be a set of messages, not {value!r}")  # fmt: skip


def _rego_error(path: Path, source: str, text: str) -> FloeError:
    found = _ERROR.search(text)
    if found is None:
        return _located(path, source, 0, " ".join(text.split())[:300])
    return _located(path, source, int(found.group(1)), found.group(2).strip())


def _located(path: Path, source: str, offset: int, message: str) -> FloeError:
    head = source.encode("utf-8")[:offset].decode("utf-8", errors="replace")
    line = head.count("\n") + 1
    col = len(head) - (head.rfind("\n") + 1) + 1
    return FloeError.single(E_REGO, f"Rego policy: {message}", Location(str(path), line, col),
                            hint=f"fix the policy; floe queries data.<package>.{RULE}, a set "
                            "of messages (deny contains msg if { … })")  # fmt: skip
