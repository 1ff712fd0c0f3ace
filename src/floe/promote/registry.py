"""An OCI registry through ``oras`` (its public ``Registry`` API): blobs, manifests, tags.

Every failure is a :class:`FloeError` that names the registry: unreachable (E621), refused
credentials (E622), any other refusal (E623), no such tag or digest (E625), content whose
digest is not the one asked for (E626). A registry that cannot be reached is never taken as
"nothing there": callers that gate on it block.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from floe.errors import FloeError, Location
from floe.promote.bundle import sha256_digest
from floe.promote.oci import DIGEST_RE, MANIFEST_TYPE, Descriptor

E_UNREACHABLE = "E621"
E_AUTH = "E622"
E_REFUSED = "E623"
E_NOT_FOUND = "E625"
E_DIGEST = "E626"
WHERE = Location("manifest.yaml")
PING_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Credentials:
    """Basic-auth credentials (resolved from secret references; never printed)."""

    username: str
    password: str = ""

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, password=***)"


class RegistryClient:
    """One registry (``host[:port][/prefix]``); a product is the repository ``<prefix>/<name>``."""

    def __init__(self, url: str, *, insecure: bool = False, credentials: Credentials | None = None):
        import oras.provider

        self.url = url.rstrip("/")
        self.host, _, self.prefix = self.url.partition("/")
        self.scheme = "http" if insecure else "https"
        self._oras = oras.provider.Registry(self.host, insecure=insecure, auth_backend="basic")
        if credentials is not None:
            self._oras.auth.set_basic_auth(credentials.username, credentials.password)
        self._checked = False

    def repository(self, product: str) -> str:
        """``host/prefix/product``."""
        return f"{self.url}/{product}"

    # -- reachability ------------------------------------------------------------------------

    def check(self) -> None:
        """The registry answers and accepts floe's credentials (E621/E622 otherwise). Called
        before anything else, so a registry that is down fails at once instead of after oras'
        retries."""
        if self._checked:
            return
        import requests

        url = f"{self.scheme}://{self.host}/v2/"
        try:
            self._oras.session.get(url, timeout=PING_TIMEOUT_S)
        except requests.RequestException as exc:
            raise FloeError.single(
                E_UNREACHABLE,
                f"the OCI registry {self.host} cannot be reached ({type(exc).__name__})",
                WHERE,
                field_path="artifacts.registry.url",
                hint="start the registry or correct artifacts.registry.url; nothing was changed",
            ) from None
        self._expect(self._request(url, "GET"), "check", ok=(200,))
        self._checked = True

    # -- blobs -------------------------------------------------------------------------------

    def put_blob(self, product: str, data: bytes, media_type: str) -> Descriptor:
        """Upload ``data`` (skipped when the registry has it); its descriptor."""
        self.check()
        container = self._oras.get_container(self.repository(product))
        desc = Descriptor(media_type, sha256_digest(data), len(data))
        layer = desc.to_json()
        if self._oras.blob_exists(layer, container):
            return desc
        with tempfile.TemporaryDirectory(prefix="floe-blob-") as tmp:
            path = Path(tmp) / "blob"
            path.write_bytes(data)
            response = self._oras.upload_blob(str(path), container, layer)
        self._expect(response, f"upload of {desc.digest}", ok=(201, 202))
        return desc

    def get_blob(self, product: str, digest: str) -> bytes:
        """The blob ``digest``, checked against it (E626 when it differs)."""
        self.check()
        container = self._oras.get_container(self.repository(product))
        url = f"{self.scheme}://{container.get_blob_url(digest)}"
        data = self._expect(self._request(url, "GET"), f"blob {digest}", ok=(200,)).content
        self._verify(data, digest, f"blob of {product}")
        return bytes(data)

    # -- manifests ---------------------------------------------------------------------------

    def put_manifest(self, product: str, reference: str, manifest: bytes) -> str:
        """Store ``manifest`` under ``reference`` (a tag, or its own digest); its digest."""
        self.check()
        url = self._manifest_url(product, reference)
        headers = {"Content-Type": MANIFEST_TYPE}
        response = self._request(url, "PUT", data=manifest, headers=headers)
        self._expect(response, f"push of {product}:{reference}", ok=(201,))
        return sha256_digest(manifest)

    def get_manifest(self, product: str, reference: str) -> tuple[bytes, str] | None:
        """The manifest bytes and digest at ``reference`` (tag or digest); None when absent.
        A manifest fetched by digest is checked against it."""
        self.check()
        url = self._manifest_url(product, reference)
        response = self._request(url, "GET", headers={"Accept": MANIFEST_TYPE})
        if response.status_code == 404:
            return None
        data = bytes(self._expect(response, f"manifest {product}:{reference}", ok=(200,)).content)
        digest = sha256_digest(data)
        if DIGEST_RE.match(reference):
            self._verify(data, reference, f"manifest of {product}")
        return data, digest

    def manifest_json(self, product: str, reference: str) -> tuple[dict[str, Any], str]:
        """The manifest at ``reference`` as JSON with its digest (E625 when absent)."""
        found = self.get_manifest(product, reference)
        if found is None:
            raise FloeError.single(
                E_NOT_FOUND,
                f"{self.repository(product)} has no artifact '{reference}'",
                WHERE,
                hint="floe artifact list <product> shows its versions, digests and env tags",
            )
        data, digest = found
        doc: dict[str, Any] = json.loads(data)
        return doc, digest

    def tags(self, product: str) -> list[str]:
        """Every tag of the product's repository (none when it does not exist yet)."""
        self.check()
        container = self._oras.get_container(self.repository(product))
        response = self._request(f"{self.scheme}://{container.tags_url()}", "GET")
        if response.status_code == 404:
            return []
        body = self._expect(response, f"tags of {product}", ok=(200,)).json()
        return sorted(body.get("tags") or [])

    # -- helpers -----------------------------------------------------------------------------

    def _manifest_url(self, product: str, reference: str) -> str:
        container = self._oras.get_container(self.repository(product))
        return f"{self.scheme}://{container.manifest_url(reference)}"

    def _request(self, url: str, method: str, **kwargs: Any) -> Any:
        import requests

        try:
            return self._oras.do_request(url, method, **kwargs)
        except (requests.RequestException, ValueError) as exc:
            raise FloeError.single(
                E_UNREACHABLE,
                f"the OCI registry {self.host} failed during {method} ({type(exc).__name__})",
                WHERE,
                field_path="artifacts.registry.url",
                hint="check that the registry is up and retry",
            ) from None

    def _expect(self, response: Any, what: str, *, ok: tuple[int, ...]) -> Any:
        status = int(response.status_code)
        if status in ok:
            return response
        if status in (401, 403):
            raise FloeError.single(
                E_AUTH,
                f"the OCI registry {self.host} refused floe's credentials ({status}) for {what}",
                WHERE,
                field_path="artifacts.registry",
                hint="set artifacts.registry.username/password to secret references and "
                "provide their values to the secrets plugin",
            )
        if status == 404:
            raise FloeError.single(
                E_NOT_FOUND,
                f"the OCI registry {self.host} has no {what}",
                WHERE,
                hint="floe artifact list <product> shows what it has",
            )
        raise FloeError.single(
            E_REFUSED,
            f"the OCI registry {self.host} answered {status} to {what}: {_errors(response)}",
            WHERE,
            field_path="artifacts.registry.url",
            hint="check the registry's log; nothing was promoted",
        )

    def _verify(self, data: bytes, digest: str, what: str) -> None:
        actual = sha256_digest(data)
        if actual != digest:
            raise FloeError.single(
                E_DIGEST,
                f"the {what} does not match its digest {digest} (got {actual})",
                WHERE,
                hint="the registry's content was altered: push the product again",
            )


def _errors(response: Any) -> str:
    try:
        errors = response.json().get("errors") or []
        return "; ".join(str(e.get("message", e)) for e in errors) or response.reason
    except ValueError:
        return str(response.reason)
