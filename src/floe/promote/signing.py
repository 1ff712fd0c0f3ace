"""Signatures of artifacts: an in-toto statement over the digest in a DSSE envelope, signed
with Ed25519 (docs/promotion.md#signing).

The envelope is attached to the product manifest as an artifact of its own (``subject`` = the
product manifest, tag ``sha256-<hex>.sig``). Verification accepts a signature only from a key
the manifest trusts (``artifacts.signing.trusted_keys``) and only over the digest asked for.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from floe.errors import FloeError, Location
from floe.promote import oci
from floe.promote.registry import RegistryClient

SIGNATURE_KIND = "sig"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://floe.dev/attestations/artifact/v1"
E_KEY = "E630"
E_UNSIGNED = "E631"
E_BAD_SIGNATURE = "E632"
WHERE = Location("manifest.yaml")


@dataclass(frozen=True)
class Verified:
    """A signature that verified: which trusted key made it, and its statement."""

    key_name: str
    statement: dict[str, Any]


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: what is signed."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def statement(repository: str, digest: str, predicate: dict[str, Any]) -> dict[str, Any]:
    """An in-toto v1 statement whose subject is the artifact ``digest``."""
    algo, _, hexdigest = digest.partition(":")
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": repository, "digest": {algo: hexdigest}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": predicate,
    }


def private_key(pem: str) -> Any:
    """An Ed25519 private key from PEM (E630 when it is none)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, Ed25519PrivateKey):
        raise FloeError.single(
            E_KEY,
            "the signing key is no Ed25519 private key in PEM",
            WHERE,
            field_path="artifacts.signing.key",
            hint="generate one with 'openssl genpkey -algorithm ed25519'",
        )
    return key


def public_key(pem: str, name: str) -> Any:
    """An Ed25519 public key from PEM (E630 when it is none)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        key = load_pem_public_key(pem.encode())
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, Ed25519PublicKey):
        raise FloeError.single(E_KEY, f"trusted key '{name}' is no Ed25519 public key in PEM",
                               WHERE, field_path="artifacts.signing.trusted_keys",
                               hint="'openssl pkey -pubout' prints the public key of a "
                               "private one")  # fmt: skip
    return key


def envelope(stmt: dict[str, Any], key_pem: str, key_name: str) -> bytes:
    """The DSSE envelope of ``stmt`` signed with the Ed25519 key (canonical JSON bytes)."""
    payload = oci.canonical(stmt)
    sig = private_key(key_pem).sign(pae(PAYLOAD_TYPE, payload))
    doc = {
        "payloadType": PAYLOAD_TYPE,
        "payload": base64.b64encode(payload).decode(),
        "signatures": [{"keyid": key_name, "sig": base64.b64encode(sig).decode()}],
    }
    return oci.canonical(doc)


def verify_envelope(data: bytes, digest: str, trusted: Sequence[tuple[str, str]]) -> Verified:
    """The statement of a DSSE envelope whose signature verifies with a trusted key
    (``(name, public PEM)``) and whose subject is ``digest``; E632 otherwise."""
    from cryptography.exceptions import InvalidSignature

    try:
        doc = json.loads(data)
        payload = base64.b64decode(doc["payload"], validate=True)
        signatures = [(s.get("keyid", ""), base64.b64decode(s["sig"])) for s in doc["signatures"]]
        payload_type = str(doc["payloadType"])
    except (ValueError, KeyError, TypeError) as exc:
        raise _bad(digest, f"the envelope is malformed ({type(exc).__name__})") from None
    if not trusted:
        raise _bad(digest, "the manifest trusts no key (artifacts.signing.trusted_keys)")
    keys = [(name, public_key(pem, name)) for name, pem in trusted]
    for name, key in keys:
        for _keyid, sig in signatures:
            try:
                key.verify(sig, pae(payload_type, payload))
            except InvalidSignature:
                continue
            stmt: dict[str, Any] = json.loads(payload)
            _check_subject(stmt, digest)
            return Verified(name, stmt)
    raise _bad(digest, "no signature verifies with a key the manifest trusts")


def _check_subject(stmt: dict[str, Any], digest: str) -> None:
    algo, _, hexdigest = digest.partition(":")
    subjects = [s.get("digest", {}).get(algo) for s in stmt.get("subject", [])]
    if stmt.get("_type") != STATEMENT_TYPE or hexdigest not in subjects:
        raise _bad(digest, "the signed statement is about another artifact")


def _bad(digest: str, why: str) -> FloeError:
    return FloeError.single(
        E_BAD_SIGNATURE,
        f"the signature of {digest} is not valid: {why}",
        WHERE,
        field_path="artifacts.signing.trusted_keys",
        hint="sign the digest again with a trusted key (floe artifact sign), or trust the "
        "signer's public key in the manifest",
    )


def sign(client: RegistryClient, product: str, digest: str, key_pem: str, key_name: str,
         who: str) -> bytes:  # fmt: skip
    """Sign ``digest`` and attach the envelope to it; the envelope."""
    doc, _ = client.manifest_json(product, digest)
    found = client.get_manifest(product, digest)
    assert found is not None
    manifest_bytes = found[0]
    predicate = {
        "product": product,
        "version": doc.get("annotations", {}).get(oci.VERSION, ""),
        "signed_by": who,
        "signed_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
    }
    env = envelope(statement(client.repository(product), digest, predicate), key_pem, key_name)
    layer = client.put_blob(product, env, oci.DSSE_TYPE)
    empty = client.put_blob(product, oci.EMPTY_JSON, oci.EMPTY_TYPE)
    subject = oci.Descriptor(oci.MANIFEST_TYPE, digest, len(manifest_bytes))
    sig_manifest = oci.image_manifest(oci.SIGNATURE_TYPE, empty, [layer], None, subject)
    client.put_manifest(product, oci.attached_tag(digest, SIGNATURE_KIND), sig_manifest)
    return env


def verify(client: RegistryClient, product: str, digest: str,
           trusted: Sequence[tuple[str, str]]) -> Verified:  # fmt: skip
    """The verified signature attached to ``digest`` (E631 unsigned, E632 invalid)."""
    found = client.get_manifest(product, oci.attached_tag(digest, SIGNATURE_KIND))
    if found is None:
        raise FloeError.single(
            E_UNSIGNED,
            f"{client.repository(product)}@{digest} is not signed",
            WHERE,
            field_path="artifacts.signing",
            hint="floe artifact sign <product> --digest " + digest,
        )
    doc = json.loads(found[0])
    if doc.get("subject", {}).get("digest") != digest:
        raise _bad(digest, "the attached signature names another subject")
    layer = doc["layers"][0]
    data = client.get_blob(product, layer["digest"])
    return verify_envelope(data, digest, trusted)
