"""`floe promote`, `floe approve|reject`, `floe promote history`, `floe audit verify` and
`floe artifact run`: promotion through the environments (docs/promotion.md)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from floe.app.artifact import platform, product_name, trusted_keys
from floe.app.run import RunSummary
from floe.promote.audit import Record
from floe.promote.promotion import Outcome, Platform
from floe.promote.rego import Policy


def promotion_platform(manifest: Path | None, env: str) -> Platform:
    """The registry, the manifest's promotion settings of ``env``, the platform's own catalog
    and home (the audit trail, the requests) and where each environment keeps its runs."""
    from floe.runtime.home import PlatformHome
    from floe.runtime.platform import audit_plugins
    from floe.spec.manifest import Promotion

    where = platform(manifest, env)
    plugins = audit_plugins(where.path)
    conf = where.manifest.artifacts.promotion if where.manifest.artifacts else Promotion()
    home = plugins.home
    home.ensure()
    return Platform(
        client=where.client,
        manifest_path=where.path,
        state=home.root / "promotions",
        runs=lambda name: PlatformHome.for_manifest(where.path, name).runs,
        catalog=plugins.catalog(),
        trusted_keys=trusted_keys(where.manifest),
        advisories=(where.path.parent / conf.advisories).resolve(),
        approval_required=conf.approval_required,
        approvers=conf.approvers,
        rego=rego_policies(where.path, env, conf.rego),
    )


def rego_policies(manifest: Path, env: str, paths: list[str]) -> list[Policy]:
    """The Rego policy files of ``artifacts.promotion.rego`` (``env``'s overlay when it sets
    them), each with the manifest line that names it."""
    from floe.spec.yamlload import load_yaml

    if not paths:
        return []
    doc = load_yaml(manifest, what="manifest")
    overlay = ("environments", env, "artifacts", "promotion", "rego")
    prefix = overlay if (*overlay, 0) in doc.value_marks else overlay[2:]
    return [
        Policy((manifest.parent / path).resolve(), doc.location((*prefix, i)))
        for i, path in enumerate(paths)
    ]


def promote(product: str, source: str, target: str, digest: str | None = None,
            manifest: Path | None = None) -> Outcome:  # fmt: skip
    """Run the gates and move ``target``'s tag (or file an approval request)."""
    from floe.app.platform import acting_principal
    from floe.promote import promotion

    p = promotion_platform(manifest, target)
    return promotion.promote(
        p, product_name(product), source, target, digest, acting_principal(p.manifest_path, target)
    )


def approve(request_id: str, manifest: Path | None = None, env: str = "prod") -> Outcome:
    """Approve a pending promotion request (the caller must be an approver)."""
    from floe.app.platform import acting_principal
    from floe.promote import promotion

    p = promotion_platform(manifest, env)
    return promotion.approve(p, request_id, acting_principal(p.manifest_path, env))


def reject(request_id: str, reason: str, manifest: Path | None = None,
           env: str = "prod") -> Outcome:  # fmt: skip
    """Reject a pending promotion request with a reason."""
    from floe.app.platform import acting_principal
    from floe.promote import promotion

    p = promotion_platform(manifest, env)
    return promotion.reject(p, request_id, acting_principal(p.manifest_path, env), reason)


def history(manifest: Path | None = None, env: str | None = None,
            product: str | None = None) -> list[Record]:  # fmt: skip
    """The audit records, oldest first (those that touch ``env`` / ``product`` when given)."""
    from floe.promote import audit
    from floe.runtime.home import find_manifest
    from floe.runtime.platform import audit_plugins

    path = find_manifest(manifest)
    records = audit.read(audit_plugins(path).catalog())
    if env:
        records = [r for r in records if env in (r.from_env, r.to_env)]
    if product:
        records = [r for r in records if r.product == product_name(product)]
    return records


@dataclass(frozen=True)
class AuditCheck:
    """`floe audit verify`: how many records were checked and what is wrong."""

    records: int
    problems: list[str]


def verify_audit(manifest: Path | None = None) -> AuditCheck:
    """Recompute the hash chain of the whole audit trail and check its newest record against
    every anchor of the head: the audit table's snapshot summaries, the head file in the
    platform home and, when the manifest names a registry, ``floe.audit:head`` there."""
    from floe.errors import FloeError
    from floe.promote import audit
    from floe.promote.anchor import RegistryAnchor
    from floe.runtime.home import find_manifest
    from floe.runtime.platform import audit_plugins, home_env, load_manifest

    path = find_manifest(manifest)
    plugins = audit_plugins(path)
    catalog = plugins.catalog()
    records = audit.read(catalog)
    problems = audit.verify(records)
    heads = [audit.snapshot_head(catalog)]
    anchor = audit.file_anchor(plugins.home.root / "promotions" / "audit.lock")
    heads.append((anchor.name, anchor.read()))
    loaded = load_manifest(path, home_env(path))
    if loaded.artifacts is not None and loaded.artifacts.registry is not None:
        registry = RegistryAnchor(platform(path).client)
        try:
            heads.append((registry.name, registry.read()))
        except FloeError as exc:
            problems.append(f"{registry.name} cannot be read: {exc}")
    for where, head in heads:
        problems += audit.check_head(records, where, head)
    return AuditCheck(len(records), problems)


@dataclass(frozen=True)
class Checkout:
    """A digest of a product pulled into its environment's home, ready to compile and run."""

    product: str
    env: str
    digest: str
    workdir: Path
    manifest: Path


def is_product_name(target: str) -> bool:
    """True when ``target`` names a product in the registry rather than a local folder: no
    such path exists and it is a product name (``tiny``, ``customer-360``)."""
    import re

    return not Path(target).exists() and re.fullmatch(r"[a-z][a-z0-9_-]*", target) is not None


def checkout(product: str, env: str, digest: str | None = None,
             manifest: Path | None = None) -> Checkout:  # fmt: skip
    """Pull the digest ``env-<env>`` points at (or ``digest``) into ``env``'s home
    (``<env home>/artifacts/<product>/<hex>``; every blob checked against its digest)."""
    from floe.promote import oci
    from floe.promote.artifact import fetch_bundle
    from floe.promote.bundle import unpack
    from floe.runtime.home import PlatformHome

    name = product_name(product)
    where = platform(manifest, env)
    found, data = fetch_bundle(where.client, name, digest or oci.env_tag(env))
    home = PlatformHome.for_manifest(where.path, env)
    workdir = home.root / "artifacts" / name / found.removeprefix("sha256:")[:16]
    if not (workdir / "floe.yaml").is_file():
        unpack(data, workdir)
    return Checkout(name, env, found, workdir, where.path)


def run_artifact(
    product: str, env: str, digest: str | None = None, manifest: Path | None = None,
    **options: Any,
) -> tuple[str, RunSummary]:  # fmt: skip
    """Run exactly the digest ``env`` points at (or ``digest``) in ``env`` — its own catalog,
    warehouse and Dagster instance — without a local checkout; the run record names the
    digest and the environment (the evidence the source-run gate looks for)."""
    found, summary, _log = run_checkout(checkout(product, env, digest, manifest), **options)
    return found, summary


def run_checkout(co: Checkout, **options: Any) -> tuple[str, RunSummary, Path]:
    """:func:`floe.app.run.run_logged` on a checkout, tagged with its digest and environment
    (the run record carries them)."""
    from floe.app.run import run_logged

    summary, log = run_logged(co.workdir, manifest=co.manifest, env=co.env,
                              tags=provenance(co), **options)  # fmt: skip
    return co.digest, summary, log


def provenance(co: Checkout) -> dict[str, str]:
    """The run tags of a run of ``co``."""
    from floe.orchestrate.definitions import DIGEST_TAG, ENVIRONMENT_TAG

    return {DIGEST_TAG: co.digest, ENVIRONMENT_TAG: co.env}


@dataclass(frozen=True)
class RolledBack:
    """What `floe rollback` did: the digest now running and, with --data, the tables."""

    outcome: Outcome
    tables: list[str]


def rollback(product: str, env: str, to: str | None = None, *, data: bool = False,
             reason: str = "", manifest: Path | None = None) -> RolledBack:  # fmt: skip
    """Point ``env`` back at its previous digest (or ``to``); with ``data``, roll the
    product's Iceberg tables of ``env`` back to the snapshots current when the digest after
    it was promoted (what that digest's runs left)."""
    from floe.app.platform import acting_principal
    from floe.compile.stages.build import namespace_of
    from floe.promote import promotion
    from floe.runtime.platform import check_isolated, platform_plugins
    from floe.runtime.rollback import rollback_product

    p = promotion_platform(manifest, env)
    if data:
        check_isolated(p.manifest_path, env)  # E645 before anything moves
    who = acting_principal(p.manifest_path, env)
    out, promoted_at = promotion.rollback(p, product_name(product), env, to, who, reason)
    tables: list[str] = []
    if data:  # the tables of this environment only (its own catalog or warehouse)
        catalog = platform_plugins(p.manifest_path, env).catalog()
        namespace = namespace_of(product_name(product))
        tables = sorted(".".join(t) for t in catalog.list_tables(namespace))
        rollback_product(catalog, tables, promoted_at, reason or "floe rollback", who=who)
    return RolledBack(out, tables)
