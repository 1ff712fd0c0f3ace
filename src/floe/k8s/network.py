"""The product's network isolation, asked of the manifest's network_security plugin.

floe k8s generate works out what the plugin needs (:class:`NetworkScope`: namespace, pod
selector, labels, the destinations of :mod:`floe.k8s.endpoints`); the plugin (``k8s`` by
default: :mod:`floe.plugins.builtin.network_k8s`; ``none``: nothing) turns it into resources.
"""

from __future__ import annotations

from typing import Any

from floe.k8s.names import Names
from floe.plugins.abcs import NetworkSecurityPlugin
from floe.plugins.records import Destination, NetworkScope

COMPONENT = "network-policy"


def scope(names: Names, dests: list[Destination], cluster_domain: str) -> NetworkScope:
    """What the plugin is told about the product's workloads."""
    return NetworkScope(
        product=names.product,
        namespace=names.namespace,
        selector=names.selector(),
        labels=names.labels(COMPONENT),
        destinations=tuple(sorted(dests)),
        cluster_domain=cluster_domain,
    )


def network_policies(
    plugin: NetworkSecurityPlugin[Any], names: Names, dests: list[Destination], cluster_domain: str
) -> list[dict[str, Any]]:
    """The plugin's resources for the product."""
    return plugin.policies_for(scope(names, dests, cluster_domain))
