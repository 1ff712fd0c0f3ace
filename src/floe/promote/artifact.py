"""Push, pull, list and show a product's artifacts (docs/promotion.md#artifacts).

``push`` uploads the bundle and its config, stores the manifest under the product's version
tag and the push environment's tag, and attaches a push record (who, when, which
environment) to the digest. A version is immutable: pushing other content under a version
that already exists is refused (E624); pushing the same content again is a no-op apart from
the environment tag and a new push record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from floe.errors import FloeError, Location
from floe.promote import oci
from floe.promote.bundle import Bundle, read_entries
from floe.promote.registry import E_NOT_FOUND, RegistryClient

E_VERSION_TAKEN = "E624"
PUSH_KIND = "push"


@dataclass(frozen=True)
class ArtifactInfo:
    """What the registry knows of one digest of a product."""

    product: str
    digest: str
    version: str
    versions: list[str] = field(default_factory=list)
    env_tags: list[str] = field(default_factory=list)
    pushed_by: str = ""
    pushed_at: str = ""
    pushed_env: str = ""
    signed: bool = False
    bundle: oci.Descriptor | None = None
    config: dict[str, Any] = field(default_factory=dict)


def config_document(artifacts: dict[str, Any], bundle: Bundle) -> bytes:
    """The config blob: what the artifact is (deterministic: no time, no user)."""
    meta = artifacts["metadata"]
    doc = {
        "product": meta["product"],
        "version": meta["version"],
        "namespace": meta["namespace"],
        "owner": meta.get("owner"),
        "environment": artifacts["environment"],
        "floe_version": meta["floe_version"],
        "files": dict(bundle.files),
    }
    return json.dumps(doc, indent=2, sort_keys=True).encode() + b"\n"


def product_manifest(
    client: RegistryClient, product: str, version: str, config: bytes, bundle: Bundle
) -> bytes:
    """Upload the blobs; the product's manifest (canonical bytes)."""
    config_desc = client.put_blob(product, config, oci.CONFIG_TYPE)
    layer = client.put_blob(product, bundle.data, oci.BUNDLE_TYPE)
    layer = oci.Descriptor(layer.media_type, layer.digest, layer.size,
                           ((oci.TITLE, "bundle.tar.gz"),))  # fmt: skip
    annotations = {oci.TITLE: product, oci.VERSION: version}
    return oci.image_manifest(oci.PRODUCT_TYPE, config_desc, [layer], annotations)


def push(
    client: RegistryClient,
    product: str,
    version: str,
    config: bytes,
    bundle: Bundle,
    *,
    env: str,
    who: str,
) -> str:
    """Push the product version, tag it and its environment; its digest."""
    manifest = product_manifest(client, product, version, config, bundle)
    digest = oci.canonical_digest(manifest)
    existing = client.get_manifest(product, version)
    if existing is not None and existing[1] != digest:
        raise FloeError.single(
            E_VERSION_TAKEN,
            f"version {version} of {product} is already pushed with other content "
            f"({existing[1]}); this build is {digest}",
            Location("floe.yaml"),
            field_path="metadata.version",
            hint="versions are immutable: raise metadata.version in floe.yaml and push again",
        )
    client.put_manifest(product, version, manifest)
    client.put_manifest(product, oci.env_tag(env), manifest)
    attach_record(client, product, manifest, who=who, env=env)
    return digest


def attach_record(client: RegistryClient, product: str, manifest: bytes, *, who: str,
                  env: str) -> None:  # fmt: skip
    """The push record of ``manifest``: an empty artifact whose annotations say who pushed it,
    when and for which environment (the latest push wins the tag)."""
    empty = client.put_blob(product, oci.EMPTY_JSON, oci.EMPTY_TYPE)
    subject = oci.Descriptor(oci.MANIFEST_TYPE, oci.canonical_digest(manifest), len(manifest))
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    annotations = {oci.PUSHED_BY: who, oci.PUSHED_AT: now, oci.PUSHED_ENV: env}
    record = oci.image_manifest(oci.PUSH_TYPE, empty, [empty], annotations, subject)
    client.put_manifest(product, oci.attached_tag(subject.digest, PUSH_KIND), record)


def resolve(client: RegistryClient, product: str, reference: str) -> str:
    """The digest a version, an ``env-…`` tag or a digest names (E625 when none)."""
    _doc, digest = client.manifest_json(product, reference)
    return digest


def tag_digests(client: RegistryClient, product: str) -> tuple[dict[str, str], list[str]]:
    """The digest each version and environment tag points at, and every tag."""
    tags = client.tags(product)
    named = {t: _digest_of(client, product, t) for t in tags if not t.startswith("sha256-")}
    return named, tags


def describe(
    client: RegistryClient,
    product: str,
    digest: str,
    tagged: tuple[dict[str, str], list[str]] | None = None,
) -> ArtifactInfo:
    """Everything the registry says of ``digest``: tags, push record, signature, config."""
    from floe.promote.signing import SIGNATURE_KIND

    doc, _ = client.manifest_json(product, digest)
    named, tags = tagged or tag_digests(client, product)
    pointing = sorted(t for t, d in named.items() if d == digest)
    versions = [t for t in pointing if oci.is_version_tag(t)]
    envs = [t.removeprefix(oci.ENV_TAG_PREFIX) for t in pointing
            if t.startswith(oci.ENV_TAG_PREFIX)]  # fmt: skip
    record = client.get_manifest(product, oci.attached_tag(digest, PUSH_KIND))
    notes: dict[str, str] = json.loads(record[0]).get("annotations", {}) if record else {}
    signed = oci.attached_tag(digest, SIGNATURE_KIND) in tags
    layer = doc["layers"][0]
    config = json.loads(client.get_blob(product, doc["config"]["digest"]))
    return ArtifactInfo(
        product=product,
        digest=digest,
        version=doc.get("annotations", {}).get(oci.VERSION, ""),
        versions=versions,
        env_tags=envs,
        pushed_by=notes.get(oci.PUSHED_BY, ""),
        pushed_at=notes.get(oci.PUSHED_AT, ""),
        pushed_env=notes.get(oci.PUSHED_ENV, ""),
        signed=signed,
        bundle=oci.Descriptor(layer["mediaType"], layer["digest"], int(layer["size"])),
        config=config,
    )


def list_artifacts(client: RegistryClient, product: str) -> list[ArtifactInfo]:
    """Every digest a version or environment tag of ``product`` points at, newest push first."""
    tagged = tag_digests(client, product)
    digests = dict.fromkeys(tagged[0].values())
    infos = [describe(client, product, d, tagged) for d in digests]
    return sorted(infos, key=lambda i: (i.pushed_at, i.version), reverse=True)


def fetch_bundle(client: RegistryClient, product: str, reference: str) -> tuple[str, bytes]:
    """The digest ``reference`` names and its bundle's bytes (each blob checked)."""
    doc, digest = client.manifest_json(product, reference)
    if doc.get("artifactType") != oci.PRODUCT_TYPE:
        raise FloeError.single(E_NOT_FOUND, f"'{reference}' is no floe product artifact",
                               Location("manifest.yaml"))  # fmt: skip
    layer = doc["layers"][0]
    data = client.get_blob(product, layer["digest"])
    read_entries(data)  # every entry safe
    return digest, data


def _digest_of(client: RegistryClient, product: str, tag: str) -> str:
    found = client.get_manifest(product, tag)
    return found[1] if found else ""
