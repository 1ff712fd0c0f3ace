"""`floe artifact push|pull|list|show|sign|verify`: a product's OCI artifacts in the registry
the manifest names (docs/promotion.md)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from floe.errors import FloeError, Location
from floe.promote import oci
from floe.promote.artifact import ArtifactInfo
from floe.promote.registry import Credentials, RegistryClient
from floe.spec.manifest import Manifest

E_NO_REGISTRY = "E620"


@dataclass(frozen=True)
class Platform:
    """The manifest (with its environment overlay) and how to reach its registry."""

    path: Path
    env: str
    manifest: Manifest
    client: RegistryClient

    def secret(self, ref: object) -> str:
        """A secret reference resolved through the manifest's secrets plugin."""
        from floe.runtime.platform import platform_plugins
        from floe.runtime.resolved import plain

        return plain(platform_plugins(self.path, self.env).resolve(ref))  # type: ignore[arg-type]


def platform(manifest: Path | None, env: str = "dev", registry: str | None = None) -> Platform:
    """The platform of ``manifest`` (found as every command finds it) and its registry client;
    ``registry`` (``[http://]host[:port]/path``) overrides ``artifacts.registry.url``."""
    from floe.runtime.home import find_manifest
    from floe.runtime.platform import load_manifest, platform_plugins
    from floe.runtime.resolved import plain

    path = find_manifest(manifest)
    loaded = load_manifest(path, env)
    reg = loaded.artifacts.registry if loaded.artifacts else None
    if reg is None and registry is None:
        raise FloeError.single(
            E_NO_REGISTRY,
            "the manifest names no OCI registry for artifacts",
            Location(str(path)),
            field_path="artifacts.registry",
            hint="add 'artifacts: {registry: {url: HOST[:PORT]/PATH}}' to the manifest, or "
            "pass --registry (floe run and floe workspace look a name that is no folder up "
            "in the registry: check the path if you meant a product folder)",
        )
    url = registry or (reg.url if reg else "")
    insecure = url.startswith("http://") or bool(reg and reg.insecure)
    url = url.removeprefix("http://").removeprefix("https://")
    credentials = None
    if reg is not None and reg.username is not None:
        resolve = platform_plugins(path, env).resolve
        password = plain(resolve(reg.password)) if reg.password else ""
        credentials = Credentials(plain(resolve(reg.username)), password)
    client = RegistryClient(url, insecure=insecure, credentials=credentials)
    return Platform(path, env, loaded, client)


@dataclass(frozen=True)
class Pushed:
    """What `floe artifact push` did."""

    product: str
    version: str
    digest: str
    repository: str
    tags: list[str]
    files: int


def push(product_dir: Path, manifest: Path | None = None, env: str = "dev",
         registry: str | None = None) -> Pushed:  # fmt: skip
    """Compile the product for ``env``, pack it and push it (version and environment tags)."""
    from floe.app.platform import acting_principal
    from floe.compile.api import compile_product
    from floe.compile.canonical import canonical_json
    from floe.promote import artifact
    from floe.promote.bundle import product_bundle

    ctx = compile_product(product_dir, manifest=manifest, env=env)
    assert ctx.artifacts is not None
    assert ctx.manifest_doc is not None
    where = platform(ctx.manifest_doc.path, env, registry)
    doc = ctx.artifacts.model_dump(mode="json", by_alias=True)
    bundle = product_bundle(product_dir, canonical_json(doc).encode("utf-8"),
                            exclude={ctx.manifest_doc.path})  # fmt: skip
    name, version = ctx.artifacts.metadata.product, ctx.artifacts.metadata.version
    config = artifact.config_document(doc, bundle)
    who = acting_principal(where.path, env)
    digest = artifact.push(where.client, name, version, config, bundle, env=env, who=who)
    _audit(where, who=who, action="push", product=name, digest=digest, to_env=env)
    return Pushed(name, version, digest, where.client.repository(name),
                  [version, oci.env_tag(env)], len(bundle.files))  # fmt: skip


def _audit(where: Platform, **fields: str) -> None:
    """Append a record to the platform's audit trail (docs/promotion.md#audit-trail)."""
    from floe.promote import audit
    from floe.promote.anchor import RegistryAnchor
    from floe.runtime.platform import audit_plugins

    plugins = audit_plugins(where.path)
    lock = plugins.home.root / "promotions" / "audit.lock"
    audit.append(plugins.catalog(), lock, anchors=[RegistryAnchor(where.client)],
                 **fields)  # type: ignore[arg-type]  # fmt: skip


def product_name(product: str) -> str:
    """A product name, or the name in ``<product>/floe.yaml`` when ``product`` is its folder."""
    spec = Path(product) / "floe.yaml"
    if spec.is_file():
        import yaml

        data = yaml.safe_load(spec.read_text(encoding="utf-8")) or {}
        return str(data.get("metadata", {}).get("name", product))
    return product


def reference(version: str | None, digest: str | None, env: str | None) -> str:
    """The registry reference of the options: a digest, a version, or an environment's tag."""
    if digest:
        return digest
    if version:
        return version
    return oci.env_tag(env or "dev")


def list_artifacts(product: str, manifest: Path | None = None,
                   registry: str | None = None) -> list[ArtifactInfo]:  # fmt: skip
    """Every version and environment digest of the product in the registry."""
    from floe.promote import artifact

    name = product_name(product)
    return artifact.list_artifacts(platform(manifest, registry=registry).client, name)


def show(product: str, ref: str, manifest: Path | None = None,
         registry: str | None = None) -> ArtifactInfo:  # fmt: skip
    """One artifact: digest, tags, who pushed it and when, signature, files."""
    from floe.promote import artifact

    name = product_name(product)
    client = platform(manifest, registry=registry).client
    return artifact.describe(client, name, artifact.resolve(client, name, ref))


@dataclass(frozen=True)
class Pulled:
    """What `floe artifact pull` wrote."""

    product: str
    digest: str
    out: Path
    files: list[Path]


def pull(product: str, ref: str, out: Path | None = None, manifest: Path | None = None,
         registry: str | None = None) -> Pulled:  # fmt: skip
    """Download the bundle ``ref`` names (checked against its digest) and unpack it."""
    from floe.promote import artifact
    from floe.promote.bundle import unpack

    name = product_name(product)
    client = platform(manifest, registry=registry).client
    digest, data = artifact.fetch_bundle(client, name, ref)
    dest = out or Path(f"{name}-{digest.removeprefix('sha256:')[:12]}")
    return Pulled(name, digest, dest, unpack(data, dest))


@dataclass(frozen=True)
class Signed:
    """What `floe artifact sign` attached."""

    product: str
    digest: str
    key_name: str
    tag: str


def sign(product: str, ref: str, manifest: Path | None = None, env: str = "dev",
         registry: str | None = None) -> Signed:  # fmt: skip
    """Sign the digest ``ref`` names with the manifest's signing key (a secret reference)."""
    from floe.app.platform import acting_principal
    from floe.promote import artifact, signing

    name = product_name(product)
    where = platform(manifest, env, registry)
    conf = where.manifest.artifacts.signing if where.manifest.artifacts else None
    if conf is None or conf.key is None:
        raise FloeError.single(
            signing.E_KEY,
            "the manifest names no signing key",
            Location(str(where.path)),
            field_path="artifacts.signing.key",
            hint="add 'artifacts: {signing: {key: {secret: NAME}}}' with an Ed25519 PEM key",
        )
    digest = artifact.resolve(where.client, name, ref)
    signing.sign(where.client, name, digest, where.secret(conf.key), conf.key_name,
                 acting_principal(where.path, env))  # fmt: skip
    return Signed(name, digest, conf.key_name, oci.attached_tag(digest, signing.SIGNATURE_KIND))


def trusted_keys(manifest: Manifest) -> list[tuple[str, str]]:
    """``(name, public PEM)`` of every key the manifest trusts."""
    conf = manifest.artifacts.signing if manifest.artifacts else None
    return [(k.name, k.public_key) for k in conf.trusted_keys] if conf else []


def verify(product: str, ref: str, manifest: Path | None = None, env: str = "dev",
           registry: str | None = None) -> tuple[str, str]:  # fmt: skip
    """The digest ``ref`` names and the trusted key whose signature over it verifies."""
    from floe.promote import artifact, signing

    name = product_name(product)
    where = platform(manifest, env, registry)
    digest = artifact.resolve(where.client, name, ref)
    verified = signing.verify(where.client, name, digest, trusted_keys(where.manifest))
    return digest, verified.key_name
