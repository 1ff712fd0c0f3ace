"""The oidc identity end to end: a real token server (tests/e2e/oidc_server.py, Authlib's
authorization-server components on 127.0.0.1) and the Polaris wire double as the REST
catalog, which accepts only tokens that server signed. Discovery, the client-credentials
grant, the token cache and its renewal near expiry are floe's real code over HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from floe.errors import FloeError
from floe.runtime.home import PlatformHome
from floe.runtime.resolved import ResolvedPlugins
from floe.spec.common import PluginRef
from tests.conftest import run_floe
from tests.e2e.fake_polaris import PolarisState, fake_polaris
from tests.e2e.oidc_server import Client, OidcState, oidc_server

SECRET = "runner-secret-value-17"
CALLS = 5


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[OidcState, str, PolarisState]]:
    """One token server (a long-lived client, a 2-second one) and one catalog trusting it."""
    with oidc_server(
        Client("floe-runner", SECRET, 3600, subject="svc-marketing"),
        Client("floe-short", SECRET, 2),
    ) as idp:

        def issued_here(token: str) -> bool:
            return idp.valid(token) is not None

        with fake_polaris("polaris-own", "unused", accept_token=issued_here) as (base, pol):
            yield idp, base, pol


def _plugins(idp: OidcState, base: str, client: str, margin: float = 30) -> dict[str, PluginRef]:
    return {
        "catalog": PluginRef(type="rest", config={"uri": f"{base}/api/catalog",
                                                  "warehouse": "lakehouse"}),
        "identity": PluginRef(type="oidc", config={
            "issuer": idp.issuer, "client_id": client,
            "client_secret": {"secret": "OIDC_SECRET"}, "refresh_margin_seconds": margin,
        }),
    }  # fmt: skip


def _bearers(pol: PolarisState, since: int) -> list[str]:
    return [a.removeprefix("Bearer ") for _, p, a in pol.requests[since:] if a and "/v1/" in p]


@pytest.mark.requirement("FLOE-311")
@pytest.mark.requirement("FLOE-312")
@pytest.mark.requirement("FLOE-313")
def test_catalog_calls_carry_one_discovered_cached_token(
    servers: tuple[OidcState, str, PolarisState],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The REST catalog, configured without any credential, opens with the identity's token:
    discovery read once, one token request for the catalog's config call and five namespace
    listings, every request bearing that same token (signed by the issuer, sub
    svc-marketing), which is also who floe says is acting."""
    idp, base, pol = servers
    monkeypatch.setenv("OIDC_SECRET", SECRET)
    before, start = idp.token_requests["floe-runner"], len(pol.requests)
    reads = idp.discovery_reads
    plugins = ResolvedPlugins(_plugins(idp, base, "floe-runner"), PlatformHome(tmp_path / "h"))
    catalog = plugins.catalog()
    assert [catalog.list_namespaces() for _ in range(CALLS)] == [[]] * CALLS
    assert idp.token_requests["floe-runner"] - before == 1
    assert idp.discovery_reads - reads == 1
    bearers = _bearers(pol, start)
    assert len(bearers) == CALLS + 1  # GET /v1/config, then the listings
    assert len(set(bearers)) == 1
    claims = idp.valid(bearers[0])
    assert claims is not None
    assert (claims["sub"], claims["client_id"], claims["iss"]) == (
        "svc-marketing", "floe-runner", idp.issuer,
    )  # fmt: skip
    assert plugins.principal() == "svc-marketing"
    assert idp.token_requests["floe-runner"] - before == 1
    assert not [p for _, p, _ in pol.requests[start:] if p.endswith("/oauth/tokens")]


@pytest.mark.requirement("FLOE-312")
def test_a_token_near_its_expiry_is_fetched_anew(
    servers: tuple[OidcState, str, PolarisState],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A client whose tokens live 2 s, renewed 1 s before expiry: catalog calls go on with the
    first token, then — within a deadline — with a second one; the issuer saw exactly two
    token requests and the catalog never saw an expired token."""
    idp, base, pol = servers
    monkeypatch.setenv("OIDC_SECRET", SECRET)
    start = len(pol.requests)
    plugins = ResolvedPlugins(_plugins(idp, base, "floe-short", margin=1),
                              PlatformHome(tmp_path / "h"))  # fmt: skip
    catalog = plugins.catalog()
    assert idp.token_requests["floe-short"] == 1
    deadline = time.monotonic() + 15
    while idp.token_requests["floe-short"] < 2 and time.monotonic() < deadline:
        assert catalog.list_namespaces() == []
    assert idp.token_requests["floe-short"] == 2
    catalog.list_namespaces()
    bearers = _bearers(pol, start)
    assert len(set(bearers)) == 2
    assert bearers[0] != bearers[-1]
    assert idp.valid(bearers[-1]) is not None
    unauthorized = [p for _, p, a in pol.requests[start:] if a is None]
    assert unauthorized == []


@pytest.mark.requirement("FLOE-317")
def test_refused_client_secret_is_a_clear_error_and_an_event(
    servers: tuple[OidcState, str, PolarisState],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A wrong client secret: E661 naming the token endpoint, the client and the secret's
    reference — never its value — and one security.identity_auth_failed event; through the
    CLI, `floe tables list` exits 2 with the same error."""
    idp, base, _ = servers
    monkeypatch.setenv("OIDC_SECRET", "wrong-secret-99")
    plugins = ResolvedPlugins(_plugins(idp, base, "floe-runner"), PlatformHome(tmp_path / "h"))
    with capture_logs() as logs, pytest.raises(FloeError) as info:
        plugins.catalog()
    diag = info.value.diagnostics[0]
    assert diag.code == "E661"
    assert diag.message == (
        f"the token endpoint {idp.issuer}/token gave client 'floe-runner' no token "
        "(invalid_client: The client cannot authenticate with methods: "
        "['client_secret_basic', 'client_secret_post'])"
    )
    assert diag.hint == "check client_id 'floe-runner' and the secret 'OIDC_SECRET' at the provider"
    assert "wrong-secret-99" not in info.value.render()
    assert [(e["event"], e["client_id"]) for e in logs] == [
        ("security.identity_auth_failed", "floe-runner")
    ]
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(MANIFEST.format(issuer=idp.issuer, base=base))
    res = run_floe("tables", "list", "--manifest", manifest, env={"OIDC_SECRET": "wrong-secret-99"})
    assert res.code == 2, res.out + res.err
    assert "error[E661]: plugins.identity.config: the token endpoint" in res.err
    assert "wrong-secret-99" not in res.out + res.err


MANIFEST = """\
apiVersion: floe.dev/v1
kind: Manifest
metadata: {{name: oidc-platform, version: 1.0.0, owner: platform@example.com}}
plugins:
  compute: {{type: duckdb}}
  catalog: {{type: rest, config: {{uri: "{base}/api/catalog", warehouse: lakehouse}}}}
  identity:
    type: oidc
    config: {{issuer: "{issuer}", client_id: floe-runner, client_secret: {{secret: OIDC_SECRET}}}}
"""


@pytest.mark.requirement("FLOE-311")
def test_a_discovery_document_of_another_issuer_is_refused(
    servers: tuple[OidcState, str, PolarisState],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same server reached as localhost: its document names 127.0.0.1 as issuer, so no
    token is asked for (E660 naming both); the health check says the same."""
    idp, base, _ = servers
    monkeypatch.setenv("OIDC_SECRET", SECRET)
    other = idp.issuer.replace("127.0.0.1", "localhost")
    chosen = _plugins(idp, base, "floe-runner")
    chosen["identity"] = PluginRef(type="oidc", config={**chosen["identity"].config,
                                                        "issuer": other})  # fmt: skip
    before = idp.token_requests["floe-runner"]
    plugins = ResolvedPlugins(chosen, PlatformHome(tmp_path / "h"))
    with pytest.raises(FloeError) as info:
        plugins.catalog()
    diag = info.value.diagnostics[0]
    assert (diag.code, diag.field_path) == ("E660", "plugins.identity.config.issuer")
    assert diag.message == (
        f"the OpenID discovery document of {other} names issuer '{idp.issuer}', not '{other}'"
    )
    assert idp.token_requests["floe-runner"] == before
    assert plugins.identity.health_check().message == diag.message
