"""The chart rendered with the Helm SDK (helm-python-sdk: Helm's Go SDK in a shared library,
no helm binary, no network), and helpers to find rendered objects."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import helm_python as helm
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "floe-platform"
SCRIPTS = CHART / "scripts"
NAMESPACE = "floe-platform"
RELEASE = "floe"
#: The values files a platform team installs with, each as the files it layers.
VALUE_SETS = {
    "production": ("values.yaml",),
    "test": ("values.yaml", "values-test.yaml"),
    "demo": ("values.yaml", "values-test.yaml", "values-demo.yaml"),
}
CLUSTER_MANIFEST = ROOT / "demo" / "manifest-cluster.yaml"


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Helm's merge of values files: maps merge key by key, anything else replaces."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def values_of(value_set: str, **extra: Any) -> dict[str, Any]:
    """The merged values of a set, with the cluster manifest as --set-file would pass it."""
    values: dict[str, Any] = {}
    for name in VALUE_SETS[value_set]:
        values = merge(values, yaml.safe_load((CHART / name).read_text()) or {})
    manifest = {"platformManifest": {"content": CLUSTER_MANIFEST.read_text()}}
    return merge(merge(values, manifest), extra)


def render(values: dict[str, Any]) -> list[dict[str, Any]]:
    """Every object the chart renders for ``values`` (hooks included), in file order."""
    with helm.Chart.load(str(CHART)) as chart:
        files = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    docs: list[dict[str, Any]] = []
    for _name, text in sorted(files.items()):
        docs.extend(d for d in yaml.safe_load_all(text) if d)
    return docs


@functools.cache
def _rendered(value_set: str) -> str:
    return yaml.safe_dump_all(render(values_of(value_set)))


def rendered(value_set: str) -> list[dict[str, Any]]:
    """The objects of a values set (a fresh copy: tests may change it)."""
    return list(yaml.safe_load_all(_rendered(value_set)))


def find(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    """The one object of ``kind`` named ``name``."""
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} rendered"
    return found[0]


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    """The pod spec of a Deployment, StatefulSet or Job."""
    return obj["spec"]["template"]["spec"]


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    """A container's env by name: the value, or the valueFrom mapping."""
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A label selector (matchLabels only, as the chart writes them) selecting ``labels``."""
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def _peer_matches(peer: dict[str, Any], labels: dict[str, str]) -> bool:
    """A NetworkPolicy peer standing for a pod of the release's namespace with ``labels``
    (a peer with a namespaceSelector or an ipBlock names other namespaces or hosts)."""
    return set(peer) == {"podSelector"} and _selects(peer["podSelector"], labels)


def _rule_admits(rule: dict[str, Any], key: str, labels: dict[str, str], port: int) -> bool:
    ports = rule.get("ports")
    port_ok = not ports or any(p.get("port") == port for p in ports)
    peers = rule.get(key)
    return port_ok and (not peers or any(_peer_matches(p, labels) for p in peers))


def allowed(
    docs: list[dict[str, Any]], src: dict[str, str], dst: dict[str, str], port: int
) -> bool:
    """Whether the rendered NetworkPolicies let a pod labelled ``src`` open a TCP connection
    to a pod labelled ``dst`` on ``port`` in the release's namespace (Kubernetes semantics:
    a direction is open when no policy of that type selects the pod, else when a rule of one
    of the policies selecting it admits the peer and port)."""
    policies = [d["spec"] for d in docs if d["kind"] == "NetworkPolicy"]

    def side(labels: dict[str, str], kind: str, key: str, peer: dict[str, str]) -> bool:
        mine = [
            p
            for p in policies
            if kind in p.get("policyTypes", []) and _selects(p["podSelector"], labels)
        ]
        if not mine:
            return True
        rules = [r for p in mine for r in p.get(kind.lower(), [])]
        return any(_rule_admits(r, key, peer, port) for r in rules)

    return side(src, "Egress", "to", dst) and side(dst, "Ingress", "from", src)


def pod_labels(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, str]:
    """The pod template labels of a workload."""
    labels: dict[str, str] = find(docs, kind, name)["spec"]["template"]["metadata"]["labels"]
    return labels
