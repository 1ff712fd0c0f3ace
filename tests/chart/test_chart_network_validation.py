"""NetworkPolicy validation of the rendered chart, for every values file: each policy is a
strictly valid object, every pod is under a default deny in both directions, and no rule is
open-ended (any peer, any port) — the findings a network-policy review would rate high."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest

from tests.chart.conftest import VALUE_SETS, allowed, pod_labels, rendered

K8S_VERSIONS = ("1.34.0", "1.37.0")
#: Ingress from outside the release is for the UIs only (networkPolicy.uiFrom).
UI_PORTS = {3000, 9090, 16686}


def _findings(docs: list[dict[str, Any]]) -> list[str]:
    """High findings: a pod not denied by default, a rule open to any peer or any port, an
    ingress from outside the release on a port that is no UI's."""
    policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
    out: list[str] = []
    default = [p for p in policies if p["spec"]["podSelector"] == {}
               and set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
               and not p["spec"].get("ingress") and not p["spec"].get("egress")]  # fmt: skip
    if len(default) != 1:
        out.append(f"{len(default)} default-deny policies")
    for policy in policies:
        name = policy["metadata"]["name"]
        for kind, key in (("ingress", "from"), ("egress", "to")):
            for rule in policy["spec"].get(kind, []):
                if not rule.get(key):
                    out.append(f"{name}: {kind} rule open to any peer")
                if not rule.get("ports"):
                    out.append(f"{name}: {kind} rule open on every port")
                outside = [p for p in rule.get(key, []) if set(p) != {"podSelector"}]
                if kind == "ingress" and outside:
                    ports = {p["port"] for p in rule.get("ports", [])}
                    if not ports <= UI_PORTS:
                        out.append(f"{name}: ingress from outside the release on {ports}")
    return out


@pytest.mark.requirement("SC-008")
@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_network_policies_validate_with_no_high_finding(value_set: str) -> None:
    """Every rendered NetworkPolicy is valid, unknown fields being errors, for the oldest and
    newest supported Kubernetes; the review finds nothing; every workload's pods are
    selected by a policy of their component, and a pod of one service cannot reach another
    service's pod on a port of no flow (Grafana → PostgreSQL)."""
    docs = rendered(value_set)
    policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
    assert len(policies) >= 10
    for policy in policies:
        for version in K8S_VERSIONS:
            assert kubernetes_validate.validate(policy, version, strict=True) == version[:4]
    assert _findings(docs) == []
    workloads = [d for d in docs if d["kind"] in ("Deployment", "StatefulSet")]
    for workload in workloads:
        labels = workload["spec"]["template"]["metadata"]["labels"]
        component = labels["app.kubernetes.io/component"]
        own = [p for p in policies
               if p["spec"]["podSelector"].get("matchLabels", {}).get(
                   "app.kubernetes.io/component") == component]  # fmt: skip
        assert len(own) == 1, (workload["metadata"]["name"], len(own))
    grafana = pod_labels(docs, "Deployment", "grafana")
    assert not allowed(docs, grafana, pod_labels(docs, "StatefulSet", "postgresql"), 5432)


@pytest.mark.requirement("SC-008")
def test_an_open_rule_is_a_finding() -> None:
    """The review is no formality: an ingress rule without peers, an egress rule without
    ports and an outside peer on a non-UI port are each reported."""
    docs = rendered("test")
    policy = next(d for d in docs if d["metadata"]["name"] == "allow-postgresql")
    policy["spec"]["ingress"].append({"ports": [{"port": 5432, "protocol": "TCP"}]})
    policy["spec"]["ingress"].append(
        {"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 5432}]}
    )
    policy["spec"]["egress"].append({"to": [{"podSelector": {}}]})
    assert _findings(docs) == [
        "allow-postgresql: ingress rule open to any peer",
        "allow-postgresql: ingress from outside the release on {5432}",
        "allow-postgresql: egress rule open on every port",
    ]
