"""Marquez ships with the floe-platform chart, and its database is the platform team's choice
in the manifest (``platform.marquez.database``): a database of the shared PostgreSQL by
default, or a dedicated server. floe's spec and the chart read the same manifest."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from floe.plugins.builtin.network_k8s import peers
from floe.spec.manifest import Manifest
from tests.chart.conftest import (
    CHART,
    CLUSTER_MANIFEST,
    NAMESPACE,
    allowed,
    env_of,
    find,
    pod_labels,
    pod_spec,
    render,
    values_of,
)

DEDICATED = {
    "mode": "dedicated",
    "host": "lineage-db.data.svc.cluster.local",
    "port": 6543,
    "name": "lineage",
    "user": "marquez",
    "password": {"secret": "MARQUEZ_DB_PASSWORD"},
}


def _manifest(database: dict[str, Any] | None) -> dict[str, Any]:
    """The cluster manifest, with ``platform.marquez.database`` when given."""
    manifest: dict[str, Any] = yaml.safe_load(CLUSTER_MANIFEST.read_text())
    if database is not None:
        manifest["platform"]["marquez"] = {"database": copy.deepcopy(database)}
    return manifest


def _render(manifest: dict[str, Any], **values: Any) -> list[dict[str, Any]]:
    content = yaml.safe_dump(manifest, sort_keys=False)
    return render(values_of("production", platformManifest={"content": content}, **values))


def _marquez_env(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return env_of(pod_spec(find(docs, "Deployment", "marquez"))["containers"][0])


def _created_databases(docs: list[dict[str, Any]]) -> list[str]:
    sql = find(docs, "ConfigMap", "postgresql-init")["data"]["databases.sql"]
    lines = [line for line in sql.split("\n") if line]
    return sorted(line.removeprefix("CREATE DATABASE ").rstrip(";") for line in lines)


@pytest.mark.requirement("FR-049")
def test_marquez_ships_on_the_shared_postgresql_by_default() -> None:
    """The cluster manifest chooses nothing: floe's spec reads mode shared, and the chart
    ships Marquez (API 5000 — the manifest's lineage endpoint —, admin 5001 — its health
    check in platform.services) on its own database of the in-chart PostgreSQL, which the
    init script creates, logged in with PostgreSQL's user and Secret; Marquez may reach
    PostgreSQL and the runs may reach Marquez."""
    manifest = _manifest(None)
    assert Manifest.model_validate(manifest).platform.marquez.database.mode == "shared"
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    docs = _render(manifest)
    env = _marquez_env(docs)
    pg = values["postgresql"]
    assert env["POSTGRES_HOST"] == f"postgresql.{NAMESPACE}.svc.cluster.local"
    assert (env["POSTGRES_PORT"], env["POSTGRES_DB"], env["POSTGRES_USER"]) == (
        "5432", pg["databases"]["marquez"], pg["username"])  # fmt: skip
    assert env["POSTGRES_PASSWORD"] == {"secretKeyRef": {
        "name": pg["auth"]["existingSecret"], "key": pg["auth"]["passwordKey"]}}  # fmt: skip
    assert _created_databases(docs) == sorted(pg["databases"].values())
    ports = {p["name"]: p["port"] for p in find(docs, "Service", "marquez")["spec"]["ports"]}
    lineage = manifest["observability"]["lineage"]["endpoint"]
    assert lineage == f"http://marquez.{NAMESPACE}.svc.cluster.local:{ports['api']}"
    health = manifest["platform"]["services"]["marquez"]["url"]
    assert health == f"http://marquez.{NAMESPACE}.svc.cluster.local:{ports['admin']}"
    marquez = pod_labels(docs, "Deployment", "marquez")
    assert allowed(docs, marquez, pod_labels(docs, "StatefulSet", "postgresql"), 5432)
    run = {"app.kubernetes.io/part-of": "floe", "floe.dev/role": "run"}
    assert allowed(docs, run, marquez, ports["api"])


@pytest.mark.requirement("FR-049")
def test_a_shared_database_of_another_name_is_created_and_used() -> None:
    """mode shared with a name: Marquez uses that database and PostgreSQL's init script
    creates it instead of the chart's default name."""
    docs = _render(_manifest({"mode": "shared", "name": "lineage"}))
    assert _marquez_env(docs)["POSTGRES_DB"] == "lineage"
    assert _created_databases(docs) == ["dagster", "lineage", "polaris"]


@pytest.mark.requirement("FR-049")
def test_a_dedicated_server_from_the_manifest() -> None:
    """mode dedicated: floe's spec accepts the manifest; Marquez connects to the manifest's
    host, port, database and user, its password from marquez.existingSecret under the key
    the manifest's secret reference names (never a value); the shared PostgreSQL creates no
    Marquez database and Marquez's only database egress is the server's port to the peers
    floe's network plugin derives from its host."""
    manifest = _manifest(DEDICATED)
    chosen = Manifest.model_validate(manifest).platform.marquez.database
    assert (chosen.mode, chosen.host, chosen.port) == ("dedicated", DEDICATED["host"], 6543)
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    docs = _render(manifest)
    env = _marquez_env(docs)
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"], env["POSTGRES_DB"],
            env["POSTGRES_USER"]) == (DEDICATED["host"], "6543", "lineage", "marquez")  # fmt: skip
    assert env["POSTGRES_PASSWORD"] == {"secretKeyRef": {
        "name": values["marquez"]["existingSecret"], "key": "MARQUEZ_DB_PASSWORD"}}  # fmt: skip
    assert _created_databases(docs) == ["dagster", "polaris"]
    egress = find(docs, "NetworkPolicy", "allow-marquez")["spec"]["egress"]
    assert egress == [{"to": peers(DEDICATED["host"], "cluster.local"),
                       "ports": [{"port": 6543, "protocol": "TCP"}]}]  # fmt: skip
    marquez = pod_labels(docs, "Deployment", "marquez")
    assert not allowed(docs, marquez, pod_labels(docs, "StatefulSet", "postgresql"), 5432)


@pytest.mark.requirement("FR-049")
def test_a_dedicated_server_on_an_external_platform_postgresql() -> None:
    """PostgreSQL outside the chart and Marquez dedicated: the platform's services reach the
    external PostgreSQL, Marquez only its own server."""
    external = {"enabled": False, "external": {"host": "pg.data.svc.cluster.local", "port": 5433}}
    docs = _render(_manifest(DEDICATED), postgresql=external)
    ports = {
        r["ports"][0]["port"]
        for r in find(docs, "NetworkPolicy", "allow-marquez")["spec"]["egress"]
    }
    assert ports == {6543}
    daemon = find(docs, "NetworkPolicy", "allow-dagster-daemon")["spec"]["egress"]
    assert {"port": 5433, "protocol": "TCP"} in [p for r in daemon for p in r["ports"]]


@pytest.mark.requirement("FR-049")
@pytest.mark.parametrize(
    ("database", "missing"),
    [
        ({"mode": "dedicated", "user": "m", "password": {"secret": "P"}}, "host"),
        ({"mode": "dedicated", "host": "db.example.com", "password": {"secret": "P"}}, "user"),
        ({"mode": "dedicated", "host": "db.example.com", "user": "m"}, "password"),
    ],
)
def test_a_dedicated_server_without_its_connection_is_refused_by_spec_and_chart(
    database: dict[str, Any], missing: str
) -> None:
    """A dedicated database lacking host, user or password: floe's spec names the missing
    field, and the chart refuses to render with the manifest path of it."""
    manifest = _manifest(database)
    with pytest.raises(ValidationError, match=f"mode dedicated needs {missing}"):
        Manifest.model_validate(manifest)
    with pytest.raises(Exception, match=f"platform.marquez.database.{missing}"):
        _render(manifest)


@pytest.mark.requirement("FR-049")
def test_shared_mode_refuses_connection_fields() -> None:
    """host/user/password belong to a dedicated server: with mode shared floe's spec refuses
    them instead of silently ignoring them."""
    with pytest.raises(ValidationError, match="host, user: only for mode dedicated"):
        Manifest.model_validate(_manifest({"host": "db.example.com", "user": "m"}))
