"""The promotion gates, in order; each gives a result and its evidence (docs/promotion.md#gates).

A gate **fails** when it found a reason to block, and **errors** when it could not decide (a
file missing, a registry down, an exception): both block the promotion (FR-072, fail-closed).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from floe.promote.bundle import ARTIFACTS_ENTRY
from floe.promote.rego import Policy

PASSED, FAILED, ERROR = "passed", "failed", "error"


@dataclass(frozen=True)
class GateResult:
    """One gate's outcome, recorded in the audit trail."""

    gate: str
    outcome: str
    reason: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """True only for a gate that passed."""
        return self.outcome == PASSED

    def to_json(self) -> dict[str, Any]:
        """The result as JSON for the audit record."""
        return {"gate": self.gate, "outcome": self.outcome, "reason": self.reason,
                "evidence": self.evidence}  # fmt: skip


@dataclass(frozen=True)
class Candidate:
    """What a promotion is about: the digest, its unpacked bundle and the environments."""

    product: str
    digest: str
    source: str
    target: str
    workdir: Path
    files: dict[str, bytes]
    manifest_path: Path
    runs_dir: Path
    trusted_keys: Sequence[tuple[str, str]]
    advisories: Path
    verify_signature: Callable[[], str]
    who: str = ""
    rego: Sequence[Policy] = ()


Gate = Callable[[Candidate], GateResult]


def policy(c: Candidate) -> GateResult:
    """ENFORCE re-run on the bundle at the *target* environment's level (strict for prod)."""
    from floe.compile.api import compile_product
    from floe.errors import PolicyError

    try:
        ctx = compile_product(c.workdir, manifest=c.manifest_path, env=c.target,
                              out_dir=c.workdir / "target" / "floe")  # fmt: skip
    except PolicyError as exc:
        codes = sorted({d.code for d in exc.diagnostics})
        first = exc.diagnostics[0].message if exc.diagnostics else ""
        return GateResult("policy", FAILED, f"{len(exc.diagnostics)} violation(s) at "
                          f"{c.target}'s strict level ({', '.join(codes)}): {first}",
                          {"codes": codes})  # fmt: skip
    assert ctx.artifacts is not None
    summary = ctx.artifacts.enforcement_result
    level = ctx.artifacts.governance.policy_enforcement_level
    return GateResult("policy", PASSED, f"ENFORCE passed at level '{level}'",
                      {"level": level, "violations": len(summary.violations)})  # fmt: skip


def rego(c: Candidate) -> GateResult:
    """The manifest's Rego policies over the input document (docs/promotion.md): every
    ``deny`` message blocks; a policy that is missing or does not parse errors (blocks)."""
    from floe.promote.rego import evaluate, input_document

    compiled = json.loads(c.files[ARTIFACTS_ENTRY])
    document = input_document(compiled, digest=c.digest, source=c.source, target=c.target,
                              who=c.who)  # fmt: skip
    denied = evaluate(c.rego, document)
    messages = [f"{Path(path).name}: {m}" for path, found in denied.items() for m in found]
    evidence = {"policies": sorted(denied), "deny": messages}
    if messages:
        return GateResult("rego", FAILED, "; ".join(messages[:5]), evidence)
    return GateResult("rego", PASSED, f"{len(denied)} Rego policy file(s) denied nothing",
                      evidence)  # fmt: skip


_FORBIDDEN_SQL = re.compile(
    r"(?:^|;)\s*(ATTACH|DETACH|INSTALL|LOAD|COPY|EXPORT\s+DATABASE|IMPORT\s+DATABASE|PRAGMA|"
    r"CREATE\s+(?:OR\s+REPLACE\s+)?(?:PERSISTENT\s+)?SECRET|GRANT|REVOKE|SET\s+GLOBAL)\b",
    re.IGNORECASE,
)
_SQL_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)


def security(c: Candidate) -> GateResult:
    """Plaintext secrets in any file of the bundle, forbidden SQL in its .sql files and known
    vulnerabilities of the locked dependencies (the offline advisory file)."""
    from floe.govern.secrets import token_format

    findings: list[str] = []
    for name, content in sorted(c.files.items()):
        text = content.decode("utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            kind = token_format(line)
            if kind:
                findings.append(f"{name}:{number}: plaintext secret ({kind})")
        if name.endswith(".sql"):
            code = _SQL_COMMENT.sub(" ", text)
            for match in _FORBIDDEN_SQL.finditer(code):
                statement = " ".join(match.group(1).split()).upper()
                findings.append(f"{name}: forbidden SQL statement {statement}")
    lock = json.loads(c.files.get("platform.lock.json", b"{}"))
    vulnerable = vulnerable_packages(lock.get("packages", {}), c.advisories)
    findings += [f"platform.lock.json: {v}" for v in vulnerable]
    if findings:
        return GateResult("security", FAILED, "; ".join(findings[:5]), {"findings": findings})
    return GateResult("security", PASSED, f"{len(c.files)} files scanned, "
                      f"{len(lock.get('packages', {}))} locked packages checked",
                      {"advisories": str(c.advisories)})  # fmt: skip


def vulnerable_packages(locked: dict[str, str], advisories: Path) -> list[str]:
    """``package==version (ID: summary)`` for each locked package an advisory covers.

    The file is ``{"advisories": [{"id", "package", "affected": "<PEP 440 specifier>",
    "summary"}]}``; a missing or malformed file raises (the gate errors: fail-closed)."""
    from packaging.specifiers import SpecifierSet
    from packaging.version import InvalidVersion, Version

    doc = json.loads(advisories.read_text(encoding="utf-8"))
    out = []
    for adv in doc["advisories"]:
        name = re.sub(r"[-_.]+", "-", str(adv["package"])).lower()
        version = locked.get(name)
        if version is None:
            continue
        try:
            hit = Version(version) in SpecifierSet(str(adv["affected"]))
        except InvalidVersion:
            continue
        if hit:
            out.append(f"{name}=={version} ({adv['id']}: {adv.get('summary', '')})")
    return out


def signature(c: Candidate) -> GateResult:
    """The digest carries a signature that verifies with a key the manifest trusts."""
    key = c.verify_signature()
    return GateResult("signature", PASSED, f"signed by trusted key '{key}'", {"key": key})


def source_run(c: Candidate) -> GateResult:
    """Evidence that this digest ran green in the source environment: its run record."""
    from floe.observe.records import read_records

    runs = [
        r
        for r in read_records(c.runs_dir)
        if r.get("artifact_digest") == c.digest and r.get("environment") == c.source
    ]
    green = [r for r in runs if r.get("status") == "success"]
    if not green:
        why = f"{len(runs)} run(s), none green" if runs else "no run"
        return GateResult("source-run", FAILED, f"{why} of {c.digest} in '{c.source}' "
                          f"(floe artifact run {c.product} --env {c.source})")  # fmt: skip
    last = green[-1]
    return GateResult("source-run", PASSED, f"run {last['run_id']} in '{c.source}' succeeded",
                      {"run_id": last["run_id"], "ended_at": last.get("ended_at")})  # fmt: skip


GATES: tuple[tuple[str, Gate], ...] = (
    ("policy", policy),
    ("rego", rego),
    ("security", security),
    ("signature", signature),
    ("source-run", source_run),
)


def run_gates(c: Candidate) -> list[GateResult]:
    """Every gate in order; an exception is that gate's ``error`` (never a pass)."""
    from floe.errors import FloeError

    results = []
    for name, gate in GATES:
        try:
            results.append(gate(c))
        except FloeError as exc:
            first = exc.diagnostics[0] if exc.diagnostics else None
            code = f"{first.code}: " if first else ""
            where = f"{first.location.render()}: " if first and first.location else ""
            message = first.message if first else str(exc)
            results.append(GateResult(name, ERROR, f"{code}{where}{message}"))
        except Exception as exc:  # fail-closed: a gate that cannot decide blocks
            results.append(GateResult(name, ERROR, f"{type(exc).__name__}: {exc}"))
    return results
