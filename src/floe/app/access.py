"""Catalog access (FR-062): `floe platform rbac diff|apply` and the check before each run.

The manifest's ``access:`` rules against the catalog's live roles and grants, through the
platform's rbac plugin (``none`` on the embedded platform: nothing to manage), authenticated
by the identity's tokens (``oidc``) or the catalog's own credentials.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from floe.app.platform import open_platform
from floe.plugins.access import AccessPlan
from floe.runtime.platform import load_manifest

__all__ = ["AccessReport", "apply_access", "diff_access"]


@dataclass(frozen=True)
class AccessReport:
    """What `floe platform rbac` found (and did): the plan against the catalog as it was."""

    manifest: Path
    plugin: str
    plan: AccessPlan
    applied: bool = False


def diff_access(manifest: Path | None, env: str = "dev") -> AccessReport:
    """The manifest's access rules against the catalog: what is missing, what is drift."""
    return _report(manifest, env, apply=False)


def apply_access(manifest: Path | None, env: str = "dev") -> AccessReport:
    """Make the catalog's roles and grants those of the manifest (creating what is missing,
    removing the drift); a second apply finds nothing to do."""
    return _report(manifest, env, apply=True)


def _report(manifest: Path | None, env: str, *, apply: bool) -> AccessReport:
    platform = open_platform(manifest, env)
    plugins = platform.plugins
    rbac = plugins.rbac
    tokens = plugins.tokens if rbac.manages_access else None
    plan = rbac.plan(load_manifest(platform.manifest, env).access, tokens)
    if apply and not plan.in_sync:
        rbac.apply(plan, tokens)
    return AccessReport(platform.manifest, rbac.name, plan, applied=apply and not plan.in_sync)
