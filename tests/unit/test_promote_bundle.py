"""The product bundle and the DSSE envelope, without a registry."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from floe.errors import FloeError
from floe.promote import bundle, oci, signing
from tests.signing_keys import ed25519_pair


@pytest.mark.requirement("FR-070")
def test_bundle_bytes_depend_on_content_only() -> None:
    """Entries in any order give the same bytes; one changed byte gives another digest; the
    tar holds no time stamp, owner or mode of the machine that packed it."""
    a = bundle.pack({"models/b.sql": b"select 2\n", "floe.yaml": b"x: 1\n"})
    b = bundle.pack({"floe.yaml": b"x: 1\n", "models/b.sql": b"select 2\n"})
    c = bundle.pack({"floe.yaml": b"x: 2\n", "models/b.sql": b"select 2\n"})
    assert a.data == b.data
    assert a.digest == b.digest != c.digest
    assert list(a.files) == ["floe.yaml", "models/b.sql"]
    import io
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(a.data), mode="r:gz") as tar:
        infos = tar.getmembers()
    assert [(i.name, i.mtime, i.uid, i.gid, i.uname, i.mode) for i in infos] == [
        ("floe.yaml", 0, 0, 0, "", 0o644),
        ("models/b.sql", 0, 0, 0, "", 0o644),
    ]
    assert bundle.read_entries(a.data) == {"floe.yaml": b"x: 1\n", "models/b.sql": b"select 2\n"}


@pytest.mark.requirement("FR-070")
def test_bundle_refuses_entries_outside_its_folder(tmp_path: Path) -> None:
    """A tar with a ``..`` entry is no floe bundle: nothing is unpacked (E627)."""
    evil = bundle.pack({"../escape.sql": b"select 1\n"})
    with pytest.raises(FloeError) as err:
        bundle.unpack(evil.data, tmp_path / "out")
    assert err.value.diagnostics[0].code == "E627"
    assert not (tmp_path / "escape.sql").exists()


@pytest.mark.requirement("FR-070")
def test_product_files_skip_build_output_and_the_platform_manifest(tmp_path: Path) -> None:
    """target/, logs/, hidden folders and the manifest inside the product are not packed."""
    for rel in ("floe.yaml", "models/a.sql", "target/floe/x.json", "logs/dbt.log",
                ".floe/catalog.db", "manifest.yaml", "seeds/s.csv"):  # fmt: skip
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    files = bundle.product_files(tmp_path, exclude={tmp_path / "manifest.yaml"})
    assert [p.relative_to(tmp_path).as_posix() for p in files] == [
        "floe.yaml",
        "models/a.sql",
        "seeds/s.csv",
    ]


@pytest.mark.requirement("FR-071")
def test_dsse_envelope_verifies_only_its_digest_with_a_trusted_key() -> None:
    """The envelope signs DSSE's PAE of the in-toto statement; another digest, an altered
    payload or an untrusted key do not verify (E632)."""
    priv, pub = ed25519_pair()
    _, other = ed25519_pair()
    digest = "sha256:" + "ab" * 32
    stmt = signing.statement("reg/floe/tiny", digest, {"product": "tiny"})
    env = signing.envelope(stmt, priv, "release")
    assert signing.verify_envelope(env, digest, [("release", pub)]).key_name == "release"
    doc = json.loads(env)
    assert doc["signatures"][0]["keyid"] == "release"
    assert json.loads(base64.b64decode(doc["payload"]))["subject"][0]["digest"] == {
        "sha256": "ab" * 32
    }
    altered = dict(doc, payload=base64.b64encode(oci.canonical({**stmt, "x": 1})).decode())
    cases = [
        (env, "sha256:" + "cd" * 32, [("release", pub)]),
        (env, digest, [("someone", other)]),
        (oci.canonical(altered), digest, [("release", pub)]),
    ]
    for data, asked, trusted in cases:
        with pytest.raises(FloeError) as err:
            signing.verify_envelope(data, asked, trusted)
        assert err.value.diagnostics[0].code == "E632"
