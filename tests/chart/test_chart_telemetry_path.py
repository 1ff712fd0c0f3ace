"""The telemetry path of a cluster platform, end to end through the rendered chart: the
address floe's span exporter dials (from the platform manifest the chart is installed with)
is the collector's Service, whose OTLP receiver listens there; the collector's pipelines
forward traces to Jaeger over OTLP and metrics to its Prometheus exporter, which Prometheus
scrapes; the NetworkPolicies let exactly these connections through."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from floe.runtime.platform import load_manifest
from floe.spec.otlp import GRPC, otlp_endpoint
from tests.chart.conftest import (
    CLUSTER_MANIFEST,
    NAMESPACE,
    RELEASE,
    allowed,
    env_of,
    find,
    pod_labels,
    pod_spec,
    rendered,
)

DOMAIN = "cluster.local"


def _service_port(docs: list[dict[str, Any]], service: str, port: int) -> dict[str, Any]:
    """The Service's port entry for ``port`` (fails when the Service does not expose it)."""
    ports = {p["port"]: p for p in find(docs, "Service", service)["spec"]["ports"]}
    assert port in ports, f"Service {service} exposes {sorted(ports)}, not {port}"
    return ports[port]


def _host_port(endpoint: str) -> tuple[str, int]:
    host, _, port = endpoint.rpartition(":")
    return host, int(port)


def _run_pod_labels(docs: list[dict[str, Any]]) -> dict[str, str]:
    """The labels the run launcher gives every run pod (the instance's run_launcher.labels)."""
    instance = yaml.safe_load(find(docs, "ConfigMap", "dagster-instance")["data"]["dagster.yaml"])
    labels: dict[str, str] = instance["run_launcher"]["config"]["labels"]
    return labels


@pytest.mark.requirement("FR-006")
def test_collector_receives_what_floe_sends_and_forwards_it_to_jaeger_and_prometheus() -> None:
    """Receives: the OTLP address floe's exporter dials for the cluster manifest
    (floe.spec.otlp, the same rule the run uses) is the otel-collector Service of the
    release's namespace, on a port the Service maps to the container port where the
    collector's OTLP receiver for that protocol listens, and run pods and code locations may
    connect to it. Forwards: the traces pipeline takes that receiver to an OTLP exporter
    whose endpoint is Jaeger's Service on its OTLP gRPC port (OTLP receiver enabled), the
    metrics pipeline to the Prometheus exporter whose port Prometheus scrapes, and the
    collector may reach both while a pod of no flow (Grafana) may not send it spans. Every
    component a pipeline names is defined, as the collector requires at start."""
    docs = rendered("demo")
    tracing = load_manifest(CLUSTER_MANIFEST).observability.tracing
    assert tracing.exporter == "otlp"
    dial = otlp_endpoint(tracing.endpoint, tracing.protocol)
    assert dial.host == f"otel-collector.{NAMESPACE}.svc.{DOMAIN}"

    config = yaml.safe_load(find(docs, "ConfigMap", "otel-collector")["data"]["config.yaml"])
    protocol = "grpc" if dial.protocol == GRPC else "http"
    receiver = config["receivers"]["otlp"]["protocols"][protocol]["endpoint"]
    assert _host_port(receiver) == ("0.0.0.0", dial.port)
    collector = pod_spec(find(docs, "Deployment", "otel-collector"))["containers"][0]
    container_ports = {p["name"]: p["containerPort"] for p in collector["ports"]}
    assert container_ports[_service_port(docs, "otel-collector", dial.port)["targetPort"]] == (
        dial.port
    )

    pipelines = config["service"]["pipelines"]
    for name, pipeline in pipelines.items():
        for kind in ("receivers", "processors", "exporters"):
            undefined = set(pipeline.get(kind, [])) - set(config[kind])
            assert not undefined, f"pipeline {name} names undefined {kind} {undefined}"
    assert set(config["service"]["extensions"]) <= set(config["extensions"])
    assert pipelines["traces"]["receivers"] == ["otlp"]
    (trace_exporter,) = pipelines["traces"]["exporters"]
    jaeger_host, jaeger_port = _host_port(config["exporters"][trace_exporter]["endpoint"])
    assert trace_exporter.split("/")[0] == "otlp"
    assert jaeger_host == f"jaeger.{NAMESPACE}.svc.{DOMAIN}"
    assert _service_port(docs, "jaeger", jaeger_port)["name"] == "otlp-grpc"
    jaeger = pod_spec(find(docs, "Deployment", "jaeger"))["containers"][0]
    assert env_of(jaeger)["COLLECTOR_OTLP_ENABLED"] == "true"
    assert jaeger_port in {p["containerPort"] for p in jaeger["ports"]}

    assert pipelines["metrics"]["receivers"] == ["otlp"]
    (metrics_exporter,) = pipelines["metrics"]["exporters"]
    _, metrics_port = _host_port(config["exporters"][metrics_exporter]["endpoint"])
    prom = yaml.safe_load(find(docs, "ConfigMap", "prometheus")["data"]["prometheus.yml"])
    scraped = {t for j in prom["scrape_configs"] for s in j["static_configs"] for t in s["targets"]}
    assert f"otel-collector.{NAMESPACE}.svc.{DOMAIN}:{metrics_port}" in scraped

    labels = {n: pod_labels(docs, "Deployment", n) for n in ("otel-collector", "jaeger",
                                                            "prometheus", "grafana")}  # fmt: skip
    senders = [_run_pod_labels(docs), pod_labels(docs, "Deployment", "code-customer-360")]
    for sender in senders:
        assert allowed(docs, sender, labels["otel-collector"], dial.port), sender
    assert allowed(docs, labels["otel-collector"], labels["jaeger"], jaeger_port)
    assert allowed(docs, labels["prometheus"], labels["otel-collector"], metrics_port)
    assert not allowed(docs, labels["grafana"], labels["otel-collector"], dial.port)
    assert not allowed(docs, labels["otel-collector"], labels["grafana"], 3000)


@pytest.mark.requirement("WU4-AC1")
@pytest.mark.requirement("15-FR-006")
def test_the_collector_is_selected_by_the_labels_its_pods_really_carry() -> None:
    """Everything that selects the collector — its Deployment, its Service, its own
    NetworkPolicy and Jaeger's ingress rule for it — selects with labels its pods carry
    (component ``otel-collector``, the release's instance the cluster test lists by), and no
    other pod carries them: the selectors find exactly the collector."""
    docs = rendered("test")
    labels = pod_labels(docs, "Deployment", "otel-collector")
    assert labels["app.kubernetes.io/component"] == "otel-collector"
    assert labels["app.kubernetes.io/instance"] == RELEASE
    deployment = find(docs, "Deployment", "otel-collector")
    policy = find(docs, "NetworkPolicy", "allow-otel-collector")["spec"]["podSelector"]
    jaeger_in = find(docs, "NetworkPolicy", "allow-jaeger")["spec"]["ingress"]
    from_collector = [
        p["podSelector"]["matchLabels"]
        for r in jaeger_in
        if {"port": 4317, "protocol": "TCP"} in r["ports"]
        for p in r["from"]
    ]
    selectors = {
        "deployment": deployment["spec"]["selector"]["matchLabels"],
        "service": find(docs, "Service", "otel-collector")["spec"]["selector"],
        "policy": policy["matchLabels"],
        **{f"jaeger ingress {i}": s for i, s in enumerate(from_collector)},
    }
    assert len(selectors) == 4
    pods = {
        d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"]
        for d in docs
        if d["kind"] in ("Deployment", "StatefulSet", "Job")
    }
    for what, selector in selectors.items():
        chosen = sorted(n for n, pl in pods.items() if selector.items() <= pl.items())
        assert chosen == ["otel-collector"], (what, selector, chosen)
