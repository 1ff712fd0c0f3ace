"""The oidc identity's settings, the manifest's access: rules, what the polaris rbac plugin
derives from them, and the plan that compares them with a catalog (pure: no server)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from floe.compile.api import compile_product
from floe.errors import FloeError
from floe.plugins.access import AccessItem, plan
from floe.plugins.builtin.identity import OidcIdentityPlugin
from floe.plugins.builtin.rbac_polaris import NoRbacPlugin, PolarisRbacPlugin, wanted
from floe.runtime.access import require_write
from floe.runtime.resolved import ResolvedPlugins
from floe.spec.common import PluginRef
from floe.spec.manifest import Access
from tests.conftest import TINY_SPEC

SECRET = {"secret": "OIDC_SECRET"}
RULES = {
    "teams": {
        "marketing": {
            "principals": ["svc-marketing"],
            "write": ["customer-360"],
            "read": ["iot-telemetry"],
        }
    }
}


@pytest.mark.requirement("FLOE-311")
@pytest.mark.parametrize(
    ("issuer", "accepted"),
    [
        ("https://login.example.com/realms/floe/", "https://login.example.com/realms/floe"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://localhost:9000/", "http://localhost:9000"),
        ("http://[::1]:9000", "http://[::1]:9000"),
    ],
)
def test_oidc_issuer_is_https_or_loopback(issuer: str, accepted: str) -> None:
    """https issuers, and http ones on a loopback address (a local test issuer), are taken
    without their trailing slash (the discovery document's issuer must equal it)."""
    plugin = OidcIdentityPlugin.from_config(
        {"issuer": issuer, "client_id": "floe-runner", "client_secret": SECRET}
    )
    assert plugin.config.issuer == accepted
    assert plugin.principal() == "floe-runner"


@pytest.mark.requirement("FLOE-311")
@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({"issuer": "http://idp.example.com", "client_id": "a", "client_secret": SECRET},
         "credentials travel only over https"),
        ({"issuer": "ftp://idp.example.com", "client_id": "a", "client_secret": SECRET},
         "is not an http(s) URL"),
        ({"issuer": "https://idp", "client_id": "a b", "client_secret": SECRET},
         "String should match pattern"),
        ({"issuer": "https://idp", "client_id": "a", "client_secret": "plain-text"},
         "Input should be a valid dictionary"),
        ({"issuer": "https://idp", "client_id": "a", "client_secret": SECRET,
          "token_endpoint": "http://idp.example.com/token"}, "only over https"),
        ({"issuer": "https://idp", "client_id": "a", "client_secret": SECRET,
          "refresh_margin_seconds": -1}, "greater than or equal to 0"),
    ],
)  # fmt: skip
def test_oidc_config_refuses_unsafe_or_malformed_settings(
    config: dict[str, object], problem: str
) -> None:
    """Plain http to a remote issuer, a non-http URL, a client id with spaces, a client secret
    written in clear instead of a secret reference, a negative refresh margin: refused."""
    with pytest.raises(ValidationError) as info:
        OidcIdentityPlugin.from_config(config)
    assert problem in str(info.value)


@pytest.mark.requirement("FR-062")
def test_access_rules_refuse_a_product_both_written_and_read() -> None:
    """Write includes read: a product under both is refused, naming it; team names follow the
    role-name pattern."""
    with pytest.raises(ValidationError) as info:
        Access.model_validate({"teams": {"ops": {"write": ["a", "b"], "read": ["b"]}}})
    assert "b: listed under both write and read" in str(info.value)
    with pytest.raises(ValidationError):
        Access.model_validate({"teams": {"Ops Team": {}}})


@pytest.mark.requirement("FR-062")
def test_rules_become_principal_roles_catalog_roles_grants_and_assignments() -> None:
    """One principal role per team assigned to its principals; per product a writer or
    reader catalog role with its privileges on the product's namespace, assigned to the
    team's principal role."""
    items = wanted(Access.model_validate(RULES))
    assert {i for i in items if i.kind != "grant"} == {
        AccessItem("principal_role", "marketing"),
        AccessItem("principal_role_of", "marketing", "svc-marketing"),
        AccessItem("catalog_role", "customer_360_writer"),
        AccessItem("catalog_role", "iot_telemetry_reader"),
        AccessItem("catalog_role_of", "marketing", "customer_360_writer"),
        AccessItem("catalog_role_of", "marketing", "iot_telemetry_reader"),
    }
    grants = {(i.role, i.target, i.privilege) for i in items if i.kind == "grant"}
    assert grants == {
        ("customer_360_writer", "customer_360", "NAMESPACE_FULL_METADATA"),
        ("customer_360_writer", "customer_360", "TABLE_FULL_METADATA"),
        ("customer_360_writer", "customer_360", "TABLE_WRITE_DATA"),
        ("iot_telemetry_reader", "iot_telemetry", "NAMESPACE_READ_PROPERTIES"),
        ("iot_telemetry_reader", "iot_telemetry", "TABLE_LIST"),
        ("iot_telemetry_reader", "iot_telemetry", "TABLE_READ_PROPERTIES"),
        ("iot_telemetry_reader", "iot_telemetry", "TABLE_READ_DATA"),
    }
    plugin = PolarisRbacPlugin.from_config({"management_uri": "https://p/api/management/v1",
                                            "catalog": "lake"})  # fmt: skip
    roles = plugin.roles_for("customer-360")
    assert [(r["catalog_role"], r["namespace"], r["catalog"]) for r in roles] == [
        ("customer_360_writer", "customer_360", "lake"),
        ("customer_360_reader", "customer_360", "lake"),
    ]
    assert NoRbacPlugin().roles_for("customer-360") == []


@pytest.mark.requirement("FLOE-315")
def test_plan_orders_creations_before_use_and_removals_after() -> None:
    """Missing items come roles first (a grant needs its role), drift comes assignments and
    grants first (a role is deleted last); equal states plan nothing."""
    want = wanted(Access.model_validate(RULES))
    assert plan(want, want).in_sync
    stale = AccessItem("catalog_role", "old_reader")
    stale_grant = AccessItem("grant", "old_reader", "old", "TABLE_READ_DATA")
    live = (want - {AccessItem("principal_role", "marketing")}) | {stale, stale_grant}
    live -= {i for i in want if i.kind == "principal_role_of"}
    result = plan(want, live)
    assert [i.kind for i in result.missing] == ["principal_role", "principal_role_of"]
    assert result.extra == (stale_grant, stale)
    assert [i.describe() for i in result.extra] == [
        "grant TABLE_READ_DATA on namespace old to catalog role old_reader",
        "catalog role old_reader",
    ]


@pytest.mark.requirement("FR-062")
def test_no_rbac_asks_nothing_and_allows_the_run() -> None:
    """The embedded platform (rbac none, the default): the write check asks no principal and
    no server, and passes; the polaris plugin without any token source is E667."""
    plugins = ResolvedPlugins({"catalog": PluginRef(type="sql")})
    assert plugins.rbac.name == "none"
    require_write(plugins, "customer-360", "customer_360")
    polaris = PolarisRbacPlugin.from_config({"management_uri": "https://p/api/management/v1",
                                             "catalog": "lake"})  # fmt: skip
    with pytest.raises(FloeError) as info:
        polaris.may_write("svc", "customer_360", None)
    assert info.value.diagnostics[0].code == "E667"
    assert "oidc identity" in info.value.diagnostics[0].hint


@pytest.mark.requirement("FR-062")
def test_a_product_cannot_switch_off_the_platforms_rbac(tiny: Path) -> None:
    """plugins.rbac is locked by default: a floe.yaml choosing rbac none is E301, so a run
    cannot skip the write check."""
    (tiny / "floe.yaml").write_text(TINY_SPEC + "plugins:\n  rbac:\n    type: none\n")
    with pytest.raises(FloeError) as info:
        compile_product(tiny)
    assert [d.code for d in info.value.diagnostics] == ["E301"]
    assert "the platform locks 'plugins.rbac'" in info.value.render()
