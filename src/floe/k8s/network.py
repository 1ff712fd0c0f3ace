"""NetworkPolicies: deny all ingress and egress, then allow DNS and each declared dependency.

Kubernetes NetworkPolicies match addresses, not DNS names, so a destination's host becomes:

* ``<svc>.<ns>.svc[.<cluster domain>]`` — the namespace ``<ns>`` (namespaceSelector);
* a single label (``polaris``) — a Service in the product's own namespace (podSelector {});
* an IP address — exactly that address (``/32`` or ``/128``);
* any other name — the public internet on that port only: ``0.0.0.0/0`` and ``::/0`` except
  the private, link-local (cloud metadata) and loopback ranges. A CNI with DNS-aware
  policies can narrow it.
"""

from __future__ import annotations

import ipaddress
from itertools import groupby
from typing import Any

from floe.k8s.endpoints import Destination
from floe.k8s.names import Names

PRIVATE_RANGES = ["10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
                  "172.16.0.0/12", "192.168.0.0/16"]  # fmt: skip
PRIVATE_RANGES_V6 = ["::1/128", "fc00::/7", "fe80::/10"]
NS_LABEL = "kubernetes.io/metadata.name"
API = "networking.k8s.io/v1"


def network_policies(names: Names, dests: list[Destination], cluster_domain: str) -> list[Any]:
    """Default deny, DNS, then one policy per purpose (catalog, storage, tracing, …)."""
    policies = [_default_deny(names), _dns(names)]
    for purpose, group in groupby(sorted(dests), key=lambda d: d.purpose):
        policies.append(_egress(names, purpose, list(group), cluster_domain))
    return policies


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


def _policy(names: Names, suffix: str, spec: dict[str, Any], **notes: str) -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "NetworkPolicy",
        "metadata": names.meta(f"{names.product}-{suffix}", "network-policy", **notes),
        "spec": spec,
    }


def _default_deny(names: Names) -> dict[str, Any]:
    spec = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    return _policy(names, "default-deny", spec)


def _dns(names: Names) -> dict[str, Any]:
    to = {
        "namespaceSelector": {"matchLabels": {NS_LABEL: "kube-system"}},
        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
    }
    ports = [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]
    spec = {
        "podSelector": {"matchLabels": names.selector()},
        "policyTypes": ["Egress"],
        "egress": [{"to": [to], "ports": ports}],
    }
    return _policy(names, "allow-dns", spec)


def _egress(
    names: Names, purpose: str, dests: list[Destination], cluster_domain: str
) -> dict[str, Any]:
    rules = []
    for host, port in sorted({(d.host, d.port) for d in dests}):
        ports = [{"port": port, "protocol": "TCP"}]
        rules.append({"to": peers(host, cluster_domain), "ports": ports})
    spec = {
        "podSelector": {"matchLabels": names.selector()},
        "policyTypes": ["Egress"],
        "egress": rules,
    }
    shown = ",".join(sorted({f"{d.host}:{d.port}" for d in dests}))
    sources = ",".join(sorted({d.source for d in dests}))
    notes = {"floe.dev/destinations": shown, "floe.dev/declared-by": sources}
    return _policy(names, f"egress-{purpose.replace('_', '-')}", spec, **notes)
