"""Environment homes and the audit head's anchors, without a registry or a catalog."""

from __future__ import annotations

from pathlib import Path

import pytest

from floe.app.promote import is_product_name
from floe.promote import audit
from floe.runtime.home import PlatformHome

ENVS = "apiVersion: floe.dev/v1\nkind: Manifest\nenvironments:\n  qa: {}\n  dev: {}\n  prod: {}\n"


@pytest.mark.requirement("FLOE-351")
def test_the_first_environment_keeps_the_home_root_the_others_get_their_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The manifest lists qa, dev, prod: qa (the first, not 'dev') keeps the root, dev and
    prod get envs/<env>; a manifest without environments has one home for every --env."""
    monkeypatch.delenv("FLOE_HOME", raising=False)
    listed = tmp_path / "a" / "manifest.yaml"
    listed.parent.mkdir()
    listed.write_text(ENVS)
    root = tmp_path / "a" / ".floe"
    homes = {env: PlatformHome.for_manifest(listed, env).root for env in ("qa", "dev", "prod")}
    assert homes == {"qa": root, "dev": root / "envs" / "dev", "prod": root / "envs" / "prod"}
    assert PlatformHome.for_manifest(listed).root == root
    plain = tmp_path / "b" / "manifest.yaml"
    plain.parent.mkdir()
    plain.write_text("apiVersion: floe.dev/v1\nkind: Manifest\n")
    assert {PlatformHome.for_manifest(plain, e).root for e in ("dev", "prod")} == {
        tmp_path / "b" / ".floe"
    }


@pytest.mark.requirement("FLOE-351")
def test_a_run_target_is_a_product_name_only_when_no_such_path_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`floe run tiny` runs the registry's tiny unless a folder tiny exists here; paths and
    names with capitals or slashes are never product names."""
    monkeypatch.chdir(tmp_path)
    assert [is_product_name(t) for t in ("tiny", "customer-360", "demo/tiny", "Tiny")] == [
        True, True, False, False,
    ]  # fmt: skip
    (tmp_path / "tiny").mkdir()
    assert is_product_name("tiny") is False


def _records(n: int) -> list[audit.Record]:
    out: list[audit.Record] = []
    for seq in range(1, n + 1):
        rec = audit.Record(seq, f"2026-01-0{seq}", "alice", "push", "tiny", "sha256:x", "", "dev",
                           "", "", "[]", out[-1].hash if out else audit.GENESIS)  # fmt: skip
        out.append(audit.Record(**{**rec.__dict__, "hash": rec.computed_hash()}))
    return out


@pytest.mark.requirement("FLOE-355")
def test_check_head_names_what_the_rows_lack(tmp_path: Path) -> None:
    """A head ahead of the rows names the missing records; one whose record differs says so;
    an older head whose record is unchanged is accepted; no head while rows exist fails. The
    head file round-trips."""
    records = _records(4)
    rows = records[:2]
    ahead = audit.Head(4, records[3].hash)
    assert audit.check_head(rows, "A", ahead) == [
        f"records 3–4 missing: A names record 4 (hash {records[3].hash[:12]}) as the newest, "
        "the table ends at record 2"
    ]
    assert audit.check_head(records[:3], "A", ahead)[0].startswith("record 4 missing: A ")
    assert audit.check_head(rows, "A", audit.Head(2, "f" * 64)) == [
        "record 2 is not the one A anchored (hash ffffffffffff)"
    ]
    assert audit.check_head(records, "A", audit.Head(2, records[1].hash)) == []
    assert audit.check_head(records, "A", None) == ["A holds no head of the chain"]
    assert audit.check_head([], "A", None) == []
    from floe.runtime.maintenance_targets import AUDIT_NAMESPACE

    assert AUDIT_NAMESPACE == audit.NAMESPACE  # `floe tables maintain` leaves its history alone
    anchor = audit.file_anchor(tmp_path / "audit.lock")
    assert anchor.read() is None
    anchor.write(ahead)
    assert (anchor.read(), anchor.path.name) == (ahead, "audit.head")


@pytest.mark.requirement("FLOE-351")
def test_an_explicit_catalog_shared_with_another_environment_is_refused(tmp_path: Path) -> None:
    """A SQL catalog with its own uri, left unchanged by staging's overlay, would put staging's
    tables into dev's: E645 naming both; the first environment, a catalog in the home, or an
    overlay with its own uri pass."""
    from floe.errors import FloeError
    from floe.runtime.platform import check_isolated
    from tests.conftest import TINY_MANIFEST

    def write(catalog_config: str, staging: str) -> Path:
        text = TINY_MANIFEST.replace("    type: sql\n", f"    type: sql\n{catalog_config}", 1)
        path = tmp_path / "manifest.yaml"
        path.write_text(f"{text}environments:\n  dev: {{}}\n  staging: {staging}\n")
        return path

    shared = "    config: {uri: 'sqlite:////tmp/shared.db'}\n"
    manifest = write(shared, "{}")
    with pytest.raises(FloeError) as refused:
        check_isolated(manifest, "staging")
    d = refused.value.diagnostics[0]
    assert (d.code, d.message) == (
        "E645", "environment 'staging' would write into the catalog of 'dev' (sql catalog "
        "with the same configuration)",
    )  # fmt: skip
    assert d.field_path == "environments.staging.plugins.catalog"
    check_isolated(manifest, "dev")
    own = "{plugins: {catalog: {type: sql, config: {uri: 'sqlite:////tmp/staging.db'}}}}"
    check_isolated(write(shared, own), "staging")
    check_isolated(write("", "{}"), "staging")
