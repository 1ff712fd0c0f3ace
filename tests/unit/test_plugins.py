"""The plugin registry: 15 categories, entry-point discovery, third-party plugins, checks."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path
from typing import Any

import pytest

from floe.plugins.abcs import ABC_BY_TYPE
from floe.plugins.base import Plugin, PluginType
from tests.conftest import TINY_MANIFEST, run_floe

THIRD_PARTY = """
from typing import ClassVar
from pydantic import BaseModel, ConfigDict
from floe.plugins.abcs import CatalogPlugin

class AcmeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    region: str = "eu"

class AcmeCatalog(CatalogPlugin):
    name: ClassVar[str] = "acme"
    version: ClassVar[str] = "2.3.4"
    floe_api_version: ClassVar[str] = "{api}"
    description: ClassVar[str] = "Acme catalog"
    config_model = AcmeConfig

    def catalog_properties(self, home):
        return {{"type": "rest", "uri": "http://acme"}}
"""


def _install_fake_dist(site: Path, api: str = "1.0") -> dict[str, str]:
    """Lay out a package + dist-info exactly as pip would, and return the env to see it."""
    (site / "acme_floe").mkdir(parents=True)
    (site / "acme_floe" / "__init__.py").write_text(THIRD_PARTY.format(api=api))
    info = site / "acme_floe-2.3.4.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-floe\nVersion: 2.3.4\n")
    (info / "entry_points.txt").write_text("[floe.catalog]\nacme = acme_floe:AcmeCatalog\n")
    return {"PYTHONPATH": str(site)}


@pytest.mark.requirement("TQR-025")
@pytest.mark.requirement("FR-050")
@pytest.mark.requirement("WU6-AC1")
@pytest.mark.requirement("WU6-AC2")
def test_fifteen_categories_each_with_an_abc() -> None:
    """PluginType has the 15 categories; each maps to an abstract subclass of Plugin."""
    assert [t.value for t in PluginType] == [
        "compute", "orchestrator", "catalog", "storage", "telemetry_backend",
        "lineage_backend", "dbt", "semantic_layer", "ingestion", "quality", "secrets",
        "identity", "rbac", "network_security", "alert_channel",
    ]  # fmt: skip
    assert set(ABC_BY_TYPE) == set(PluginType)
    for ptype, abc in ABC_BY_TYPE.items():
        assert issubclass(abc, Plugin)
        assert inspect.isabstract(abc), abc
        assert abc.plugin_type is ptype
        assert ptype.entry_point_group == f"floe.{ptype.value}"


@pytest.mark.requirement("TQR-025")
@pytest.mark.requirement("FR-050")
def test_builtins_are_discovered_through_entry_points() -> None:
    """`floe plugins list --json` lists our own plugins from pyproject entry points."""
    res = run_floe("plugins", "list", "--json")
    assert res.code == 0, res.err
    data = json.loads(res.out)
    assert len(data["categories"]) == 15
    found = {(p["category"], p["name"]): p for p in data["plugins"]}
    assert set(found) == {
        ("compute", "duckdb"),
        ("compute", "spark"),
        ("orchestrator", "dagster"),
        ("catalog", "sql"),
        ("catalog", "rest"),
        ("catalog", "polaris"),
        ("storage", "local"),
        ("storage", "s3"),
        ("secrets", "env"),
        ("secrets", "file"),
        ("secrets", "k8s"),
        ("alert_channel", "webhook"),
        ("dbt", "core"),
        ("dbt", "core-subprocess"),
        ("identity", "local"),
        ("identity", "static"),
        ("identity", "oidc"),
        ("rbac", "polaris"),
        ("rbac", "none"),
        ("network_security", "k8s"),
        ("network_security", "none"),
        ("semantic_layer", "cube"),
        ("semantic_layer", "none"),
        ("quality", "dbt"),
        ("quality", "great_expectations"),
        ("ingestion", "dlt"),
        *(("telemetry_backend", n) for n in ("file", "otlp", "console", "none")),
        *(("lineage_backend", n) for n in ("file", "http", "marquez", "console", "none")),
    }
    duck = found[("compute", "duckdb")]
    assert duck["entry_point"] == "floe.plugins.builtin.compute_duckdb:DuckDBComputePlugin"
    assert duck["floe_api_version"] == "1.0"
    assert found[("quality", "great_expectations")]["floe_api_version"] == "2.0"


@pytest.mark.requirement("FR-053")
def test_third_party_plugin_is_discovered_and_used(tiny: Path, tmp_path: Path) -> None:
    """A pip-installed package's floe.catalog entry point is listed and compiled with."""
    env = _install_fake_dist(tmp_path / "site")
    listed = run_floe("plugins", "list", "--json", env=env)
    names = {(p["category"], p["name"], p["version"]) for p in json.loads(listed.out)["plugins"]}
    assert ("catalog", "acme", "2.3.4") in names
    manifest = TINY_MANIFEST.replace(
        "    type: sql\n", "    type: acme\n    config: {region: us}\n"
    )
    (tiny / "manifest.yaml").write_text(manifest)
    res = run_floe("compile", tiny, env=env)
    assert res.code == 0, res.err
    data = json.loads((tiny / "target" / "floe" / "compiled_artifacts.json").read_text())
    assert data["plugins"]["catalog"] == {
        "type": "acme",
        "version": "2.3.4",
        "config": {"region": "us"},
    }


@pytest.mark.requirement("FR-056")
def test_plugin_for_another_major_api_is_refused(tiny: Path, tmp_path: Path) -> None:
    """floe_api_version 2.0 against the catalog ABC's 1.0 → a compile error (E208) naming the
    plugin and both versions."""
    env = _install_fake_dist(tmp_path / "site", api="2.0")
    (tiny / "manifest.yaml").write_text(TINY_MANIFEST.replace("type: sql", "type: acme"))
    res = run_floe("compile", tiny, env=env)
    assert res.code == 2
    assert (
        "error[E208]: catalog plugin 'acme' (acme_floe.AcmeCatalog) was built for the catalog "
        "plugin API 2.0 (CatalogPlugin), this floe provides 1.0" in res.err
    )


@pytest.mark.requirement("FR-054")
def test_plugin_config_is_validated_at_compile_time(tiny: Path) -> None:
    """duckdb threads: lots → E209 at the exact config line of the manifest."""
    manifest = TINY_MANIFEST.replace(
        "    type: duckdb\n", "    type: duckdb\n    config:\n      threads: lots\n"
    )
    (tiny / "manifest.yaml").write_text(manifest)
    res = run_floe("compile", tiny)
    assert res.code == 2
    assert (
        "manifest.yaml:11:16: error[E209]: plugins.compute.config.threads: "
        "Input should be a valid integer" in res.err
    )


@pytest.mark.requirement("FR-052")
def test_swapping_a_plugin_is_configuration_only(tiny: Path, tmp_path: Path) -> None:
    """Changing catalog type sql → acme in the manifest changes the artifacts, no code change."""
    env = _install_fake_dist(tmp_path / "site")
    first = run_floe("compile", tiny, env=env)
    assert first.code == 0, first.err
    path = tiny / "target" / "floe" / "compiled_artifacts.json"
    assert json.loads(path.read_text())["plugins"]["catalog"]["type"] == "sql"
    (tiny / "manifest.yaml").write_text(TINY_MANIFEST.replace("type: sql", "type: acme"))
    second = run_floe("compile", tiny, env=env)
    assert second.code == 0, second.err
    assert json.loads(path.read_text())["plugins"]["catalog"]["type"] == "acme"


@pytest.mark.requirement("FLOE-003")
def test_a_plugin_names_its_config_model_once_as_the_type_parameter() -> None:
    """`class X(CatalogPlugin[XConfig])` makes XConfig the model configs are validated
    against, and `X.from_config(raw).config` is that model (typed, no isinstance assert)."""
    from pydantic import BaseModel, ConfigDict, ValidationError

    from floe.plugins.abcs import CatalogPlugin
    from floe.plugins.builtin.catalog_polaris import PolarisCatalogPlugin, PolarisConfig
    from floe.plugins.builtin.catalog_rest import RestCatalogConfig, RestCatalogPlugin

    class XConfig(BaseModel):
        model_config = ConfigDict(extra="forbid")
        region: str = "eu"

    class XCatalog(CatalogPlugin[XConfig]):
        name = "x"

        def catalog_properties(self, home: Path, resolve: Any) -> dict[str, str]:
            return {"region": self.config.region}

    assert XCatalog.config_model is XConfig
    plugin = XCatalog.from_config({"region": "us"})
    assert isinstance(plugin.config, XConfig)
    assert plugin.catalog_properties(Path("."), None) == {"region": "us"}
    with pytest.raises(ValidationError):
        XCatalog.from_config({"zone": "us"})
    assert RestCatalogPlugin.config_model is RestCatalogConfig
    assert PolarisCatalogPlugin.config_model is PolarisConfig
    assert RestCatalogPlugin.from_config({"uri": "http://cat/api"}).config.uri == "http://cat/api"


@pytest.mark.requirement("FR-055")
def test_dbt_health_names_the_installed_dbt_core_or_what_is_missing(tmp_path: Path) -> None:
    """Both dbt plugins answer with the installed dbt-core's version (without importing dbt);
    a configured dbt executable that is not there makes core-subprocess unhealthy, and one
    that answers ``--version`` healthy."""
    from importlib.metadata import version

    from floe.plugins.base import HealthState
    from floe.plugins.builtin.dbt_core import CoreDbtPlugin, SubprocessDbtPlugin

    expected = f"dbt-core {version('dbt-core')}"
    for cls in (CoreDbtPlugin, SubprocessDbtPlugin):
        status = cls(cls.config_model()).health_check()
        assert (status.state, status.message) == (HealthState.HEALTHY, expected)
    missing = SubprocessDbtPlugin(
        SubprocessDbtPlugin.config_model(executable=str(tmp_path / "dbt"))
    )
    status = missing.health_check()
    assert status.state is HealthState.UNHEALTHY
    assert str(tmp_path / "dbt") in status.message
    script = tmp_path / "fake-dbt"
    script.write_text("#!/bin/sh\necho 'Core: 1.11'\n")
    script.chmod(0o755)
    answering = SubprocessDbtPlugin(SubprocessDbtPlugin.config_model(executable=str(script)))
    assert answering.health_check().state is HealthState.HEALTHY


@pytest.mark.requirement("FR-051")
def test_the_values_plugins_exchange_are_still_importable_from_the_abcs() -> None:
    """The 13 values plugins and floe hand each other live in floe.plugins.records; a plugin
    importing them from floe.plugins.abcs (where they were) gets the very same classes, and
    a name the ABCs never had is still an AttributeError."""
    from floe.plugins import abcs, records

    names = sorted(n for n, v in vars(records).items() if isinstance(v, type) and
                   v.__module__ == records.__name__)  # fmt: skip
    assert names == [
        "CheckResult", "DbtInvocation", "DbtOutcome", "Destination", "IngestionLoad",
        "IngestionRequest", "NetworkScope", "QualityCheck", "SemanticColumn", "SemanticLoaded",
        "SemanticModel", "SemanticProblem", "SemanticValidation",
    ]  # fmt: skip
    assert all(getattr(abcs, n) is getattr(records, n) for n in names)
    with pytest.raises(AttributeError, match="NoSuchRecord"):
        _ = abcs.NoSuchRecord  # type: ignore[attr-defined]


#: Where floe states how many plugin categories there are: each statement, as a pattern.
COUNT_STATEMENTS = {
    "tests/unit/test_plugins.py": r"^\"\"\"The plugin registry: (\d+) categories",
    "src/floe/plugins/__init__.py": r"^\"\"\"The plugin system: (\d+) categories",
    "src/floe/plugins/base.py": r"\"\"\"The (\d+) plugin categories",
    "docs/plugins.md": r"floe has (\d+) plugin categories",
    "README.md": r"the (\d+) plugin categories",
}


@pytest.mark.requirement("WU6-AC8")
@pytest.mark.requirement("15-FR-010")
def test_every_stated_plugin_type_count_is_the_real_one() -> None:
    """The plugin tests' module docstring, the plugin package, PluginType's docstring, the
    plugin guide and the README state the number of plugin categories; each is the number
    of members of PluginType (alert_channel included), which `floe plugins list` reports."""
    root = Path(__file__).resolve().parents[2]
    real = len(PluginType)
    assert PluginType.ALERT_CHANNEL in set(PluginType)
    stated = {}
    for path, pattern in COUNT_STATEMENTS.items():
        match = re.search(pattern, (root / path).read_text(encoding="utf-8"), re.M)
        assert match is not None, f"{path} no longer states the count"
        stated[path] = int(match.group(1))
    assert stated == dict.fromkeys(COUNT_STATEMENTS, real)


@pytest.mark.requirement("WU6-AC3")
def test_the_alert_channel_abc_is_importable_from_the_plugins_package() -> None:
    """``floe.plugins.abcs.AlertChannelPlugin`` is the ABC the registry maps alert_channel
    to: abstract until ``send`` is implemented, and the built-in webhook plugin is one."""
    from floe.plugins.abcs import AlertChannelPlugin
    from floe.plugins.builtin.alert_webhook import WebhookAlertPlugin

    assert ABC_BY_TYPE[PluginType.ALERT_CHANNEL] is AlertChannelPlugin
    assert AlertChannelPlugin.__abstractmethods__ == frozenset({"send"})
    assert issubclass(WebhookAlertPlugin, AlertChannelPlugin)
    assert not inspect.isabstract(WebhookAlertPlugin)
    assert WebhookAlertPlugin.plugin_type is PluginType.ALERT_CHANNEL
