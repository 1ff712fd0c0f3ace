"""`floe artifact push|pull|list|show|sign|verify` against a real OCI registry (Debian's
docker-registry, the CNCF distribution server) started on 127.0.0.1 by the tests."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from floe.app import artifact
from floe.errors import FloeError
from tests.conftest import TINY_MANIFEST, floe_cli, write_tiny
from tests.e2e.oci_registry import Registry, oci_registry
from tests.signing_keys import ed25519_pair

USER = ("floe-ci", "s3cret-registry-pw")


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """An anonymous registry for the module."""
    with oci_registry(tmp_path_factory.mktemp("registry")) as reg:
        yield reg


def registry_manifest(reg: Registry, extra: str = "") -> str:
    """The tiny manifest with ``artifacts.registry`` naming ``reg`` (+ ``extra`` YAML)."""
    creds = ""
    if reg.user:
        creds = "    username: {secret: REGISTRY_USER}\n    password: {secret: REGISTRY_PASSWORD}\n"
    return (f"{TINY_MANIFEST}artifacts:\n  registry:\n    url: {reg.url()}\n    insecure: true\n"
            f"{creds}{extra}")  # fmt: skip


@pytest.fixture
def product(tmp_path: Path, registry: Registry, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The tiny product on its own platform home, pushing to the module's registry."""
    monkeypatch.setenv("FLOE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FLOE_USER", "alice@example.com")
    root = write_tiny(tmp_path / "tiny", manifest=registry_manifest(registry))
    # every test pushes its own product name: tests share the registry, never a repository
    name = f"tiny-{hashlib.sha256(str(tmp_path).encode()).hexdigest()[:8]}"
    spec = root / "floe.yaml"
    spec.write_text(spec.read_text().replace("name: tiny\n", f"name: {name}\n", 1))
    return root


def name_of(root: Path) -> str:
    """The product name of a tiny product written by :func:`product`."""
    return artifact.product_name(str(root))


def cli_env(root: Path) -> dict[str, str]:
    """The environment of a `floe` process for the product's platform."""
    return {"FLOE_HOME": os.environ["FLOE_HOME"], "FLOE_USER": "alice@example.com",
            "FLOE_MANIFEST": str(root / "manifest.yaml")}  # fmt: skip


@pytest.mark.requirement("FR-070")
def test_push_is_content_addressed_and_pull_gives_back_the_bundle(product: Path, tmp_path: Path):
    """Two pushes of the same inputs give one digest (the sha256 of the manifest the registry
    stores), even after every file's mtime changed; the pulled bundle holds the product's
    files byte for byte, the compiled artifacts and the platform lock."""
    first = floe_cli("artifact", "push", product, env=cli_env(product))
    assert first.code == 0, first.err
    digest = first.out.split("@", 1)[1].split()[0]
    for path in product.rglob("*"):
        os.utime(path, (1, 1))
    second = floe_cli("artifact", "push", product, env=cli_env(product))
    assert second.code == 0, second.err
    assert f"@{digest}" in second.out
    name = name_of(product)
    client = artifact.platform(product / "manifest.yaml").client
    stored = client.get_manifest(name, "env-dev")
    assert stored is not None
    assert stored[1] == digest == "sha256:" + hashlib.sha256(stored[0]).hexdigest()
    doc = json.loads(stored[0])
    assert doc["artifactType"] == "application/vnd.floe.product.v1"
    assert [layer["mediaType"] for layer in doc["layers"]] == [
        "application/vnd.floe.product.bundle.v1.tar+gzip"
    ]

    out = tmp_path / "pulled"
    pulled = floe_cli("artifact", "pull", name, "--digest", digest, "--out", out,
                      env=cli_env(product))  # fmt: skip
    assert pulled.code == 0, pulled.err
    for rel in ("floe.yaml", "dbt_project.yml", "models/stg_orders.sql", "seeds/raw_orders.csv"):
        assert (out / rel).read_bytes() == (product / rel).read_bytes()
    assert not (out / "manifest.yaml").exists()  # the platform's file is not the product's
    compiled = json.loads((out / "compiled/compiled_artifacts.json").read_text())
    assert compiled["metadata"]["product"] == name
    assert compiled["environment"] == "dev"
    lock = json.loads((out / "platform.lock.json").read_text())
    assert lock["floe"] == "0.1.0"
    assert lock["packages"]["dbt-core"].startswith("1.11.")


@pytest.mark.requirement("FR-070")
def test_list_and_show_name_versions_env_tags_and_pusher(product: Path):
    """A new model without a new version is refused (E624); with one, both versions are
    listed with their digests, dev's tag on the newer, who pushed each and when."""
    env = cli_env(product)
    assert floe_cli("artifact", "push", product, env=env).code == 0
    old = artifact.show(str(product), "0.1.0", product / "manifest.yaml")
    (product / "models" / "stg_orders.sql").write_text(
        "select id, amount from {{ ref('raw_orders') }} where amount > 0\n"
    )
    refused = floe_cli("artifact", "push", product, env=env)
    assert refused.code == 2
    assert "error[E624]" in refused.err
    assert "metadata.version" in refused.err
    spec = product / "floe.yaml"
    spec.write_text(spec.read_text().replace("version: 0.1.0", "version: 0.2.0"))
    assert floe_cli("artifact", "push", product, env=env).code == 0

    infos = artifact.list_artifacts(str(product), product / "manifest.yaml")
    assert [(i.versions, i.env_tags, i.pushed_by) for i in infos] == [
        (["0.2.0"], ["dev"], "alice@example.com"),
        (["0.1.0"], [], "alice@example.com"),
    ]
    assert infos[1].digest == old.digest != infos[0].digest
    listed = floe_cli("artifact", "list", name_of(product), env=env)
    assert listed.code == 0, listed.err
    rows = [line for line in listed.out.splitlines() if "alice@example.com" in line]
    assert len(rows) == 2
    assert "0.2.0" in rows[0]
    assert infos[0].digest.removeprefix("sha256:")[:12] in rows[0]
    assert "dev" in rows[0]
    shown = floe_cli("artifact", "show", name_of(product), "--version", "0.1.0", env=env)
    assert shown.code == 0, shown.err
    assert old.digest in shown.out
    assert "models/stg_orders.sql" in shown.out


@pytest.mark.requirement("FR-070")
def test_basic_auth_credentials_come_by_secret_reference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Behind htpasswd (bcrypt) basic auth: the credentials are the manifest's secret
    references resolved by the secrets plugin; a wrong password is E622 (never printed)."""
    with oci_registry(tmp_path / "auth-registry", user=USER) as reg:
        monkeypatch.setenv("FLOE_HOME", str(tmp_path / "home"))
        root = write_tiny(tmp_path / "tiny", manifest=registry_manifest(reg))
        monkeypatch.setenv("REGISTRY_USER", USER[0])
        monkeypatch.setenv("REGISTRY_PASSWORD", "wrong-password")
        with pytest.raises(FloeError) as refused:
            artifact.push(root)
        assert refused.value.diagnostics[0].code == "E622"
        assert "wrong-password" not in str(refused.value)
        monkeypatch.setenv("REGISTRY_PASSWORD", USER[1])
        pushed = artifact.push(root)
        assert artifact.show("tiny", "0.1.0", root / "manifest.yaml").digest == pushed.digest
        monkeypatch.delenv("REGISTRY_PASSWORD")
        with pytest.raises(FloeError) as missing:
            artifact.list_artifacts("tiny", root / "manifest.yaml")
        assert missing.value.diagnostics[0].code == "E510"


@pytest.mark.requirement("FR-072")
def test_a_registry_that_is_down_is_an_error_not_an_empty_answer(tmp_path: Path):
    """With the registry stopped, list and pull fail at once with E621 (exit 2): an
    unreachable registry never reads as 'no artifacts'."""
    with oci_registry(tmp_path / "short-lived") as reg:
        pass
    root = write_tiny(tmp_path / "tiny", manifest=registry_manifest(reg))
    env = {"FLOE_HOME": str(tmp_path / "home"), "FLOE_MANIFEST": str(root / "manifest.yaml")}
    for args in (("list", "tiny"), ("pull", "tiny", "--env", "dev")):
        result = floe_cli("artifact", *args, env=env)
        assert result.code == 2
        assert (
            f"error[E621]: artifacts.registry.url: the OCI registry {reg.host} cannot be "
            "reached" in result.err
        )


def signing_yaml(trusted: dict[str, str]) -> str:
    """``artifacts.signing``: the key by secret reference, the trusted public keys."""
    keys = "".join(
        f"      - name: {name}\n        public_key: |\n"
        + "".join(f"          {line}\n" for line in pem.strip().splitlines())
        for name, pem in trusted.items()
    )
    return ("  signing:\n    key: {secret: FLOE_SIGNING_KEY}\n    key_name: release\n"
            f"    trusted_keys:\n{keys}")  # fmt: skip


@pytest.mark.requirement("FR-071")
def test_signature_verifies_only_with_a_trusted_key_over_that_digest(
    product: Path, registry: Registry, monkeypatch: pytest.MonkeyPatch
):
    """`floe artifact sign` attaches a DSSE envelope (in-toto statement over the digest,
    Ed25519) as sha256-<hex>.sig; verify accepts it with the trusted key, refuses an unsigned
    digest (E631), a manifest that trusts another key (E632) and a bundle altered in the
    registry's storage (E626)."""
    private, public = ed25519_pair()
    _, other_public = ed25519_pair()
    manifest = product / "manifest.yaml"
    manifest.write_text(registry_manifest(registry, signing_yaml({"release": public})))
    monkeypatch.setenv("FLOE_SIGNING_KEY", private)
    pushed = artifact.push(product)
    name = pushed.product
    with pytest.raises(FloeError) as unsigned:
        artifact.verify(name, pushed.digest, manifest)
    assert unsigned.value.diagnostics[0].code == "E631"

    signed = floe_cli("artifact", "sign", name, "--digest", pushed.digest, env={
        **cli_env(product), "FLOE_SIGNING_KEY": private})  # fmt: skip
    assert signed.code == 0, signed.err
    tag = pushed.digest.replace(":", "-") + ".sig"
    assert tag in signed.out
    assert artifact.verify(name, pushed.digest, manifest) == (pushed.digest, "release")
    envelope_doc = _envelope(name, pushed.digest, manifest)
    assert envelope_doc["payloadType"] == "application/vnd.in-toto+json"
    statement = json.loads(__import__("base64").b64decode(envelope_doc["payload"]))
    assert statement["subject"][0]["digest"] == {"sha256": pushed.digest.split(":")[1]}
    assert statement["subject"][0]["name"] == f"{registry.url()}/{name}"
    assert statement["predicate"]["signed_by"] == "alice@example.com"
    assert artifact.show(name, pushed.digest, manifest).signed is True

    manifest.write_text(registry_manifest(registry, signing_yaml({"someone": other_public})))
    untrusted = floe_cli("artifact", "verify", name, "--digest", pushed.digest,
                         env=cli_env(product))  # fmt: skip
    assert untrusted.code == 2
    assert "error[E632]" in untrusted.err
    assert "no signature verifies with a key the manifest trusts" in untrusted.err

    bundle = artifact.show(name, pushed.digest, manifest).bundle
    assert bundle is not None
    hexdigest = bundle.digest.split(":")[1]
    blob = registry.root / "data/docker/registry/v2/blobs/sha256" / hexdigest[:2] / hexdigest
    data = bytearray((blob / "data").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (blob / "data").write_bytes(bytes(data))
    with pytest.raises(FloeError) as tampered:
        artifact.pull(name, pushed.digest, product.parent / "out", manifest)
    assert tampered.value.diagnostics[0].code == "E626"


def _envelope(name: str, digest: str, manifest: Path) -> dict[str, object]:
    client = artifact.platform(manifest).client
    sig, _ = client.manifest_json(name, digest.replace(":", "-") + ".sig")
    assert sig["subject"]["digest"] == digest
    doc: dict[str, object] = json.loads(client.get_blob(name, sig["layers"][0]["digest"]))
    return doc
