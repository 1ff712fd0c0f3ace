"""Secrets plugins env/file/k8s, SecretStr values, failure events, URIs holding credentials."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import SecretStr
from structlog.testing import capture_logs

from floe.compile.api import compile_product
from floe.errors import FloeError
from floe.plugins.builtin.catalog_sql import with_password
from floe.runtime.catalog import catalog_properties
from floe.runtime.home import PlatformHome
from floe.runtime.secrets import secret_resolver
from floe.spec.common import PluginRef, SecretRef
from tests.conftest import TINY_MANIFEST


def _file_plugins(folder: Path) -> dict[str, PluginRef]:
    return {"secrets": PluginRef(type="file", config={"path": str(folder)})}


@pytest.mark.requirement("FR-065")
def test_file_plugin_reads_one_file_per_key_as_secretstr(tmp_path: Path) -> None:
    """A mounted Secret's file is the value (one trailing newline dropped), wrapped in a
    SecretStr that never prints; names cannot leave the directory."""
    (tmp_path / "DB_PASSWORD").write_text("s3cr3t-value\n")
    resolve = secret_resolver(_file_plugins(tmp_path))
    value = resolve(SecretRef(secret="DB_PASSWORD"))
    assert isinstance(value, SecretStr)
    assert value.get_secret_value() == "s3cr3t-value"
    assert "s3cr3t" not in f"{value} {value!r}"
    (tmp_path.parent / "outside").write_text("x")
    from floe.plugins.builtin.secrets_file import FileSecretsConfig, FileSecretsPlugin

    plugin = FileSecretsPlugin(FileSecretsConfig(path=str(tmp_path)))
    with pytest.raises(KeyError):
        plugin.resolve("../outside")


@pytest.mark.requirement("FR-067")
def test_missing_secret_is_a_clear_error_and_a_security_event(tmp_path: Path) -> None:
    """A missing file is E510 naming the secret and where to put it, and one
    security.secret_resolution_failed event with the name (no value)."""
    resolve = secret_resolver(_file_plugins(tmp_path))
    with capture_logs() as logs, pytest.raises(FloeError) as info:
        resolve(SecretRef(secret="NOPE"))
    diag = info.value.diagnostics[0]
    assert diag.code == "E510"
    assert diag.message == "secret 'NOPE' is not available from the 'file' secrets plugin"
    assert diag.hint == "provide NOPE as a file in the mounted secrets directory"
    assert logs == [{
        "event": "security.secret_resolution_failed", "category": "security",
        "log_level": "warning", "secret": "NOPE", "plugin": "file", "reason": "missing",
    }]  # fmt: skip


@pytest.mark.requirement("FR-061")
def test_k8s_plugin_names_secrets_and_refuses_to_resolve() -> None:
    """k8s gives a secretKeyRef for manifests; resolving at run time is E511 pointing at the
    file plugin with the mount path, and a security event."""
    plugins = {"secrets": PluginRef(type="k8s", config={"secret_name": "shop-secrets"})}
    from floe.runtime.secrets import secrets_plugin

    plugin = secrets_plugin(plugins)
    assert plugin.secret_key_ref("DB_PASSWORD") == {  # type: ignore[attr-defined]
        "secretKeyRef": {"name": "shop-secrets", "key": "DB_PASSWORD"}
    }
    with capture_logs() as logs, pytest.raises(FloeError) as info:
        secret_resolver(plugins)(SecretRef(secret="DB_PASSWORD"))
    diag = info.value.diagnostics[0]
    assert diag.code == "E511"
    assert "key 'DB_PASSWORD' of Secret 'shop-secrets'" in diag.message
    assert "use 'file' with the Secret mounted" in diag.hint
    assert "/var/run/secrets/floe" in diag.hint
    assert [(e["event"], e["reason"]) for e in logs] == [
        ("security.secret_resolution_failed", "unsupported")
    ]


@pytest.mark.requirement("FR-065")
def test_sql_catalog_password_goes_into_the_uri_only_at_run_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The catalog's password secret (env plugin) is URL-quoted into the URI's userinfo by
    catalog_properties; the config holds only the reference."""
    monkeypatch.setenv("PG_PW", "p@ss/word")
    plugins = {
        "catalog": PluginRef(
            type="sql",
            config={"uri": "postgresql+psycopg://floe@db:5432/cat",
                    "password": {"secret": "PG_PW"}},
        )
    }  # fmt: skip
    props = catalog_properties(plugins, PlatformHome(tmp_path))
    assert props["uri"] == "postgresql+psycopg://floe:p%40ss%2Fword@db:5432/cat"
    assert with_password("postgresql://u:old@h/d", "new") == "postgresql://u:new@h/d"
    with pytest.raises(ValueError, match="needs a user name"):
        with_password("postgresql://h/d", "x")


@pytest.mark.requirement("FR-061")
def test_uri_with_embedded_password_is_flagged_and_becomes_a_reference(tiny: Path) -> None:
    """A PostgreSQL URI with its password in manifest.yaml is P440 ('URL with an embedded
    password') and compiles to {secret: FLOE_CATALOG_URI}; the password is nowhere in target/."""
    manifest = TINY_MANIFEST.replace(
        "  catalog:\n    type: sql\n",
        "  catalog:\n    type: sql\n    config:\n"
        "      uri: postgresql+psycopg://floe:Hunter2Pw@db:5432/catalog\n",
    )
    (tiny / "manifest.yaml").write_text(manifest)
    ctx = compile_product(tiny)
    assert ctx.enforcement is not None
    found = [(v.code, v.location, v.message) for v in ctx.enforcement.violations]
    assert found == [(
        "P440", "manifest.yaml:15:12",
        "plaintext secret: value looks like a URL with an embedded password; "
        "floe replaced it by {secret: FLOE_CATALOG_URI} in the artifacts",
    )]  # fmt: skip
    data = json.loads((tiny / "target" / "floe" / "compiled_artifacts.json").read_text())
    assert data["plugins"]["catalog"]["config"] == {"uri": {"secret": "FLOE_CATALOG_URI"}}
    files = [p for p in (tiny / "target").rglob("*") if p.is_file()]
    assert len(files) == 3
    assert not [p for p in files if b"Hunter2Pw" in p.read_bytes()]
