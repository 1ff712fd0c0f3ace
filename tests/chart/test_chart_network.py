"""The chart's Helm copy of floe.plugins.builtin.network_k8s.peers (template floe.peers)
agrees with the Python original (the k8s network_security plugin): external S3 and PostgreSQL
hosts become the same NetworkPolicy peers."""

from __future__ import annotations

from typing import Any

import pytest

from floe.plugins.builtin.network_k8s import peers
from tests.chart.conftest import find, render, values_of

#: host as written in the values → (URL of the S3 endpoint, its port)
S3_HOSTS = [
    ("s3.eu-west-1.amazonaws.com", "https://s3.eu-west-1.amazonaws.com", 443),
    ("10.20.0.7", "http://10.20.0.7:9000", 9000),
    ("minio.storage.svc.cluster.local", "http://minio.storage.svc.cluster.local:9000", 9000),
    ("minio.storage.svc", "http://minio.storage.svc", 80),
    ("minio", "http://minio:9000", 9000),
]
PG_HOSTS = ["db.example.com", "10.30.1.2", "pg.data.svc.cluster.local", "pg.data.svc", "pg"]


def _egress_to(docs: list[dict[str, Any]], component: str, port: int) -> list[dict[str, Any]]:
    """The peers of the component's egress rules on ``port`` that are not release pods."""
    policy = find(docs, "NetworkPolicy", f"allow-{component}")
    rules = [r for r in policy["spec"]["egress"]
             if r["ports"] == [{"port": port, "protocol": "TCP"}]]  # fmt: skip
    return [r["to"] for r in rules if not any(_release_pods(p) for p in r["to"])]


def _release_pods(peer: dict[str, Any]) -> bool:
    """A peer selecting pods of the release by labels (not an outside host)."""
    return bool(peer.get("podSelector", {}).get("matchLabels"))


@pytest.mark.requirement("FR-060")
@pytest.mark.parametrize(("host", "endpoint", "port"), S3_HOSTS)
def test_external_s3_egress_equals_floe_k8s_network_peers(
    host: str, endpoint: str, port: int
) -> None:
    """MinIO off and objectStorage.endpoint external: the run, code location, Polaris and
    bucket Job each get exactly one egress rule on the endpoint's port whose peers are
    floe.plugins.builtin.network_k8s.peers(host, clusterDomain)."""
    docs = render(values_of("production", minio={"enabled": False},
                            objectStorage={"endpoint": endpoint}))  # fmt: skip
    expected = peers(host, "cluster.local")
    for component in ("run", "code-location", "polaris", "buckets"):
        assert _egress_to(docs, component, port) == [expected], component


@pytest.mark.requirement("FR-060")
@pytest.mark.parametrize("host", PG_HOSTS)
def test_external_postgresql_egress_equals_floe_k8s_network_peers(host: str) -> None:
    """PostgreSQL off and an external host: Dagster's webserver and daemon, the run,
    Polaris and Marquez each reach it on its port through the peers of
    floe.plugins.builtin.network_k8s.peers."""
    external = {"enabled": False, "external": {"host": host, "port": 6432}}
    docs = render(values_of("production", postgresql=external))
    expected = peers(host, "cluster.local")
    for component in ("dagster-webserver", "dagster-daemon", "run", "polaris", "marquez"):
        assert _egress_to(docs, component, 6432) == [expected], component


@pytest.mark.requirement("FR-060")
def test_peers_follow_the_cluster_domain() -> None:
    """A custom clusterDomain: `<svc>.<ns>.svc.<domain>` narrows to the namespace in both,
    and the default domain's suffix is then an outside name in both."""
    for host in ("minio.storage.svc.corp.internal", "minio.storage.svc.cluster.local"):
        docs = render(values_of("production", clusterDomain="corp.internal",
                                minio={"enabled": False},
                                objectStorage={"endpoint": f"http://{host}:9000"}))  # fmt: skip
        assert _egress_to(docs, "run", 9000) == [peers(host, "corp.internal")], host
