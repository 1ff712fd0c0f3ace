"""`floe promote` dev → staging → prod against a real OCI registry (Debian's docker-registry on
127.0.0.1), real runs of the pulled artifact, the audit trail in the Iceberg catalog."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from floe.app import artifact, promote
from floe.errors import FloeError
from floe.promote import gates
from tests.conftest import floe_cli, write_tiny
from tests.e2e.oci_registry import Registry, oci_registry
from tests.e2e.promotion_platform import (
    APPROVER,
    DEVELOPER,
    GOLD_NEEDS_TESTS,
    POLICY,
    write_advisories,
    write_platform,
    write_policy,
)
from tests.signing_keys import ed25519_pair


@dataclass
class Flow:
    """The product pushed, signed, run green in dev, promoted to staging and run there."""

    root: Path
    registry: Registry
    digest: str
    env: dict[str, str]

    @property
    def manifest(self) -> Path:
        """The platform manifest."""
        return self.root / "manifest.yaml"

    def tag(self, env: str) -> str:
        """The digest ``env-<env>`` points at."""
        client = artifact.platform(self.manifest).client
        found = client.get_manifest("tiny", f"env-{env}")
        return found[1] if found else ""

    def variant(self, version: str, sql: str, model_name: str = "stg_orders") -> str:
        """Push another version whose model ``model_name`` is ``sql``; its digest (env-dev
        moves to it)."""
        model = self.root / "models" / f"{model_name}.sql"
        spec = self.root / "floe.yaml"
        old_sql, old_spec = model.read_text(), spec.read_text()
        try:
            model.write_text(sql)
            spec.write_text(old_spec.replace("version: 0.1.0", f"version: {version}"))
            return artifact.push(self.root).digest
        finally:
            model.write_text(old_sql)
            spec.write_text(old_spec)


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flow]:
    """Push, sign, run in dev, promote to staging, run in staging (the happy path to prod)."""
    tmp = tmp_path_factory.mktemp("promotion")
    private, public = ed25519_pair()
    with oci_registry(tmp / "registry") as reg, pytest.MonkeyPatch.context() as mp:
        root = write_platform(tmp / "tiny", reg, public, "tiny")
        env = {
            "FLOE_HOME": str(tmp / "home"),
            "FLOE_USER": DEVELOPER,
            "FLOE_SIGNING_KEY": private,
            "FLOE_MANIFEST": str(root / "manifest.yaml"),
        }
        for key, value in env.items():
            mp.setenv(key, value)
        digest = artifact.push(root).digest
        artifact.sign("tiny", digest)
        assert promote.run_artifact("tiny", "dev")[1].success
        staged = promote.promote("tiny", "dev", "staging")
        assert staged.status == "promoted", [g.to_json() for g in staged.gates]
        assert promote.run_artifact("tiny", "staging")[1].success
        yield Flow(root, reg, digest, env)


def gate_rows(out: str) -> dict[str, str]:
    """``{gate: outcome}`` from the table `floe promote` prints."""
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in out.splitlines()]
    return {c[0]: c[1] for c in cells if len(c) == 3 and c[0] != "gate"}


@pytest.mark.requirement("FR-070")
@pytest.mark.requirement("TQR-026")
def test_the_same_digest_moves_dev_to_staging_to_prod(flow: Flow):
    """Staging runs the digest dev ran; the promotion to prod waits (exit 6, a request id)
    until an approver approves, then env-prod is that digest; history tells it all."""
    assert flow.tag("staging") == flow.digest
    waiting = floe_cli("promote", "tiny", "--from", "staging", "--to", "prod", env=flow.env)
    assert waiting.code == 6, waiting.err
    request = waiting.out.split("request ", 1)[1].split()[0]
    assert request.startswith("pr-")
    assert gate_rows(waiting.out) == {"policy": "passed", "rego": "passed", "security": "passed",
                                      "signature": "passed", "source-run": "passed"}  # fmt: skip
    approved = floe_cli("approve", request, env={**flow.env, "FLOE_USER": APPROVER})
    assert approved.code == 0, approved.err
    assert flow.tag("prod") == flow.digest
    history = floe_cli("promote", "history", "--env", "prod", env=flow.env)
    assert history.code == 0, history.err
    rows = [line for line in history.out.splitlines() if request[:3] in line or "approve" in line]
    actions = [r for r in promote.history(flow.manifest, "prod") if r.request_id == request]
    assert [(r.action, r.who, r.from_env, r.to_env) for r in actions] == [
        ("approval-requested", DEVELOPER, "staging", "prod"),
        ("approve", APPROVER, "staging", "prod"),
    ]
    assert any(APPROVER in row for row in rows)
    assert json.loads(actions[0].gates)[4]["evidence"]["run_id"]


@pytest.mark.requirement("FR-075")
def test_only_a_listed_approver_decides_and_a_rejection_moves_nothing(flow: Flow):
    """A developer cannot approve (E641); a rejection keeps prod where it was, is recorded
    with its reason, and a decided request cannot be approved later (E640)."""
    before = flow.tag("prod")
    pending = promote.promote("tiny", "staging", "prod")
    assert pending.status == "pending"
    with pytest.raises(FloeError) as not_approver:
        promote.approve(pending.request_id)
    assert not_approver.value.diagnostics[0].code == "E641"
    rejected = floe_cli("reject", pending.request_id, "--reason", "freeze week",
                        env={**flow.env, "FLOE_USER": APPROVER})  # fmt: skip
    assert rejected.code == 0, rejected.err
    assert flow.tag("prod") == before
    records = [r for r in promote.history(flow.manifest) if r.request_id == pending.request_id]
    assert [(r.action, r.who, r.reason) for r in records][-1] == ("reject", APPROVER,
                                                                 "freeze week")  # fmt: skip
    os.environ["FLOE_USER"] = APPROVER
    try:
        with pytest.raises(FloeError) as decided:
            promote.approve(pending.request_id)
    finally:
        os.environ["FLOE_USER"] = DEVELOPER
    assert decided.value.diagnostics[0].code == "E640"
    assert "already rejected" in str(decided.value)


def _outcomes(out: promote.Outcome) -> dict[str, str]:
    return {g.gate: g.outcome for g in out.gates}


@pytest.mark.requirement("GAP-009")
@pytest.mark.requirement("FR-071")
def test_each_gate_blocks_on_its_own_failure(flow: Flow):
    """A vulnerable locked dependency (security), a strict-level violation (policy), an
    unsigned digest never run in dev (signature, source-run) and a bundle altered after
    signing (signature) each block: staging keeps its digest and the block is recorded."""
    staging = flow.tag("staging")
    write_advisories(flow.root, [{"id": "FLOE-TEST-1", "package": "dbt-core",
                                  "affected": ">=1.0", "summary": "test advisory"}])  # fmt: skip
    try:
        blocked = floe_cli("promote", "tiny", "--from", "dev", "--to", "staging", "--digest",
                           flow.digest, env=flow.env)  # fmt: skip
    finally:
        write_advisories(flow.root, [])
    assert blocked.code == 5
    assert "promotion blocked by gate 'security'" in blocked.err
    assert "dbt-core==1.11." in blocked.err
    assert "FLOE-TEST-1" in blocked.err

    star = "select * from {{ ref('int_orders') }}\n"
    undocumented = flow.variant("0.2.0", star, "mart_revenue")  # P460: SELECT * in gold
    out = promote.promote("tiny", "dev", "staging", undocumented)
    assert _outcomes(out)["policy"] == "failed"
    assert "P460" in out.gates[0].reason
    assert "strict" in out.gates[0].reason

    unsigned = flow.variant("0.3.0", "select id, amount from {{ ref('raw_orders') }} -- v3\n")
    out = promote.promote("tiny", "dev", "staging", unsigned)
    assert _outcomes(out) == {"policy": "passed", "rego": "passed", "security": "passed",
                              "signature": "error", "source-run": "failed"}  # fmt: skip
    assert "E631" in out.gates[3].reason
    assert out.gates[4].reason.startswith(f"no run of {unsigned} in 'dev'")

    tampered = flow.variant("0.4.0", "select id, amount from {{ ref('raw_orders') }} -- evil\n")
    client = artifact.platform(flow.manifest).client
    signature = client.get_manifest("tiny", flow.digest.replace(":", "-") + ".sig")
    assert signature is not None
    client.put_manifest("tiny", tampered.replace(":", "-") + ".sig", signature[0])  # replayed
    out = promote.promote("tiny", "dev", "staging", tampered)
    assert _outcomes(out)["signature"] == "error"
    assert "names another subject" in out.gates[3].reason
    assert flow.tag("staging") == staging
    blocks = [r for r in promote.history(flow.manifest, "staging")
              if r.action == "promote-blocked"]  # fmt: skip
    assert {r.digest for r in blocks} >= {flow.digest, undocumented, unsigned, tampered}


UNIQUE_GOLD = """\
deny contains msg if {
  some m in input.models
  m.tier == "gold"
  not "unique" in m.tests
  msg := sprintf("gold model %s of %s has no unique test (%s -> %s)",
                 [m.name, input.version, input.from, input.to])
}
"""


@pytest.mark.requirement("FR-072")
@pytest.mark.requirement("FR-071")
def test_a_rego_deny_or_a_broken_policy_blocks_the_promotion(flow: Flow):
    """The manifest's Rego policy, made stricter (a gold model needs a unique test), denies
    the signed digest that ran green in dev: exit 5 naming the gate 'rego' and the message,
    recorded with the deny; a syntax error in the policy blocks too, located at file:line:col."""
    staging = flow.tag("staging")
    write_policy(flow.root, GOLD_NEEDS_TESTS + UNIQUE_GOLD)
    try:
        denied = floe_cli("promote", "tiny", "--from", "dev", "--to", "staging", "--digest",
                          flow.digest, env=flow.env)  # fmt: skip
        write_policy(flow.root, "package floe.promotion\n\ndeny contains msg if {\n  msg := \n}\n")
        broken = floe_cli("promote", "tiny", "--from", "dev", "--to", "staging", "--digest",
                          flow.digest, env=flow.env)  # fmt: skip
    finally:
        write_policy(flow.root, GOLD_NEEDS_TESTS)
    message = "gold model mart_revenue of 0.1.0 has no unique test (dev -> staging)"
    assert denied.code == 5, denied.err
    assert f"promotion blocked by gate 'rego': promotion.rego: {message}" in denied.err
    assert gate_rows(denied.out)["rego"] == "failed"
    assert broken.code == 5, broken.err
    assert (f"promotion blocked by gate 'rego': E644: {flow.root / POLICY}:4:7: Rego policy: "
            "Invalid assignment operator") in broken.err  # fmt: skip
    assert flow.tag("staging") == staging
    blocked = [r for r in promote.history(flow.manifest, "staging")
               if r.action == "promote-blocked" and r.reason.startswith("rego: ")]  # fmt: skip
    recorded = {g["gate"]: g for g in json.loads(blocked[-2].gates)}
    assert recorded["rego"]["evidence"]["deny"] == [f"promotion.rego: {message}"]
    assert recorded["rego"]["evidence"]["policies"] == [str(flow.root / POLICY)]
    assert json.loads(blocked[-1].gates)[1]["outcome"] == "error"


@pytest.mark.requirement("FR-072")
def test_a_registry_that_is_down_blocks_the_promotion(tmp_path: Path):
    """No registry answering: the 'registry' gate errors (E621) and the promotion is blocked
    (exit 5) and recorded — never passed."""
    with oci_registry(tmp_path / "gone") as reg:
        pass
    _, public = ed25519_pair()
    root = write_platform(tmp_path / "tiny", reg, public, "tiny")
    env = {"FLOE_HOME": str(tmp_path / "home"), "FLOE_MANIFEST": str(root / "manifest.yaml")}
    blocked = floe_cli("promote", "tiny", "--from", "dev", "--to", "staging", env=env)
    assert blocked.code == 5
    assert "promotion blocked by gate 'registry': E621" in blocked.err
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FLOE_HOME", env["FLOE_HOME"])
        records = promote.history(root / "manifest.yaml")
    assert [(r.action, r.to_env) for r in records] == [("promote-blocked", "staging")]


@pytest.mark.requirement("FR-073")
@pytest.mark.requirement("SC-009")
@pytest.mark.requirement("FLOE-355")
def test_audit_verify_detects_an_edited_and_a_deleted_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Three records chain; editing one's 'who' or deleting the middle one in the Iceberg
    table is found by `floe audit verify` (exit 3), naming the record. Deleting the *newest*
    leaves a chain that is intact, but not the head: the head file in the platform home and
    the summary of the snapshot that appended record 3 both name the missing record — the
    snapshot's even after the head file is rewritten to match the rows."""
    import pyarrow as pa

    from floe.promote import audit
    from floe.runtime.platform import catalog_for_manifest

    monkeypatch.setenv("FLOE_HOME", str(tmp_path / "home"))
    root = write_tiny(tmp_path / "tiny")
    catalog = catalog_for_manifest(root / "manifest.yaml")
    lock = tmp_path / "home" / "promotions" / "audit.lock"
    for action in ("push", "promote", "approve"):
        audit.append(catalog, lock, who="alice", action=action, product="tiny",
                     digest="sha256:" + "a" * 64, from_env="dev", to_env="staging")  # fmt: skip
    env = {"FLOE_HOME": str(tmp_path / "home"), "FLOE_MANIFEST": str(root / "manifest.yaml")}
    intact = floe_cli("audit", "verify", env=env)
    assert intact.code == 0, intact.err
    assert "3 records" in intact.out

    table = catalog.load_table(audit.TABLE)
    rows = table.scan().to_arrow().to_pylist()
    schema = table.schema().as_arrow()
    edited = [dict(r, who="mallory") if r["seq"] == 2 else r for r in rows]
    table.overwrite(pa.Table.from_pylist(edited, schema=schema))
    broken = floe_cli("audit", "verify", env=env)
    assert broken.code == 3
    assert "record 2 was edited" in broken.err

    table.overwrite(pa.Table.from_pylist([r for r in rows if r["seq"] != 2], schema=schema))
    deleted = floe_cli("audit", "verify", env=env)
    assert deleted.code == 3
    assert "record 2 is missing" in deleted.err

    head = next(r for r in rows if r["seq"] == 3)["hash"]
    table.overwrite(pa.Table.from_pylist([r for r in rows if r["seq"] != 3], schema=schema))
    assert audit.verify(audit.read(catalog)) == []  # the chain alone sees nothing
    newest = floe_cli("audit", "verify", env=env)
    assert newest.code == 3
    lines = sorted(line for line in newest.err.splitlines() if "record 3 missing" in line)
    head_file = lock.with_name("audit.head")
    assert lines == sorted(
        f"audit trail broken: record 3 missing: {where} names record 3 (hash {head[:12]}) "
        "as the newest, the table ends at record 2"
        for where in (head_file, f"snapshot {_append_snapshot(table, 3)} of floe_audit.promotions")
    ), newest.err
    audit.file_anchor(lock).write(audit.Head(2, rows[1]["hash"]))  # the home rewritten too
    still = promote.verify_audit(root / "manifest.yaml").problems
    assert [p.split(":")[0] for p in still] == ["record 3 missing"]
    assert still[0].startswith("record 3 missing: snapshot ")


def _append_snapshot(table: Any, seq: int) -> int:
    """The id of the snapshot that appended audit record ``seq`` (from its summary)."""
    snapshots = table.refresh().metadata.snapshots
    wanted = {"floe.audit.seq": str(seq)}
    return next(s.snapshot_id for s in snapshots
                if s.summary is not None and wanted.items() <= s.summary.items())  # fmt: skip


@pytest.mark.requirement("FR-073")
@pytest.mark.requirement("FLOE-354")
def test_the_registry_anchor_sees_a_table_rewritten_without_its_newest_record(flow: Flow):
    """An attacker with write access to the catalog and the platform home recreates the audit
    table without its newest record (no snapshot history left) and rewrites the head file:
    `floe.audit:head` in the registry still names the newest record, and verify says which
    one is missing. Put back, the trail verifies again."""
    import pyarrow as pa

    from floe.promote import audit
    from floe.runtime.platform import audit_plugins

    plugins = audit_plugins(flow.manifest)
    catalog = plugins.catalog()
    assert promote.verify_audit(flow.manifest).problems == []
    rows = catalog.load_table(audit.TABLE).scan().to_arrow().to_pylist()
    rows.sort(key=lambda r: r["seq"])
    newest, kept = rows[-1], rows[:-1]
    head_file = audit.file_anchor(plugins.home.root / "promotions" / "audit.lock")

    def rewrite(records: list[dict[str, Any]], summary: dict[str, str]) -> None:
        catalog.drop_table(audit.TABLE)
        table = catalog.create_table(audit.TABLE, schema=audit._schema())
        table.append(pa.Table.from_pylist(records, schema=audit._schema()), summary)
        head_file.write(audit.Head(records[-1]["seq"], records[-1]["hash"]))

    rewrite(kept, {})
    try:
        problems = promote.verify_audit(flow.manifest).problems
    finally:  # put back as floe wrote it: the newest record's head in the summary
        rewrite(rows, {audit.SEQ_PROPERTY: str(newest["seq"]), audit.HASH_PROPERTY: newest["hash"]})
    registry = f"{flow.registry.url()}/floe.audit:head"
    assert problems == [
        f"the snapshots of {audit.TABLE} holds no head of the chain",
        f"record {newest['seq']} missing: {registry} names record {newest['seq']} (hash "
        f"{newest['hash'][:12]}) as the newest, the table ends at record {kept[-1]['seq']}",
    ]
    assert promote.verify_audit(flow.manifest).problems == []


@pytest.mark.requirement("SC-009")
def test_concurrent_promotions_of_one_product_are_serialised(
    flow: Flow, monkeypatch: pytest.MonkeyPatch
):
    """Two promotions of the product started together never run their gates at the same
    time (the second waits for the first's lock); both pass and chain in the audit trail."""
    inside = threading.Semaphore(1)
    overlapped: list[bool] = []
    waited: list[bool] = []
    first_in, second_in = threading.Event(), threading.Event()

    def probe(c: gates.Candidate) -> gates.GateResult:
        got = inside.acquire(blocking=False)
        overlapped.append(not got)
        if not first_in.is_set():
            first_in.set()
            # with the lock the other promotion cannot reach its gates: this wait runs out
            waited.append(second_in.wait(timeout=3))
        else:
            second_in.set()
        if got:
            inside.release()
        return gates.GateResult("probe", gates.PASSED)

    monkeypatch.setattr(gates, "GATES", (*gates.GATES, ("probe", probe)))
    results: list[promote.Outcome] = []

    def go() -> None:
        results.append(promote.promote("tiny", "dev", "staging", flow.digest))

    threads = [threading.Thread(target=go) for _ in range(2)]
    threads[0].start()
    threads[1].start()
    for t in threads:
        t.join(timeout=120)
    assert waited == [False]
    assert overlapped == [False, False]
    assert [r.status for r in results] == ["promoted", "promoted"]
    assert overlapped == [False, False]
    assert promote.verify_audit(flow.manifest).problems == []


def _snapshots(env: str, manifest: Path) -> dict[str, int | None]:
    """``{table: current snapshot id}`` of the tiny product's tables in ``env``'s catalog."""
    from floe.runtime.platform import catalog_for_manifest

    catalog = catalog_for_manifest(manifest, env)
    tables = (catalog.load_table(t) for t in catalog.list_tables("tiny"))
    return {".".join(t.name()[-2:]): t.metadata.current_snapshot_id for t in tables}


@pytest.mark.requirement("FR-070")
@pytest.mark.requirement("FLOE-351")
@pytest.mark.requirement("FLOE-352")
def test_each_environment_runs_its_digest_into_its_own_catalog_and_code_location(
    flow: Flow, tmp_path: Path
):
    """`floe run tiny --env staging` in an empty folder pulls what env-staging points at and
    runs it into staging's own catalog and warehouse (``<home>/envs/staging``): staging's
    tables get new snapshots (as `floe tables list --env staging` shows), dev's keep theirs,
    and the run's record (in staging's home)
    names the digest and the environment. `floe workspace tiny --env staging` writes a code
    location `staging-tiny` whose definitions serve that digest (metadata and job tags, which
    every run's record takes), with one asset per staging table."""
    import runpy

    import yaml

    from floe.app.workspace import write_env_workspace
    from floe.observe.records import read_records
    from floe.orchestrate.definitions import DIGEST_TAG, ENVIRONMENT_TAG
    from floe.runtime.platform import catalog_for_manifest

    home = Path(flow.env["FLOE_HOME"])

    def runs_of(digest: str) -> list[str]:
        records = read_records(home / "envs" / "staging" / "runs")
        wanted = (digest, "staging")
        return [r["run_id"] for r in records
                if (r.get("artifact_digest"), r.get("environment")) == wanted]  # fmt: skip

    staging_digest = flow.tag("staging")
    runs_before = runs_of(staging_digest)
    dev_before = _snapshots("dev", flow.manifest)
    staging_before = _snapshots("staging", flow.manifest)
    assert set(dev_before) == set(staging_before)
    assert "tiny.mart_revenue" in dev_before
    ran = floe_cli("run", "tiny", "--env", "staging", cwd=tmp_path, env=flow.env)
    assert ran.code == 0, ran.err + ran.out
    assert f"tiny: running {staging_digest} (env-staging) in staging" in ran.out
    new_runs = [r for r in runs_of(staging_digest) if r not in runs_before]
    assert len(new_runs) == 1
    assert new_runs[0][:8] in ran.out
    assert _snapshots("dev", flow.manifest) == dev_before
    staging_after = _snapshots("staging", flow.manifest)
    listed = floe_cli("tables", "list", "--env", "staging", "--json", env=flow.env)
    assert listed.code == 0, listed.err
    assert {r["identifier"]: r["snapshot_id"] for r in json.loads(listed.out)
            if r["identifier"].startswith("tiny.")} == staging_after  # fmt: skip
    assert set(staging_after) == set(staging_before)
    assert all(staging_after[t] != staging_before[t] for t in staging_after)
    location = catalog_for_manifest(flow.manifest, "staging").load_table("tiny.mart_revenue")
    assert location.location().startswith(f"file://{home / 'envs' / 'staging' / 'warehouse'}")

    written = write_env_workspace(["tiny"], "staging", flow.manifest)
    assert written.path == home / "envs" / "staging" / "workspace.yaml"
    entry = {"relative_path": "locations/tiny/definitions.py", "location_name": "staging-tiny"}
    assert yaml.safe_load(written.path.read_text()) == {"load_from": [{"python_file": entry}]}
    defs = runpy.run_path(str(written.path.parent / "locations/tiny/definitions.py"))["defs"]
    served = {DIGEST_TAG: staging_digest, ENVIRONMENT_TAG: "staging"}
    assert {k: v.value for k, v in defs.metadata.items()} == served
    assert served.items() <= defs.resolve_job_def("tiny_job").tags.items()
    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert keys == {t.replace(".", "/") for t in staging_after}


@pytest.mark.requirement("FR-074")
@pytest.mark.requirement("FLOE-353")
def test_rollback_moves_the_env_back_and_with_data_its_tables(flow: Flow):
    """A new digest promoted to staging and run there (revenue ×10) is rolled back: env-staging
    points at the previous digest again, recorded; --data puts staging's tables back too and
    leaves dev's (which ran the new digest as well) as they are."""
    from floe.runtime.platform import catalog_for_manifest

    ten_x = "select sum(amount) * 10 as revenue from {{ ref('int_orders') }}\n"
    newer = flow.variant("0.5.0", ten_x, "mart_revenue")
    artifact.sign("tiny", newer)
    assert promote.run_artifact("tiny", "dev", newer)[1].success
    assert promote.promote("tiny", "dev", "staging", newer).status == "promoted"
    assert promote.run_artifact("tiny", "staging")[1].success

    def revenue(env: str) -> int:
        table = catalog_for_manifest(flow.manifest, env).load_table("tiny.mart_revenue")
        return int(table.scan().to_arrow().to_pylist()[0]["revenue"])

    assert (revenue("dev"), revenue("staging")) == (600, 600)
    dev_before = _snapshots("dev", flow.manifest)
    result = floe_cli("rollback", "tiny", "--env", "staging", "--data", "--reason", "bad x10",
                      env=flow.env)  # fmt: skip
    assert result.code == 0, result.err
    assert flow.tag("staging") == flow.digest
    assert "rolled back tiny.mart_revenue" in result.out
    assert (revenue("dev"), revenue("staging")) == (600, 60)
    assert _snapshots("dev", flow.manifest) == dev_before
    last = promote.history(flow.manifest, "staging")[-1]
    assert (last.action, last.digest, last.from_env, last.reason) == (
        "rollback",
        flow.digest,
        newer,
        "bad x10",
    )
