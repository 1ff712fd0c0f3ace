"""floe's OCI artifacts: media types, tags and manifests (docs/promotion.md#the-artifact).

A product version is one OCI image manifest (``artifactType`` :data:`PRODUCT_TYPE`) in the
repository ``<registry url>/<product name>``: a config blob (:data:`CONFIG_TYPE`, what the
artifact is) and one layer, the bundle (:data:`BUNDLE_TYPE`). The manifest is canonical JSON
with no time stamp, so the same bundle gives the same digest. What is attached to a digest
(who pushed it and when, its signature) is an artifact of its own whose ``subject`` is the
product manifest, found by the tag ``sha256-<hex>.<kind>`` (the OCI tag schema for
registries without the referrers API, e.g. distribution 2.8).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
PRODUCT_TYPE = "application/vnd.floe.product.v1"
CONFIG_TYPE = "application/vnd.floe.product.config.v1+json"
BUNDLE_TYPE = "application/vnd.floe.product.bundle.v1.tar+gzip"
PUSH_TYPE = "application/vnd.floe.push.v1"
SIGNATURE_TYPE = "application/vnd.floe.signature.v1"
DSSE_TYPE = "application/vnd.dsse.envelope.v1+json"
EMPTY_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY_JSON = b"{}"
TITLE = "org.opencontainers.image.title"
VERSION = "org.opencontainers.image.version"
PUSHED_BY = "dev.floe.pushed-by"
PUSHED_AT = "dev.floe.pushed-at"
PUSHED_ENV = "dev.floe.environment"
ENV_TAG_PREFIX = "env-"
DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")


@dataclass(frozen=True)
class Descriptor:
    """An OCI content descriptor."""

    media_type: str
    digest: str
    size: int
    annotations: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The descriptor as OCI JSON."""
        out: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest,
                               "size": self.size}  # fmt: skip
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        return out


def canonical(doc: dict[str, Any]) -> bytes:
    """Compact JSON with sorted keys: the bytes whose sha256 is the manifest's digest."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def image_manifest(
    artifact_type: str,
    config: Descriptor,
    layers: list[Descriptor],
    annotations: dict[str, str] | None = None,
    subject: Descriptor | None = None,
) -> bytes:
    """An OCI image manifest (canonical bytes)."""
    doc: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "artifactType": artifact_type,
        "config": config.to_json(),
        "layers": [layer.to_json() for layer in layers],
    }
    if annotations:
        doc["annotations"] = dict(sorted(annotations.items()))
    if subject is not None:
        doc["subject"] = subject.to_json()
    return canonical(doc)


def env_tag(env: str) -> str:
    """The tag that says which digest an environment runs."""
    return f"{ENV_TAG_PREFIX}{env}"


def attached_tag(digest: str, kind: str) -> str:
    """``sha256-<hex>.<kind>``: where what is attached to ``digest`` is found."""
    return f"{digest.replace(':', '-')}.{kind}"


def is_version_tag(tag: str) -> bool:
    """True for a product version's tag (neither an environment nor an attachment)."""
    return not tag.startswith(ENV_TAG_PREFIX) and not tag.startswith("sha256-")


def canonical_digest(manifest: bytes) -> str:
    """The digest of manifest bytes."""
    import hashlib

    return "sha256:" + hashlib.sha256(manifest).hexdigest()
