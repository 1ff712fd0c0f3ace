"""Catalog RBAC (FR-062) end to end: `floe platform rbac apply|diff` drive the official
apache-polaris management client over HTTP against the Polaris wire double
(tests/e2e/fake_polaris.py + fake_polaris_access.py: a live Polaris, a JVM service, cannot run
here), authenticated by the oidc identity's tokens from a real token server
(tests/e2e/oidc_server.py); and a run whose principal may not write its namespace is refused
before dbt runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from floe.app.access import apply_access, diff_access
from floe.app.run import run
from floe.errors import FloeError
from floe.runtime.access import require_write
from floe.runtime.catalog import open_catalog
from floe.runtime.home import PlatformHome
from floe.runtime.platform import platform_plugins
from floe.spec.common import PluginRef
from tests.conftest import TINY_MANIFEST, run_floe, write_tiny
from tests.e2e.fake_polaris import PolarisState, fake_polaris
from tests.e2e.oidc_server import Client, OidcState, oidc_server

SECRET = "admin-secret-value-23"
MANAGED = {"managed-by": "floe"}

MANIFEST = """\
apiVersion: floe.dev/v1
kind: Manifest
metadata: {{name: governed, version: 1.0.0, owner: platform@example.com}}
plugins:
  compute: {{type: duckdb}}
  catalog: {{type: polaris, config: {{uri: "{base}/api/catalog", warehouse: lakehouse,
                                     storage_type: FILE}}}}
  identity:
    type: oidc
    config: {{issuer: "{issuer}", client_id: floe-admin, client_secret: {{secret: OIDC_SECRET}}}}
  rbac:
    type: polaris
    config: {{management_uri: "{base}/api/management/v1", catalog: lakehouse}}
access:
  teams:
    marketing: {{principals: [svc-marketing], write: [customer-360], read: [iot-telemetry]}}
    risk: {{principals: [svc-risk], write: [financial-risk], read: [customer-360]}}
"""


@pytest.fixture(scope="module")
def idp() -> Iterator[OidcState]:
    """The token server: floe's admin client, and a product runner acting as svc-runner."""
    with oidc_server(
        Client("floe-admin", SECRET, 3600, subject="svc-admin"),
        Client("floe-runner", SECRET, 3600, subject="svc-runner"),
    ) as state:
        yield state


def _polaris(idp: OidcState) -> Iterator[tuple[str, PolarisState]]:
    with fake_polaris("polaris-own", "unused", lambda t: idp.valid(t) is not None) as served:
        served[1].access.principals |= {"svc-marketing", "svc-risk", "svc-runner"}
        yield served


def _rbac(manifest: Path, *args: str) -> tuple[int, list[str], str]:
    res = run_floe("platform", "rbac", *args, "--manifest", manifest,
                   env={"OIDC_SECRET": SECRET})  # fmt: skip
    return res.code, res.out.splitlines()[1:], res.err


@pytest.mark.requirement("FR-062")
@pytest.mark.requirement("FLOE-313")
@pytest.mark.requirement("FLOE-314")
@pytest.mark.requirement("FLOE-315")
def test_rbac_apply_creates_the_grants_once_and_diff_reports_drift(
    idp: OidcState, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`platform up` bootstraps the Polaris catalog and opens it through PyIceberg with the
    identity's token (no oauth2 of its own); `rbac apply` creates 2 principal roles, 4
    catalog roles, 14 grants and 6 assignments, all by the apache-polaris client with that
    token; a second apply changes nothing; drift made by hand (an extra grant, a lost
    assignment) is reported by `diff` (exit 3, nothing changed) and repaired by `apply`; a
    role made by hand is never touched; the write check answers from the grants."""
    for base, pol in _polaris(idp):
        manifest = tmp_path / "manifest.yaml"
        manifest.write_text(MANIFEST.format(base=base, issuer=idp.issuer))
        up = run_floe("platform", "up", "--manifest", manifest, env={"OIDC_SECRET": SECRET})
        assert "catalog 'lakehouse' created and verified" in up.out, up.out + up.err
        assert up.code == 0, up.out + up.err
        config_reads = [a for _, p, a in pol.requests if p == "/api/catalog/v1/config"]
        assert len(config_reads) == 1  # PyIceberg's RestCatalog: the platform's catalog check
        created = [
            a for m, p, a in pol.requests if (m, p) == ("POST", "/api/management/v1/catalogs")
        ]
        assert len(created) == 1
        for bearer in created + config_reads:
            assert (idp.valid(bearer.removeprefix("Bearer ")) or {}).get("sub") == "svc-admin"

        hand_made = {"name": "analyst_custom", "properties": {}}
        pol.access.catalog_roles[("lakehouse", "analyst_custom")] = hand_made
        pol.access.grants[("lakehouse", "analyst_custom")] = [
            {"type": "namespace", "namespace": ["customer_360"], "privilege": "TABLE_READ_DATA"}
        ]
        code, lines, err = _rbac(manifest, "apply")
        assert code == 0, err
        assert lines[-1] == "26 created, 0 removed"
        state = pol.access
        assert {n: r["properties"] for n, r in state.principal_roles.items()} == {
            "marketing": MANAGED, "risk": MANAGED,
        }  # fmt: skip
        assert {n for (c, n) in state.catalog_roles if c == "lakehouse"} == {
            "customer_360_writer", "customer_360_reader", "iot_telemetry_reader",
            "financial_risk_writer", "analyst_custom",
        }  # fmt: skip
        writer = {"NAMESPACE_FULL_METADATA", "TABLE_FULL_METADATA", "TABLE_WRITE_DATA"}
        reader = {"NAMESPACE_READ_PROPERTIES", "TABLE_LIST", "TABLE_READ_PROPERTIES",
                  "TABLE_READ_DATA"}  # fmt: skip
        assert state.grants_of("lakehouse", "customer_360_writer") == {
            ("customer_360", p) for p in writer
        }
        assert state.grants_of("lakehouse", "iot_telemetry_reader") == {
            ("iot_telemetry", p) for p in reader
        }
        assert state.catalog_role_of == {
            ("marketing", "lakehouse", "customer_360_writer"),
            ("marketing", "lakehouse", "iot_telemetry_reader"),
            ("risk", "lakehouse", "financial_risk_writer"),
            ("risk", "lakehouse", "customer_360_reader"),
        }
        assert state.principal_role_of == {("svc-marketing", "marketing"), ("svc-risk", "risk")}
        mgmt = {a for m, p, a in pol.requests if "/principal-roles" in p or "/catalog-roles" in p}
        assert {(idp.valid(a.removeprefix("Bearer ")) or {}).get("sub") for a in mgmt} == {
            "svc-admin"
        }

        monkeypatch.setenv("OIDC_SECRET", SECRET)
        changes = len(state.changes)
        again = apply_access(manifest)
        assert (again.plan.in_sync, again.applied) == (True, False)
        assert len(state.changes) == changes

        state.grants[("lakehouse", "iot_telemetry_reader")].append(
            {"type": "namespace", "namespace": ["iot_telemetry"], "privilege": "TABLE_WRITE_DATA"}
        )
        state.principal_role_of.discard(("svc-risk", "risk"))
        code, lines, _ = _rbac(manifest, "diff")
        assert (code, lines) == (3, [
            "+ missing: principal role risk assigned to principal svc-risk",
            "- drift: grant TABLE_WRITE_DATA on namespace iot_telemetry to catalog role "
            "iot_telemetry_reader",
            "1 missing, 1 drift",
        ])  # fmt: skip
        assert len(state.changes) == changes
        repaired = apply_access(manifest)
        assert (len(repaired.plan.missing), len(repaired.plan.extra)) == (1, 1)
        assert ("svc-risk", "risk") in state.principal_role_of
        assert ("iot_telemetry", "TABLE_WRITE_DATA") not in state.grants_of(
            "lakehouse", "iot_telemetry_reader"
        )
        assert state.catalog_roles[("lakehouse", "analyst_custom")] == hand_made
        assert state.grants_of("lakehouse", "analyst_custom") == {
            ("customer_360", "TABLE_READ_DATA")
        }
        assert diff_access(manifest).plan.in_sync

        plugins = platform_plugins(manifest)
        asks = [("svc-marketing", "customer_360"), ("svc-marketing", "financial_risk"),
                ("svc-risk", "financial_risk"), ("svc-risk", "iot_telemetry"),
                ("nobody", "customer_360")]  # fmt: skip
        assert [plugins.rbac.may_write(p, ns, plugins.tokens) for p, ns in asks] == [
            True, False, True, False, False,
        ]  # fmt: skip


STORAGE = "  storage:\n    type: local\n"
RUN_PLUGINS = """\
  identity:
    type: oidc
    config: {{issuer: "{issuer}", client_id: floe-runner, client_secret: {{secret: OIDC_SECRET}}}}
  rbac:
    type: polaris
    config: {{management_uri: "{base}/api/management/v1", catalog: products}}
"""
RUN_ACCESS = """\
access:
  teams:
    runners: {principals: [svc-runner], write: [customer-360]}
"""


def _run_manifest(base: str, issuer: str) -> str:
    """The tiny platform, its identity oidc and its rbac polaris, runners writing
    customer-360 only."""
    plugins = STORAGE + RUN_PLUGINS.format(issuer=issuer, base=base)
    return TINY_MANIFEST.replace(STORAGE, plugins) + RUN_ACCESS


@pytest.mark.requirement("FLOE-316")
@pytest.mark.requirement("FR-062")
def test_run_is_refused_before_dbt_when_the_principal_may_not_write(
    idp: OidcState, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The product runs as svc-runner (the oidc token's sub), whose team writes customer-360
    but not tiny: `floe run` fails with E666 naming principal, namespace and the fix before
    anything of dbt started (no run directory, not even dbt's parse), the namespace was
    never created, and a security.access_denied event names who was refused. Once the rules
    let the team write tiny and are applied, the same check passes, and is asked only once
    per run. (The embedded SQL catalog holds the tables; the rbac plugin asks the Polaris
    management API for the grants.)"""
    monkeypatch.setenv("OIDC_SECRET", SECRET)
    for base, pol in _polaris(idp):
        product = write_tiny(tmp_path / "tiny", manifest=_run_manifest(base, idp.issuer))
        assert apply_access(product / "manifest.yaml").plan.missing
        with capture_logs() as logs, pytest.raises(FloeError) as info:
            run(product)
        diag = info.value.diagnostics[0]
        assert (diag.code, diag.field_path) == ("E666", "access.teams")
        assert diag.message == (
            "principal 'svc-runner' may not write namespace 'tiny' of product 'tiny': the run "
            "is refused before dbt runs"
        )
        assert diag.hint == ("list 'tiny' under write of a team whose principals include "
                             "'svc-runner', then run `floe platform rbac apply`")  # fmt: skip
        home = PlatformHome.for_manifest(product / "manifest.yaml")
        assert not home.runs.exists() or list(home.runs.iterdir()) == []
        compiled = product / "target" / "floe"
        assert (compiled / "compiled_artifacts.json").is_file()
        assert not (compiled / "dbt").exists()  # not even dbt's parse for the code location
        catalog = open_catalog({"catalog": PluginRef(type="sql")}, home)
        assert ("tiny",) not in catalog.list_namespaces()
        denied = [e for e in logs if e["event"] == "security.access_denied"]
        assert [(e["event"], e["principal"], e["namespace"], e["product"]) for e in denied] == [
            ("security.access_denied", "svc-runner", "tiny", "tiny")
        ]
        asked = [p for _, p, _ in pol.requests if p.endswith("/principal-roles")]
        assert asked[-1] == "/api/management/v1/principals/svc-runner/principal-roles"

        manifest = product / "manifest.yaml"
        rules = manifest.read_text().replace("write: [customer-360]", "write: [customer-360, tiny]")
        manifest.write_text(rules)
        assert [i.describe() for i in apply_access(manifest).plan.missing][:1] == [
            "catalog role tiny_writer"
        ]
        plugins = platform_plugins(manifest)
        require_write(plugins, "tiny", "tiny")  # now allowed: no error
        asked = len(pol.requests)
        require_write(plugins, "tiny", "tiny")  # the Dagster step's second ask: remembered
        assert (plugins.writable, len(pol.requests)) == ({"tiny"}, asked)
