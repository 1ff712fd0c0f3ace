"""Catalog authentication failures are clear errors and structured security events (FR-067),
against the Polaris wire double (tests/e2e/fake_polaris.py) answering 401 to bad credentials."""

from __future__ import annotations

from pathlib import Path

import pytest
from structlog.testing import capture_logs

from floe.errors import FloeError
from floe.runtime.catalog import catalog_plugin, open_catalog
from floe.runtime.home import PlatformHome
from floe.runtime.live_schema import read_namespace
from floe.runtime.resolved import ResolvedPlugins
from floe.runtime.secrets import secret_resolver
from floe.spec.common import PluginRef
from tests.e2e.fake_polaris import fake_polaris

WRONG = "wrong-secret-value-42"


def _plugins(base: str) -> dict[str, PluginRef]:
    return {
        "catalog": PluginRef(type="polaris", config={
            "uri": f"{base}/api/catalog", "warehouse": "lakehouse",
            "oauth2": {"client_id": "floe-admin", "client_secret": {"secret": "POLARIS_SECRET"}},
        }),
    }  # fmt: skip


@pytest.mark.requirement("FR-067")
def test_refused_catalog_credentials_are_an_error_and_an_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opening the catalog with a wrong client secret: E532 without the secret in it, and one
    security.catalog_auth_failed event; the platform bootstrap's token exchange: E530 and an
    event with the HTTP status; the compile-time live read: skipped with W150 and an event."""
    monkeypatch.setenv("POLARIS_SECRET", WRONG)
    with fake_polaris("floe-admin", "right-value") as (base, _state):
        plugins = _plugins(base)
        with capture_logs() as logs, pytest.raises(FloeError) as info:
            open_catalog(plugins, PlatformHome(tmp_path / ".floe"))
        diag = info.value.diagnostics[0]
        assert diag.code == "E532"
        assert diag.message.startswith("the catalog 'floe' refused floe's credentials (")
        assert WRONG not in info.value.render()
        assert [(e["event"], e["catalog"]) for e in logs] == [
            ("security.catalog_auth_failed", "floe")
        ]
        with capture_logs() as logs, pytest.raises(FloeError) as info:
            catalog_plugin(plugins).bootstrap(secret_resolver(plugins))
        assert info.value.diagnostics[0].code == "E530"
        assert WRONG not in info.value.render()
        assert [(e["event"], e["status"], e["client_id"]) for e in logs] == [
            ("security.catalog_auth_failed", 401, "floe-admin")
        ]
        with capture_logs() as logs:
            live = read_namespace(
                ResolvedPlugins(plugins, PlatformHome(tmp_path / ".floe")), "shop"
            )
        assert live.tables is None
        assert live.warning is not None
        assert live.warning.code == "W150"
        assert "refused floe's credentials" in live.warning.message
        assert [e["event"] for e in logs] == ["security.catalog_auth_failed"]
    assert all(WRONG not in str(e) for e in logs)
