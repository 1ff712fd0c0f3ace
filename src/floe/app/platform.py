"""The platform a command works on: its manifest, its home, its plugins resolved once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from floe.runtime.home import PlatformHome, find_manifest
from floe.runtime.platform import Check, check, platform_plugins
from floe.runtime.resolved import ResolvedPlugins

__all__ = ["Check", "Platform", "acting_principal", "checks", "open_platform"]


@dataclass(frozen=True)
class Platform:
    """The manifest found for a command, and the platform's plugins resolved once."""

    manifest: Path
    plugins: ResolvedPlugins

    @property
    def home(self) -> PlatformHome:
        """The platform home."""
        return self.plugins.home


def open_platform(manifest: Path | None, env: str = "dev") -> Platform:
    """The platform of ``manifest`` (else ``$FLOE_MANIFEST``, the nearest manifest.yaml, or
    the manifest ``$FLOE_HOME`` remembers)."""
    path = find_manifest(manifest)
    return Platform(path, platform_plugins(path, env))


def home_of(manifest: Path | None) -> PlatformHome:
    """The platform home of the manifest a command finds (nothing else is read)."""
    return PlatformHome.for_manifest(find_manifest(manifest))


def checks(manifest: Path | None, env: str, *, create: bool) -> tuple[Path, list[Check]]:
    """``floe platform up`` (``create``) or ``status``: the manifest and every check."""
    path = find_manifest(manifest)
    return path, check(path, env, create=create)


def acting_principal(manifest: Path | None, env: str = "dev") -> str:
    """Who is acting, as the manifest's identity plugin says (``local``: ``$FLOE_USER``, else
    the OS user; ``oidc``: its tokens' subject): the one answer every audit record and
    rollback record carries."""
    return open_platform(manifest, env).plugins.principal()
