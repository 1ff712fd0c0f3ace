"""The plugin compliance kit (floe.plugins.testing) and ABC API versions: every built-in
plugin passes the kit; the kit names what a broken plugin lacks; it runs as a pytest suite; an
ABC's API major differing from a plugin's is refused naming both versions."""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from floe.errors import PluginError
from floe.plugins.abcs import ABC_BY_TYPE, CatalogPlugin
from floe.plugins.base import HealthStatus, PluginType
from floe.plugins.registry import PluginRegistry, default_registry
from floe.plugins.testing import Finding, compliance_findings
from tests.e2e.servers import free_port

#: A valid config for each built-in plugin that needs one (the others take their defaults);
#: the URLs point at a closed local port, so health checks answer "unhealthy" at once.
CLOSED = f"http://127.0.0.1:{free_port()}"
SAMPLES: dict[tuple[str, str], dict[str, Any]] = {
    ("catalog", "rest"): {"uri": f"{CLOSED}/api/catalog", "token": {"secret": "CAT_TOKEN"}},
    ("catalog", "polaris"): {
        "uri": f"{CLOSED}/api/catalog",
        "warehouse": "floe",
        "oauth2": {"client_id": "floe", "client_secret": {"secret": "POLARIS_SECRET"}},
    },
    ("storage", "s3"): {"bucket": "lake", "access_key_id": {"secret": "S3_KEY"}},
    ("alert_channel", "webhook"): {"url": f"{CLOSED}/hook"},
    ("lineage_backend", "http"): {"url": f"{CLOSED}/api/v1/lineage"},
    ("identity", "static"): {"subject": "svc-floe"},
    ("identity", "oidc"): {
        "issuer": CLOSED,
        "client_id": "floe-runner",
        "client_secret": {"secret": "OIDC_SECRET"},
    },
    ("rbac", "polaris"): {"management_uri": f"{CLOSED}/api/management/v1", "catalog": "floe"},
}


BUILTIN = "floe.plugins.builtin."


def _builtins() -> list[tuple[PluginType, str]]:
    """Every plugin floe itself registers (entry points into floe.plugins.builtin)."""
    return [
        (PluginType(info.category), info.name)
        for info in default_registry().describe()
        if info.entry_point.startswith(BUILTIN)
    ]


@functools.cache
def _kit_findings() -> dict[tuple[PluginType, str], list[str]]:
    """The kit's findings for every built-in plugin (run once per test process)."""
    registry = default_registry()
    return {
        (ptype, name): [
            str(f)
            for f in compliance_findings(
                registry.load(ptype, name), SAMPLES.get((ptype.value, name), {})
            )
        ]
        for ptype, name in _builtins()
    }


@pytest.mark.requirement("TQR-025")
@pytest.mark.requirement("FR-051")
def test_every_builtin_plugin_passes_the_compliance_kit() -> None:
    """The kit's seven checks find nothing in any built-in plugin, each built from a sample
    config (defaults where it needs none)."""
    findings = _kit_findings()
    assert {f"{p.value}:{n}": v for (p, n), v in findings.items() if v} == {}
    assert set(SAMPLES) <= {(p.value, n) for p, n in findings}
    third_party = [
        i for i in default_registry().describe() if not i.entry_point.startswith(BUILTIN)
    ]
    assert len(findings) == len(default_registry().describe()) - len(third_party)


class LaxConfig(BaseModel):
    """Accepts any key (a typo would pass unnoticed)."""

    model_config = ConfigDict(extra="allow")
    region: str = "eu"


class BrokenCatalog(CatalogPlugin[LaxConfig]):
    """Everything the kit looks for, done wrong."""

    name = "Broken Catalog"
    version = "latest"
    floe_api_version = "0.9"
    description = ""

    def catalog_properties(self, home: Path) -> dict[str, str]:  # type: ignore[override]
        return {"region": self.config.region}

    def health_check(self) -> HealthStatus:
        raise ConnectionError("nobody home")


@pytest.mark.requirement("FR-051")
def test_the_kit_names_what_a_broken_plugin_lacks() -> None:
    """A plugin with a short signature, bad metadata, another API major, a lax config and a
    raising health check gets one finding per fault, each naming it."""
    found = compliance_findings(BrokenCatalog, {"region": "us"})
    assert [f.check for f in found] == [
        "abc", "metadata", "metadata", "metadata", "api", "entry_point", "config_schema",
        "round_trip", "health",
    ]  # fmt: skip
    assert found[0] == Finding(
        "abc",
        "catalog_properties(self, home: 'Path') -> 'dict[str, str]': takes no positional "
        "'resolve' ((self, home: 'Path', resolve: 'SecretResolver') -> 'dict[str, str]' "
        "expected)",
    )
    assert found[1].message == "name 'Broken Catalog' is not a type name like 'my-plugin'"
    assert found[2].message == "version 'latest' is not a version like 1.2.0"
    assert found[4].message == (
        "catalog plugin 'Broken Catalog' (tests.unit.test_plugin_compliance.BrokenCatalog) was "
        "built for the catalog plugin API 0.9 (CatalogPlugin), this floe provides 1.0"
    )
    assert found[5].message == (
        "no entry point 'Broken Catalog' in group 'floe.catalog' is installed"
    )
    assert "LaxConfig accepts unknown keys" in found[6].message
    assert found[7].message.endswith(
        "error[E110]: plugins.catalog.type: String should match pattern '^[a-z][a-z0-9_-]*$' "
        "(got 'Broken Catalog')"
    )
    assert found[8].message == "health_check() raised ConnectionError: nobody home"


KIT_SUITE = """
from pathlib import Path
from pydantic import BaseModel, ConfigDict, field_validator
from floe.plugins.abcs import AlertChannelPlugin
from floe.plugins.base import HealthState, HealthStatus
from floe.plugins.testing import PluginCompliance


class JsonlConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    path: str


class Jsonl(AlertChannelPlugin[JsonlConfig]):
    name = "jsonl"
    version = "0.1.0"
    description = "alerts as JSON lines"

    def send(self, alert):
        Path(self.config.path).write_text(str(alert))


class SuffixConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    path: str

    @field_validator("path")
    @classmethod
    def _suffix(cls, value):
        return value + ".jsonl"


class Sloppy(AlertChannelPlugin[SuffixConfig]):
    name = "sloppy"
    version = "0.1.0"
    description = "appends a suffix at every validation, answers health with text"

    def send(self, alert):
        Path(self.config.path).write_text(str(alert))

    def health_check(self):
        return "fine"


class TestJsonl(PluginCompliance):
    plugin_class = Jsonl
    config = {"path": "/tmp/alerts.jsonl"}
    installed = False


class TestSloppy(PluginCompliance):
    plugin_class = Sloppy
    config = {"path": "/tmp/alerts"}
    installed = False
"""


@pytest.mark.requirement("FR-051")
def test_the_kit_runs_as_a_pytest_suite(tmp_path: Path) -> None:
    """A plugin package subclasses PluginCompliance: pytest runs its seven checks; a compliant
    plugin passes them all, a broken one fails exactly the checks it breaks."""
    (tmp_path / "test_kit_suite.py").write_text(KIT_SUITE)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rf", "-p", "no:randomly", "-p", "no:cacheprovider",
         "--tb=short", "-o", "addopts=", str(tmp_path / "test_kit_suite.py")],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    failed = sorted(
        line.split("::", 1)[1].split(" ")[0]
        for line in proc.stdout.splitlines()
        if line.startswith("FAILED")
    )
    assert failed == [
        "TestSloppy::test_config_round_trips_through_the_manifest",
        "TestSloppy::test_health_check_answers",
    ], proc.stdout
    assert "12 passed" in proc.stdout, proc.stdout
    assert "health_check() returned 'fine', not a HealthStatus" in proc.stdout
    assert (
        "its dump through manifest.yaml gives SuffixConfig(path='/tmp/alerts.jsonl.jsonl'), "
        "not SuffixConfig(path='/tmp/alerts.jsonl')" in proc.stdout
    )


@pytest.mark.requirement("FR-056")
def test_each_abc_carries_its_own_api_version(monkeypatch: pytest.MonkeyPatch) -> None:
    """Raising the catalog ABC to 2.1 refuses catalog plugins built for 1.x (E208 naming the
    plugin and both versions) while plugins of other categories still load; a plugin built
    for another minor of the same major is accepted. The quality ABC is at 2.0 (validate was
    added), the others at 1.0."""
    versions = {t.value: abc.__dict__["api_version"] for t, abc in ABC_BY_TYPE.items()}
    assert {t: v for t, v in versions.items() if v != "1.0"} == {"quality": "2.0"}
    monkeypatch.setattr(CatalogPlugin, "api_version", "2.1")
    registry = PluginRegistry()
    with pytest.raises(PluginError) as err:
        registry.load(PluginType.CATALOG, "sql")
    (diag,) = err.value.diagnostics
    assert diag.code == "E208"
    assert diag.message == (
        "catalog plugin 'sql' (floe.plugins.builtin.catalog_sql.SqlCatalogPlugin) was built "
        "for the catalog plugin API 1.0 (CatalogPlugin), this floe provides 2.1"
    )
    assert diag.hint == "install a release of the plugin built for the catalog plugin API 2.x"
    assert registry.load(PluginType.COMPUTE, "duckdb").floe_api_version == "1.0"
    monkeypatch.setattr(CatalogPlugin, "api_version", "1.4")
    assert PluginRegistry().load(PluginType.CATALOG, "sql").name == "sql"


@pytest.mark.requirement("SC-006")
def test_implemented_categories_are_counted_from_the_registry() -> None:
    """The categories with at least one built-in plugin, each passing the kit, counted from
    the registry: all 15 (ingestion, quality, semantic_layer and rbac joined compute …
    alert_channel, dbt, network_security and identity), each with the built-ins named."""
    implemented = {ptype for (ptype, _), found in _kit_findings().items() if not found}
    assert implemented == set(PluginType)
    assert {n for (p, n) in _kit_findings() if p is PluginType.QUALITY} == {
        "dbt", "great_expectations",
    }  # fmt: skip
