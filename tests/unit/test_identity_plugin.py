"""The identity plugin decides who is acting: ``local`` ($FLOE_USER, else the OS user) by
default, ``static`` (a subject named in the manifest) when chosen; the platform asks it
through ResolvedPlugins.identity (acting_principal, used by every audit and rollback record)."""

from __future__ import annotations

import getpass
from pathlib import Path

import pytest

from floe.app.platform import acting_principal


def _manifest(platform_copy: Path, identity: str | None) -> Path:
    text = (platform_copy / "manifest.yaml").read_text(encoding="utf-8")
    assert text.count("\nplugins:\n") == 1
    if identity is not None:
        text = text.replace("\nplugins:\n", f"\nplugins:\n  identity:\n{identity}")
    path = platform_copy / "manifest-identity.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.requirement("SC-006")
def test_local_identity_is_floe_user_else_the_os_user(
    platform_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a choice the subject is $FLOE_USER when set, else the login name."""
    monkeypatch.setenv("FLOE_HOME", str(platform_copy / ".home"))
    manifest = _manifest(platform_copy, None)
    monkeypatch.setenv("FLOE_USER", "alice@example.com")
    assert acting_principal(manifest) == "alice@example.com"
    monkeypatch.delenv("FLOE_USER")
    assert acting_principal(manifest) == getpass.getuser()


@pytest.mark.requirement("SC-006")
def test_static_identity_names_the_subject_whatever_floe_user_says(
    platform_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``identity: {type: static, config: {subject: svc-floe}}`` is who acts, $FLOE_USER
    notwithstanding."""
    monkeypatch.setenv("FLOE_HOME", str(platform_copy / ".home"))
    monkeypatch.setenv("FLOE_USER", "alice@example.com")
    manifest = _manifest(platform_copy, "    type: static\n    config: {subject: svc-floe}\n")
    assert acting_principal(manifest) == "svc-floe"
