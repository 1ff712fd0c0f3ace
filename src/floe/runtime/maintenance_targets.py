"""What `floe tables maintain [<table|product>…]` maintains, and with which policy.

* a product directory (or its floe.yaml): every table of its namespace, with floe.yaml's
  ``maintenance`` settings and its platform's ``governance.snapshot_keep_last`` (its manifest
  found as `floe run` finds it, unless ``--manifest``);
* ``namespace.table``: that table (E573 when there is none);
* nothing: every table of the catalog but the audit trail's (``floe_audit``: its snapshot
  history is evidence — the summaries anchor the chain's head — and stays as it is unless the
  table is named).

A table named directly (and every table, with no target) gets the defaults (128 MiB, 3 days)
and the manifest's ``snapshot_keep_last``; ``--target-size`` / ``--older-than`` override either
for every target. Everything is resolved before the first table changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from floe.errors import FloeError
from floe.runtime.maintenance import MaintenancePolicy
from floe.spec.common import parse_duration, parse_size

#: The audit trail's namespace (floe.promote.audit.NAMESPACE), left out of "every table".
AUDIT_NAMESPACE = "floe_audit"

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

    from floe.runtime.home import PlatformHome
    from floe.spec.artifacts import MaintenanceArtifact
    from floe.spec.manifest import Manifest

E_BAD_OPTION = "E575"
_T = TypeVar("_T")


@dataclass
class Platform:
    """One platform's catalog and home, and the tables to maintain on it."""

    catalog: Catalog
    home: PlatformHome
    manifest: Manifest
    work: list[tuple[str, MaintenancePolicy]] = field(default_factory=list)


@dataclass(frozen=True)
class Overrides:
    """Policy fields set on the command line (None: keep the product's or the default)."""

    target_file_bytes: int | None = None
    orphan_older_than: timedelta | None = None

    def apply(self, policy: MaintenancePolicy) -> MaintenancePolicy:
        """``policy`` with these fields replaced."""
        if self.target_file_bytes is not None:
            policy = replace(policy, target_file_bytes=self.target_file_bytes)
        if self.orphan_older_than is not None:
            policy = replace(policy, orphan_older_than=self.orphan_older_than)
        return policy


def overrides(target_size: str | None, older_than: str | None) -> Overrides:
    """The options as policy fields (E575 when one cannot be read)."""
    size = _option("--target-size", target_size, parse_size)
    if size is not None and size < 1024:
        raise _bad("--target-size", f"'{target_size}' is under 1 KiB")
    age = _option("--older-than", older_than, parse_duration)
    return Overrides(size, timedelta(seconds=age) if age is not None else None)


def _option(name: str, text: str | None, parse: Callable[[str], _T]) -> _T | None:
    if text is None:
        return None
    try:
        return parse(text)
    except ValueError as exc:
        raise _bad(name, str(exc)) from None


def _bad(option: str, message: str) -> FloeError:
    return FloeError.single(
        E_BAD_OPTION, message, field_path=option,
        hint="sizes: 128MiB, 64MB, 1048576 (at least 1 KiB); ages: 3d, 12h, 30m, 0",
    )  # fmt: skip


def resolve(
    targets: list[str],
    manifest: Path | None,
    env: str,
    options: Overrides,
) -> list[Platform]:
    """The platforms and (table, policy) pairs the targets name, all resolved first."""
    platforms: dict[Path, Platform] = {}
    for target in targets or [""]:
        path = Path(target)
        if target and (path.is_dir() or path.name == "floe.yaml"):
            _add_product(platforms, path, manifest, env, options)
        else:
            _add_tables(platforms, target, manifest, env, options)
    return list(platforms.values())


def _platform(platforms: dict[Path, Platform], manifest_path: Path, manifest: Manifest,
              env: str) -> Platform:  # fmt: skip
    from floe.runtime.catalog import open_catalog
    from floe.runtime.home import PlatformHome
    from floe.runtime.platform import manifest_plugins

    key = manifest_path.resolve()
    if key not in platforms:
        home = PlatformHome.for_manifest(manifest_path, env)
        platforms[key] = Platform(open_catalog(manifest_plugins(manifest), home), home, manifest)
    return platforms[key]


def product_policy(settings: MaintenanceArtifact) -> MaintenancePolicy:
    """The compiled maintenance settings of a product as a policy."""
    return MaintenancePolicy(
        target_file_bytes=settings.target_file_bytes,
        keep_last=settings.snapshot_keep_last,
        orphan_older_than=timedelta(seconds=settings.orphan_older_than_seconds),
    )


def _add_product(
    platforms: dict[Path, Platform],
    product: Path,
    manifest: Path | None,
    env: str,
    options: Overrides,
) -> None:
    from floe.compile.context import CompileContext, CompileOptions
    from floe.compile.stages.build import namespace_of
    from floe.compile.stages.load import LoadStage
    from floe.plugins.registry import default_registry

    folder = product.parent if product.name == "floe.yaml" else product
    ctx = CompileContext(CompileOptions(folder, manifest, env), default_registry())
    LoadStage().run(ctx)
    assert ctx.manifest_doc is not None
    spec, platform_manifest = ctx.need_spec(), ctx.need_manifest()
    platform = _platform(platforms, ctx.manifest_doc.path, platform_manifest, env)
    settings = spec.maintenance
    policy = options.apply(
        MaintenancePolicy(
            target_file_bytes=parse_size(settings.target_file_size),
            keep_last=platform_manifest.governance.snapshot_keep_last,
            orphan_older_than=timedelta(seconds=parse_duration(settings.orphan_older_than)),
        )
    )
    namespace = namespace_of(spec.metadata.name)
    tables = namespace_tables(platform.catalog, namespace)
    platform.work += [(t, policy) for t in tables]


def _add_tables(
    platforms: dict[Path, Platform],
    identifier: str,
    manifest: Path | None,
    env: str,
    options: Overrides,
) -> None:
    from floe.runtime.home import find_manifest
    from floe.runtime.platform import load_manifest
    from floe.runtime.tables import load

    path = find_manifest(manifest)
    loaded = load_manifest(path, env)
    platform = _platform(platforms, path, loaded, env)
    policy = options.apply(MaintenancePolicy(keep_last=loaded.governance.snapshot_keep_last))
    if identifier:
        load(platform.catalog, identifier)  # E573 when there is no such table
        tables = [identifier]
    else:
        tables = [
            t for ns in sorted(platform.catalog.list_namespaces())
            if ".".join(ns) != AUDIT_NAMESPACE
            for t in namespace_tables(platform.catalog, ".".join(ns))
        ]  # fmt: skip
    platform.work += [(t, policy) for t in tables]


def namespace_tables(catalog: Catalog, namespace: str) -> list[str]:
    """The tables of a namespace (none when it does not exist yet)."""
    from pyiceberg.exceptions import NoSuchNamespaceError

    try:
        return sorted(".".join(t) for t in catalog.list_tables(namespace))
    except NoSuchNamespaceError:
        return []
