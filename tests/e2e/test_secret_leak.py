"""Secrets never leak (FR-061, FR-065): a product runs with its catalog password taken from a
mounted secrets directory (the `file` secrets plugin) or the environment (`env`); afterwards
no artifact, log, run record, catalog/warehouse file or CLI output holds the password — also
not when it is wrong."""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.conftest import TINY_MANIFEST, run_floe, write_tiny
from tests.e2e.servers import postgres_server


def _manifest(uri_without_password: str, plugin: str, secrets_dir: Path) -> str:
    manifest = TINY_MANIFEST.replace(
        "  catalog:\n    type: sql\n",
        "  catalog:\n    type: sql\n    config:\n"
        f"      uri: '{uri_without_password}'\n"
        "      password: {secret: CATALOG_DB_PASSWORD}\n",
    )
    if plugin == "env":  # the default secrets plugin
        return manifest
    return manifest.replace(
        "  storage:\n    type: local\n",
        "  storage:\n    type: local\n  secrets:\n    type: file\n"
        f"    config: {{path: '{secrets_dir}'}}\n",
    )


def _hits(root: Path, values: list[str], outputs: list[str]) -> list[str]:
    """Every file under ``root`` (any size, binary too) and every output holding a value."""
    needles = [v.encode() for v in values]
    found = [
        str(path.relative_to(root))
        for path in sorted(root.rglob("*"))
        if path.is_file() and any(n in path.read_bytes() for n in needles)
    ]
    found += [f"output #{i}" for i, text in enumerate(outputs) if any(v in text for v in values)]
    return found


@pytest.mark.requirement("FR-065")
@pytest.mark.parametrize("plugin", ["file", "env"])
def test_catalog_password_secret_appears_nowhere(tmp_path: Path, plugin: str) -> None:
    """compile (with a JSON report), run, tables list: all succeed against PostgreSQL with the
    password resolved at run time (from a mounted file, or the environment); then a wrong
    password fails the run with a clear error. Neither password is in any file below the
    product (target/, the platform home with its Dagster run records, logs, catalog and
    warehouse) nor in any CLI output."""
    password = "pw/" + secrets.token_hex(12) + "@:x"
    wrong = "wrong-" + secrets.token_hex(12)
    secrets_dir = tmp_path / "mounted-secrets"
    secrets_dir.mkdir()
    store = secrets_dir / "CATALOG_DB_PASSWORD"
    store.write_text(password + "\n")
    env = {"CATALOG_DB_PASSWORD": password} if plugin == "env" else {}
    product = write_tiny(tmp_path / "tiny")
    outputs: list[str] = []
    with postgres_server(password) as uri:
        bare = uri.replace(f":{quote(password, safe='')}@", "@")
        assert password not in bare
        (product / "manifest.yaml").write_text(_manifest(bare, plugin, secrets_dir))
        report = product / "target" / "r.json"
        compiled = run_floe("compile", product, "--report", "json", report, env=env)
        assert compiled.code == 0, compiled.err
        ran = run_floe("run", product, env=env)
        assert ran.code == 0, ran.out + ran.err
        assert "tiny: succeeded" in ran.out
        listed = run_floe("tables", "list", "-m", product / "manifest.yaml", env=env)
        assert "tiny.mart_revenue" in listed.out
        store.write_text(wrong)
        failed = run_floe("run", product, env={"CATALOG_DB_PASSWORD": wrong} if env else {})
        assert failed.code != 0
        outputs += [r.out + r.err for r in (compiled, ran, listed, failed)]
    assert "password authentication failed" in failed.out + failed.err
    assert _hits(tmp_path, [password, quote(password, safe=""), wrong], outputs) == [
        "mounted-secrets/CATALOG_DB_PASSWORD"
    ]
    searched = [p for p in (product / ".floe").rglob("*") if p.is_file()]
    assert any(p.suffix == ".db" for p in searched)  # Dagster's run and event storage
    assert len(searched) > 10
