"""The polaris catalog plugin: OAuth2 client credentials from a secret reference, catalog
bootstrap through the management API, and PyIceberg's RestCatalog connecting with the token.

Tested against ``tests/e2e/fake_polaris.py``, a local HTTP server speaking the real Polaris
JSON shapes for the endpoints floe calls, because a live Polaris cannot run on this machine.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from floe.runtime.catalog import open_catalog
from floe.runtime.home import PlatformHome
from floe.spec.common import PluginRef
from tests.conftest import run_floe
from tests.e2e.fake_polaris import TOKEN, fake_polaris

MANIFEST = """\
apiVersion: floe.dev/v1
kind: Manifest
metadata: {{name: polaris-platform, version: 1.0.0, owner: platform@example.com}}
plugins:
  compute: {{type: duckdb}}
  catalog:
    type: polaris
    config:
      uri: {base}/api/catalog
      warehouse: lakehouse
      default_base_location: s3://lake/warehouse
      oauth2:
        client_id: floe-admin
        client_secret: {{secret: POLARIS_SECRET}}
  storage:
    type: s3
    config: {{bucket: lake, endpoint: "http://127.0.0.1:1", path_style_access: true}}
"""


@pytest.mark.requirement("WU1-AC1")
@pytest.mark.requirement("WU1-BC1")
def test_platform_up_bootstraps_the_catalog_once_and_verifies_it(tmp_path: Path) -> None:
    """First `platform up` creates the catalog (201) and verifies it with GET; the second
    meets 409 and still verifies; every management call carries the exchanged token."""
    with fake_polaris("floe-admin", "s3cr3t-value") as (base, state):
        (tmp_path / "manifest.yaml").write_text(MANIFEST.format(base=base))
        env = {"POLARIS_SECRET": "s3cr3t-value"}
        first = run_floe("platform", "up", "--manifest", tmp_path / "manifest.yaml", env=env)
        assert "catalog 'lakehouse' created and verified" in first.out, first.out + first.err
        assert state.catalogs["lakehouse"]["storageConfigInfo"] == {
            "storageType": "S3",
            "allowedLocations": ["s3://lake/warehouse"],
        }
        assert state.catalogs["lakehouse"]["properties"] == {
            "default-base-location": "s3://lake/warehouse"
        }
        second = run_floe("platform", "up", "--manifest", tmp_path / "manifest.yaml", env=env)
        assert "catalog 'lakehouse' exists and verified" in second.out, second.out + second.err
        mgmt = [r for r in state.requests if r[1].startswith("/api/management")]
        assert [(m, p) for m, p, _ in mgmt] == [
            ("POST", "/api/management/v1/catalogs"),
            ("GET", "/api/management/v1/catalogs/lakehouse"),
            ("POST", "/api/management/v1/catalogs"),
            ("GET", "/api/management/v1/catalogs/lakehouse"),
        ]
        assert {auth for _, _, auth in mgmt} == {f"Bearer {TOKEN}"}
        assert "s3cr3t-value" not in first.out + first.err + second.out + second.err


@pytest.mark.requirement("WU1-BC4")
def test_failed_token_exchange_exits_non_zero_with_a_clear_message(tmp_path: Path) -> None:
    """A wrong client secret: exit 2, the token URL, HTTP 401 and the secret's name — never
    its value."""
    with fake_polaris("floe-admin", "right-value") as (base, state):
        (tmp_path / "manifest.yaml").write_text(MANIFEST.format(base=base))
        res = run_floe("platform", "up", "--manifest", tmp_path / "manifest.yaml",
                       env={"POLARIS_SECRET": "wrong-value"})  # fmt: skip
        assert res.code == 2
        assert (
            f"error[E530]: plugins.catalog.config.oauth2: Polaris token exchange failed at "
            f"{base}/api/catalog/v1/oauth/tokens: HTTP 401: The client is not authorized"
        ) in res.err
        assert "check client_id 'floe-admin' and the secret 'POLARIS_SECRET'" in res.err
        assert "wrong-value" not in res.err + res.out
        assert state.catalogs == {}


@pytest.mark.requirement("FR-022")
def test_pyiceberg_rest_catalog_connects_with_client_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """open_catalog gives a RestCatalog that exchanged the credentials and sends the token."""
    monkeypatch.setenv("POLARIS_SECRET", "s3cr3t-value")
    with fake_polaris("floe-admin", "s3cr3t-value") as (base, state):
        plugins = {
            "catalog": PluginRef(type="polaris", config={
                "uri": f"{base}/api/catalog", "warehouse": "lakehouse",
                "oauth2": {"client_id": "floe-admin",
                           "client_secret": {"secret": "POLARIS_SECRET"}},
            }),
        }  # fmt: skip
        catalog = open_catalog(plugins, PlatformHome(tmp_path / ".floe"))
        assert type(catalog).__name__ == "RestCatalog"
        assert catalog.list_namespaces() == []
        paths = [(m, p) for m, p, _ in state.requests]
        assert ("POST", "/api/catalog/v1/oauth/tokens") in paths
        assert ("GET", "/api/catalog/v1/config") in paths
        authed = [a for m, p, a in state.requests if p.endswith("/namespaces")]
        assert authed == [f"Bearer {TOKEN}"]


@pytest.mark.requirement("15-FR-015")
def test_rest_plugin_properties_and_health_against_a_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`rest` passes uri, warehouse and the bearer token (from a secret) to PyIceberg, and its
    health check reports a server that demands authentication as reachable."""
    from floe.plugins.builtin.catalog_rest import RestCatalogPlugin
    from floe.runtime.catalog import catalog_properties

    monkeypatch.setenv("REST_TOKEN", TOKEN)
    with fake_polaris("x", "y") as (base, state):
        ref = PluginRef(type="rest", config={
            "uri": f"{base}/api/catalog", "warehouse": "lakehouse",
            "token": {"secret": "REST_TOKEN"},
        })  # fmt: skip
        props = catalog_properties({"catalog": ref}, PlatformHome(tmp_path / ".floe"))
        assert {k: props[k] for k in ("type", "uri", "warehouse", "token")} == {
            "type": "rest", "uri": f"{base}/api/catalog", "warehouse": "lakehouse",
            "token": TOKEN,
        }  # fmt: skip
        catalog = open_catalog({"catalog": ref}, PlatformHome(tmp_path / ".floe"))
        assert catalog.list_namespaces() == []
        plugin = RestCatalogPlugin.from_config(dict(ref.config))
        unauthenticated = plugin.health_check()
        assert unauthenticated.ok
        assert unauthenticated.message == f"{base}/api/catalog/v1/config answers (auth required)"
        assert ("GET", "/api/catalog/v1/config", None) in state.requests
    dead = RestCatalogPlugin.from_config({"uri": base + "/api/catalog"}).health_check()
    assert not dead.ok
    assert "unreachable" in dead.message
