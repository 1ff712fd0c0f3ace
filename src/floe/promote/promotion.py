"""`floe promote`, `floe approve`, `floe reject`: the gates, the approval, the tag that moves.

A promotion runs under a lock per product (concurrent promotions of one product are
serialised), runs every gate (:mod:`floe.promote.gates`) over the digest's bundle pulled from
the registry, records the outcome in the audit trail, and — when every gate passed — moves the
target environment's tag to the digest, or, for an environment that needs an approval, files
a request that ``floe approve <id>`` (by an approver the manifest lists) or ``floe reject <id>``
decides. Whatever cannot be decided blocks: a registry that is down is the ``registry`` gate's
error, not a pass.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from floe.errors import FloeError, Location
from floe.promote import audit, oci
from floe.promote.artifact import fetch_bundle, resolve
from floe.promote.bundle import read_entries, unpack
from floe.promote.gates import ERROR, Candidate, GateResult, run_gates
from floe.promote.registry import RegistryClient
from floe.promote.rego import Policy

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

E_REQUEST = "E640"
E_NOT_APPROVER = "E641"
E_SAME_ENV = "E642"
PROMOTED, BLOCKED, PENDING, APPROVED, REJECTED = (
    "promoted", "blocked", "pending", "approved", "rejected"
)  # fmt: skip


@dataclass(frozen=True)
class Platform:
    """What a promotion needs of the platform (built by the use case)."""

    client: RegistryClient
    manifest_path: Path
    state: Path  # <home>/promotions (the home's root: one for every environment)
    runs: Callable[[str], Path]  # an environment's run records
    catalog: Catalog  # the platform's own catalog: the audit trail
    trusted_keys: Sequence[tuple[str, str]]
    advisories: Path
    approval_required: Sequence[str]
    approvers: Sequence[str]
    rego: Sequence[Policy] = ()

    def lock(self, product: str) -> Path:
        """The lock file that serialises promotions of ``product``."""
        return self.state / f"{product}.lock"

    @property
    def audit_lock(self) -> Path:
        """The lock file of the audit chain."""
        return self.state / "audit.lock"


@dataclass
class Outcome:
    """What a promotion, approval or rejection did."""

    status: str
    product: str
    digest: str
    source: str
    target: str
    gates: list[GateResult] = field(default_factory=list)
    request_id: str = ""
    seq: int = 0

    @property
    def blocking(self) -> GateResult | None:
        """The first gate that did not pass."""
        return next((g for g in self.gates if not g.passed), None)


def promote(p: Platform, product: str, source: str, target: str, digest: str | None,
            who: str) -> Outcome:  # fmt: skip
    """Promote ``digest`` (default: what ``source`` runs) from ``source`` to ``target``."""
    from floe.promote.signing import verify

    if source == target:
        raise FloeError.single(
            E_SAME_ENV,
            f"--from and --to are both '{source}'",
            hint="promote to the next environment, e.g. --to staging",
        )
    with audit.locked(p.lock(product)):
        try:
            digest = digest or resolve(p.client, product, oci.env_tag(source))
            digest, data = fetch_bundle(p.client, product, digest)
        except FloeError as exc:
            gate = GateResult("registry", ERROR, _first(exc))
            out = Outcome(BLOCKED, product, digest or "", source, target, [gate])
            return _record(p, out, who, "promote-blocked")
        with tempfile.TemporaryDirectory(prefix="floe-promote-") as tmp:
            workdir = Path(tmp) / product
            unpack(data, workdir)
            resolved = digest
            candidate = Candidate(
                product, digest, source, target, workdir, read_entries(data), p.manifest_path,
                p.runs(source), p.trusted_keys, p.advisories,
                lambda: verify(p.client, product, resolved, p.trusted_keys).key_name,
                who, p.rego,
            )  # fmt: skip
            gates = run_gates(candidate)
        out = Outcome(BLOCKED, product, digest, source, target, gates)
        if out.blocking is not None:
            return _record(p, out, who, "promote-blocked")
        if target in p.approval_required:
            out.status, out.request_id = PENDING, f"pr-{uuid.uuid4().hex[:12]}"
            _save_request(p, out, who)
            return _record(p, out, who, "approval-requested")
        _move_tag(p, product, digest, target)
        out.status = PROMOTED
        return _record(p, out, who, "promote")


def approve(p: Platform, request_id: str, who: str) -> Outcome:
    """Approve a pending request: the target's tag moves to its digest (recorded)."""
    request = _pending(p, request_id, who)
    out = _outcome(request)
    with audit.locked(p.lock(out.product)):
        _move_tag(p, out.product, out.digest, out.target)
        out.status = APPROVED
        _update_request(p, request, APPROVED, who)
        return _record(p, out, who, "approve")


def reject(p: Platform, request_id: str, who: str, reason: str) -> Outcome:
    """Reject a pending request: nothing moves (recorded with the reason)."""
    request = _pending(p, request_id, who)
    out = _outcome(request)
    out.status = REJECTED
    _update_request(p, request, REJECTED, who, reason)
    return _record(p, out, who, "reject", reason)


def _move_tag(p: Platform, product: str, digest: str, env: str) -> None:
    found = p.client.get_manifest(product, digest)
    if found is None:
        raise FloeError.single("E625", f"{p.client.repository(product)} has no {digest}",
                               Location("manifest.yaml"))  # fmt: skip
    p.client.put_manifest(product, oci.env_tag(env), found[0])


def _record(p: Platform, out: Outcome, who: str, action: str, reason: str = "") -> Outcome:
    from floe.promote.anchor import RegistryAnchor

    blocking = out.blocking
    why = reason or (f"{blocking.gate}: {blocking.reason}" if blocking else "")
    rec = audit.append(p.catalog, p.audit_lock, who=who, action=action, product=out.product,
                       digest=out.digest, from_env=out.source, to_env=out.target,
                       request_id=out.request_id, reason=why,
                       gates=[g.to_json() for g in out.gates],
                       anchors=[RegistryAnchor(p.client)])  # fmt: skip
    out.seq = rec.seq
    return out


def _requests(p: Platform) -> Path:
    return p.state / "requests"


def _save_request(p: Platform, out: Outcome, who: str) -> None:
    path = _requests(p) / f"{out.request_id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"id": out.request_id, "product": out.product, "digest": out.digest,
           "from": out.source, "to": out.target, "requested_by": who, "status": PENDING,
           "gates": [g.to_json() for g in out.gates]}  # fmt: skip
    path.write_text(json.dumps(doc, indent=1, sort_keys=True), encoding="utf-8")


def _pending(p: Platform, request_id: str, who: str) -> dict[str, Any]:
    path = _requests(p) / f"{request_id}.json"
    try:
        doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise FloeError.single(E_REQUEST, f"no promotion request '{request_id}'",
                               hint="floe promote prints the id of a request that waits "
                               "for approval") from None  # fmt: skip
    if doc["status"] != PENDING:
        raise FloeError.single(E_REQUEST, f"request {request_id} is already {doc['status']}",
                               hint="promote again to open a new request")  # fmt: skip
    if who not in p.approvers:
        raise FloeError.single(
            E_NOT_APPROVER,
            f"'{who}' is not an approver of promotions to '{doc['to']}'",
            Location(str(p.manifest_path)),
            field_path="artifacts.promotion.approvers",
            hint="an approver listed there must approve (FLOE_USER names who you are)",
        )
    return doc


def _update_request(p: Platform, doc: dict[str, Any], status: str, who: str,
                    reason: str = "") -> None:  # fmt: skip
    doc = {**doc, "status": status, "decided_by": who, "reason": reason}
    path = _requests(p) / f"{doc['id']}.json"
    path.write_text(json.dumps(doc, indent=1, sort_keys=True), encoding="utf-8")


def _outcome(doc: dict[str, Any]) -> Outcome:
    gates = [GateResult(g["gate"], g["outcome"], g["reason"], g["evidence"]) for g in doc["gates"]]
    return Outcome(PENDING, doc["product"], doc["digest"], doc["from"], doc["to"], gates,
                   doc["id"])  # fmt: skip


def _first(exc: FloeError) -> str:
    d = exc.diagnostics[0] if exc.diagnostics else None
    return f"{d.code}: {d.message}" if d else str(exc)


E_ROLLBACK = "E643"
MOVES = ("promote", "approve", "rollback")


def rollback(p: Platform, product: str, env: str, to: str | None, who: str,
             reason: str) -> tuple[Outcome, str]:  # fmt: skip
    """Move ``env``'s tag back to the digest it ran before (or ``to``, one it once ran);
    the outcome and the UTC time that digest's last stay in ``env`` ended — when the digest
    after it was moved in — whose table snapshots are what that digest left (for the data)."""
    with audit.locked(p.lock(product)):
        moves = [r for r in audit.read(p.catalog)
                 if r.product == product and r.to_env == env and r.action in MOVES]  # fmt: skip
        current = moves[-1].digest if moves else ""
        earlier = [r for r in moves if r.digest != current]
        if to is not None:
            earlier = [r for r in moves if r.digest == to]
        if not earlier:
            raise FloeError.single(
                E_ROLLBACK,
                f"'{env}' never ran {to or 'another digest'} of {product} before {current}",
                hint="floe promote history --env " + env + " lists what it ran",
            )
        target = earlier[-1]
        after = moves[moves.index(target) + 1 :]
        ended = next((m.at for m in after if m.digest != target.digest), target.at)
        _move_tag(p, product, target.digest, env)
        out = Outcome("rolled-back", product, target.digest, current, env)
        return _record(p, out, who, "rollback", reason or f"back from {current}"), ended
