"""`floe platform up|status`: create the platform home and check every piece of it."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from floe.plugins.base import HealthState, PluginType
from floe.runtime.home import PlatformHome
from floe.runtime.resolved import ResolvedPlugins
from floe.spec.common import PluginRef
from floe.spec.manifest import PLUGIN_CATEGORIES, Manifest

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog


class Check(NamedTuple):
    """One health check's outcome."""

    name: str
    ok: bool
    detail: str


def load_manifest(path: Path, env: str = "dev") -> Manifest:
    """The manifest with its environment overlay (LOAD stage rules)."""
    from floe.compile.stages.load import manifest_for_env
    from floe.spec.yamlload import load_yaml

    return manifest_for_env(load_yaml(path, what="manifest.yaml"), env)


def manifest_plugins(manifest: Manifest) -> dict[str, PluginRef]:
    """The manifest's chosen plugins by category."""
    chosen = {c: getattr(manifest.plugins, c) for c in PLUGIN_CATEGORIES}
    return {c: ref for c, ref in chosen.items() if ref is not None}


def platform_plugins(path: Path, env: str = "dev") -> ResolvedPlugins:
    """The plugins a manifest chooses, resolved once, on the platform home it serves."""
    chosen = manifest_plugins(load_manifest(path, env))
    return ResolvedPlugins(chosen, PlatformHome.for_manifest(path, env))


def home_env(path: Path) -> str:
    """The environment whose home is the platform home's root: the manifest's first (``dev``
    when it lists none)."""
    from floe.runtime.home import first_environment

    return first_environment(path) or "dev"


E_SHARED_CATALOG = "E645"


def check_isolated(path: Path, env: str) -> None:
    """E645 when ``env`` — not the manifest's first environment — would write into the
    catalog of another environment: a catalog configured with its own ``uri``/``warehouse``
    (not derived from the environment's home) that ``env``'s overlay leaves as another
    environment has it."""
    from floe.errors import FloeError, Location
    from floe.runtime.home import first_environment

    first = first_environment(path)
    if first is None or env == first:
        return
    mine = load_manifest(path, env)
    ref = mine.plugins.catalog
    if ref is None or not ({"uri", "warehouse"} & {k for k, v in ref.config.items() if v}):
        return
    shared = [
        e for e in mine.environments if e != env and load_manifest(path, e).plugins.catalog == ref
    ]
    if shared:
        raise FloeError.single(
            E_SHARED_CATALOG,
            f"environment '{env}' would write into the catalog of '{shared[0]}' "
            f"({ref.type} catalog with the same configuration)",
            Location(str(path)),
            field_path=f"environments.{env}.plugins.catalog",
            hint=f"give '{env}' its own catalog in its overlay: another warehouse or uri under "
            f"environments.{env}.plugins.catalog.config",
        )


def audit_plugins(path: Path) -> ResolvedPlugins:
    """The plugins of the platform's own catalog — the first environment's, on the home's
    root — where the audit trail of every environment lives."""
    return platform_plugins(path, home_env(path))


def catalog_for_manifest(path: Path, env: str = "dev") -> Catalog:
    """The platform's Iceberg catalog, as configured by a manifest."""
    return platform_plugins(path, env).catalog()


def check(manifest_path: Path, env: str = "dev", *, create: bool = False) -> list[Check]:
    """Health of the platform: home, catalog, warehouse, each plugin's own check and each
    service of ``platform.services`` (a deployed platform) on its health endpoint."""
    from floe.runtime.services import check_services

    manifest = load_manifest(manifest_path, env)
    home = PlatformHome.for_manifest(manifest_path, env)
    plugins = ResolvedPlugins(manifest_plugins(manifest), home)
    checks = check_platform(plugins, create=create)
    services = check_services(manifest.platform.services)
    checks += [Check(f"service {name}", ok, detail) for name, ok, detail in services]
    if create:  # `floe platform up`: from now on this home serves this manifest
        plugins.home.remember_manifest(replace=True)
    return checks


def check_platform(plugins: ResolvedPlugins, *, create: bool) -> list[Check]:
    """The checks of :func:`check` for already-resolved plugins (also used by the sensor)."""
    home = plugins.home
    checks: list[Check] = []
    if create:
        home.ensure()
    checks.append(Check("home", home.root.is_dir(), str(home.root)))
    if create:
        checks.append(_bootstrap(plugins))
    checks.append(_catalog(plugins))
    checks.append(_warehouse(home))
    for category, ref in plugins.choices.items():
        try:
            plugin = plugins.plugin(PluginType(category))
            assert plugin is not None
            status = plugin.health_check()
            ok = status.state is not HealthState.UNHEALTHY
            checks.append(Check(f"plugin {category}:{ref.type}", ok, status.message))
        except Exception as exc:  # a broken plugin is a failed check, not a crash
            checks.append(Check(f"plugin {category}:{ref.type}", False, str(exc)))
    return checks


def _bootstrap(plugins: ResolvedPlugins) -> Check:
    """Let the catalog plugin create/verify its catalog (Polaris); errors are raised: a
    platform whose catalog cannot be bootstrapped is not up."""
    catalog = plugins.catalog_plugin
    tokens = plugins.identity_tokens if catalog.bearer_auth else None
    if tokens is None:  # a catalog plugin written before ``tokens`` takes one argument
        return Check("catalog bootstrap", True, catalog.bootstrap(plugins.resolve))
    done = catalog.bootstrap(plugins.resolve, tokens)
    return Check("catalog bootstrap", True, done)


def _catalog(plugins: ResolvedPlugins) -> Check:
    try:
        catalog = plugins.catalog()
        namespaces = catalog.list_namespaces()
        return Check("catalog", True, f"reachable, {len(namespaces)} namespace(s)")
    except Exception as exc:  # reported, not raised: status shows every problem
        return Check("catalog", False, f"{type(exc).__name__}: {exc}")


def _warehouse(home: PlatformHome) -> Check:
    probe = home.warehouse / f".probe-{uuid.uuid4().hex}"
    try:
        home.warehouse.mkdir(parents=True, exist_ok=True)
        probe.write_text("ok")
        probe.unlink()
        return Check("warehouse", True, f"{home.warehouse} writable")
    except OSError as exc:
        return Check("warehouse", False, f"{home.warehouse}: {exc.strerror}")
