"""Network security: ``k8s`` (Kubernetes NetworkPolicies) and ``none`` (no policies).

``k8s`` denies all ingress and egress, then allows DNS and each declared destination.
Kubernetes NetworkPolicies match addresses, not DNS names, so a destination's host becomes:

* ``<svc>.<ns>.svc[.<cluster domain>]`` — the namespace ``<ns>`` (namespaceSelector);
* a single label (``polaris``) — a Service in the product's own namespace (podSelector {});
* an IP address — exactly that address (``/32`` or ``/128``);
* any other name — the public internet on that port only: ``0.0.0.0/0`` and ``::/0`` except
  the private, link-local (cloud metadata) and loopback ranges. A CNI with DNS-aware
  policies can narrow it.

The chart's template ``floe.peers`` is the Helm copy of :func:`peers`
(``tests/chart/test_chart_network.py`` keeps them in agreement).
"""

from __future__ import annotations

import ipaddress
from itertools import groupby
from typing import Any, ClassVar

from floe.plugins.abcs import NetworkSecurityPlugin
from floe.plugins.base import EmptyConfig
from floe.plugins.records import Destination, NetworkScope

PRIVATE_RANGES = ["10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
                  "172.16.0.0/12", "192.168.0.0/16"]  # fmt: skip
PRIVATE_RANGES_V6 = ["::1/128", "fc00::/7", "fe80::/10"]
NS_LABEL = "kubernetes.io/metadata.name"
API = "networking.k8s.io/v1"


class K8sNetworkSecurityPlugin(NetworkSecurityPlugin[EmptyConfig]):
    """Default-deny NetworkPolicies that allow DNS and each declared destination."""

    name: ClassVar[str] = "k8s"
    version: ClassVar[str] = "0.1.0"
    description: ClassVar[str] = (
        "Kubernetes NetworkPolicies: default deny, DNS, one egress policy per purpose"
    )

    def policies_for(self, scope: NetworkScope) -> list[dict[str, Any]]:
        """Default deny, DNS, then one egress policy per purpose (catalog, storage, …)."""
        policies = [_default_deny(scope), _dns(scope)]
        for purpose, group in groupby(sorted(scope.destinations), key=lambda d: d.purpose):
            policies.append(_egress(scope, purpose, list(group)))
        return policies


class NoNetworkSecurityPlugin(NetworkSecurityPlugin[EmptyConfig]):
    """No policies: the cluster's own network rules (or none) apply."""

    name: ClassVar[str] = "none"
    version: ClassVar[str] = "0.1.0"
    description: ClassVar[str] = "No network policies (the cluster's own rules apply)"

    def policies_for(self, scope: NetworkScope) -> list[dict[str, Any]]:
        """Nothing."""
        return []


def peers(host: str, cluster_domain: str) -> list[dict[str, Any]]:
    """The NetworkPolicy peers that stand for ``host`` (see the module docstring)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        return [{"ipBlock": {"cidr": f"{address}/{address.max_prefixlen}"}}]
    labels = host.split(".")
    suffixes = ("svc", f"svc.{cluster_domain}")
    if len(labels) >= 3 and ".".join(labels[2:]) in suffixes:
        return [{"namespaceSelector": {"matchLabels": {NS_LABEL: labels[1]}}}]
    if len(labels) == 1:
        return [{"podSelector": {}}]
    return [
        {"ipBlock": {"cidr": "0.0.0.0/0", "except": PRIVATE_RANGES}},
        {"ipBlock": {"cidr": "::/0", "except": PRIVATE_RANGES_V6}},
    ]


def _policy(scope: NetworkScope, suffix: str, spec: dict[str, Any], **notes: str) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": f"{scope.product}-{suffix}",
        "namespace": scope.namespace,
        "labels": dict(scope.labels),
    }
    if notes:
        meta["annotations"] = dict(notes)
    return {"apiVersion": API, "kind": "NetworkPolicy", "metadata": meta, "spec": spec}


def _default_deny(scope: NetworkScope) -> dict[str, Any]:
    spec = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    return _policy(scope, "default-deny", spec)


def _dns(scope: NetworkScope) -> dict[str, Any]:
    to = {
        "namespaceSelector": {"matchLabels": {NS_LABEL: "kube-system"}},
        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
    }
    ports = [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]
    spec = {
        "podSelector": {"matchLabels": dict(scope.selector)},
        "policyTypes": ["Egress"],
        "egress": [{"to": [to], "ports": ports}],
    }
    return _policy(scope, "allow-dns", spec)


def _egress(scope: NetworkScope, purpose: str, dests: list[Destination]) -> dict[str, Any]:
    rules = []
    for host, port in sorted({(d.host, d.port) for d in dests}):
        ports = [{"port": port, "protocol": "TCP"}]
        rules.append({"to": peers(host, scope.cluster_domain), "ports": ports})
    spec = {
        "podSelector": {"matchLabels": dict(scope.selector)},
        "policyTypes": ["Egress"],
        "egress": rules,
    }
    shown = ",".join(sorted({f"{d.host}:{d.port}" for d in dests}))
    sources = ",".join(sorted({d.source for d in dests}))
    notes = {"floe.dev/destinations": shown, "floe.dev/declared-by": sources}
    return _policy(scope, f"egress-{purpose.replace('_', '-')}", spec, **notes)
