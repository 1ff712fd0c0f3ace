"""charts/floe-platform rendered with the Helm SDK for each values file: lint, strict schema
validation against two Kubernetes minor versions, and assertions on the rendered objects in
the style of helm-unittest."""

from __future__ import annotations

import json

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

from tests.chart.conftest import (
    CHART,
    CLUSTER_MANIFEST,
    NAMESPACE,
    VALUE_SETS,
    env_of,
    find,
    pod_spec,
    render,
    rendered,
    values_of,
)

#: The oldest and the newest Kubernetes minor version the chart supports (Chart.yaml
#: kubeVersion >=1.30; kubernetes-validate ships schemas up to 1.37).
K8S_VERSIONS = ("1.34.0", "1.37.0")
SERVICES = {  # workload → its component label
    "dagster-webserver": "dagster-webserver",
    "dagster-daemon": "dagster-daemon",
    "polaris": "polaris",
    "minio": "object-storage",
    "postgresql": "postgresql",
    "otel-collector": "otel-collector",
    "jaeger": "jaeger",
    "marquez": "marquez",
    "pushgateway": "pushgateway",
    "prometheus": "prometheus",
    "grafana": "grafana",
}
DEMO_PRODUCTS = ("customer-360", "iot-telemetry", "financial-risk")


def _workloads(docs: list[dict]) -> list[dict]:
    return [d for d in docs if d["kind"] in ("Deployment", "StatefulSet", "Job")]


@pytest.mark.requirement("FR-001")
@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_chart_lints_and_every_object_validates_strictly(value_set: str) -> None:
    """Helm's linter finds nothing, and every rendered object is valid, unknown fields being
    errors, for the oldest and the newest supported Kubernetes minor version."""
    values = values_of(value_set)
    for version in K8S_VERSIONS:
        report = helm.lint(str(CHART), values, strict=True, namespace=NAMESPACE,
                           kube_version=version)  # fmt: skip
        assert report["errors"] == [], report
        assert report["messages"] == [], report
    docs = rendered(value_set)
    for doc in docs:
        for version in K8S_VERSIONS:
            assert kubernetes_validate.validate(doc, version, strict=True) == version[:4]
    names = {d["metadata"]["name"] for d in _workloads(docs)}
    assert set(SERVICES) <= names
    products = {n.removeprefix("code-") for n in names if n.startswith("code-")}
    assert products == (set(DEMO_PRODUCTS) if value_set == "demo" else set())


@pytest.mark.requirement("FR-001")
def test_a_strictly_invalid_object_is_caught() -> None:
    """The strict check is no formality: a misspelt field in a rendered Deployment fails."""
    deployment = find(rendered("test"), "Deployment", "polaris")
    pod_spec(deployment)["containers"][0]["readinesProbe"] = {"httpGet": {"port": 8182}}
    with pytest.raises(kubernetes_validate.ValidationError, match="readinesProbe"):
        kubernetes_validate.validate(deployment, K8S_VERSIONS[0], strict=True)


@pytest.mark.requirement("FLOE-011")
@pytest.mark.parametrize("value_set", ["production", "demo"])
def test_every_pod_meets_pod_security_restricted(value_set: str) -> None:
    """Each pod runs non-root with RuntimeDefault seccomp; each container drops ALL
    capabilities, cannot escalate and has a read-only root filesystem."""
    workloads = _workloads(rendered(value_set))
    assert len(workloads) >= len(SERVICES) + 2  # + the two bootstrap Jobs
    for obj in workloads:
        spec = pod_spec(obj)
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True, obj["metadata"]["name"]
        assert pod["runAsUser"] > 0
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
        for container in spec["containers"]:
            sc = container["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False
            assert sc["readOnlyRootFilesystem"] is True
            assert sc["capabilities"] == {"drop": ["ALL"]}
            assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
            assert set(container["resources"]) == {"limits", "requests"}
        assert not {"hostNetwork", "hostPID", "hostIPC"} & set(spec)


@pytest.mark.requirement("FR-001")
def test_every_object_has_the_recommended_labels_and_its_component() -> None:
    """app.kubernetes.io/{name,instance,version,managed-by,part-of,component} on every object,
    and each workload's pods carry the component of the service they are."""
    docs = rendered("demo")
    for doc in docs:
        labels = doc["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == "floe-platform"
        assert labels["app.kubernetes.io/instance"] == "floe"
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        assert labels["app.kubernetes.io/part-of"] == "floe"
        assert labels["app.kubernetes.io/version"] == "0.1.0"
        assert labels["app.kubernetes.io/component"]
        assert doc["metadata"].get("namespace", NAMESPACE) == NAMESPACE
    for name, component in SERVICES.items():
        obj = next(d for d in _workloads(docs) if d["metadata"]["name"] == name)
        pod_labels = obj["spec"]["template"]["metadata"]["labels"]
        assert pod_labels["app.kubernetes.io/component"] == component
        assert obj["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] == component


@pytest.mark.requirement("FR-003")
def test_every_service_has_probes_on_its_health_endpoint_and_port() -> None:
    """Readiness and liveness of each service hit its real health endpoint on a port the
    container declares, and each Service targets a named container port."""
    docs = rendered("test")
    expected = {
        "polaris": ("/q/health/ready", "management", 8182),
        "minio": ("/minio/health/ready", "s3", 9000),
        "dagster-webserver": ("/server_info", "http", 3000),
        "marquez": ("/healthcheck", "admin", 5001),
        "jaeger": ("/status", "health", 13133),
        "otel-collector": ("/", "health", 13133),
        "prometheus": ("/-/ready", "http", 9090),
        "pushgateway": ("/-/ready", "http", 9091),
        "grafana": ("/api/health", "http", 3000),
    }
    for name, (path, port_name, port) in expected.items():
        obj = next(d for d in _workloads(docs) if d["metadata"]["name"] == name)
        container = pod_spec(obj)["containers"][0]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports[port_name] == port, name
        assert container["readinessProbe"]["httpGet"] == {"path": path, "port": port_name}
        assert "livenessProbe" in container
        service = find(docs, "Service", name)
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= set(ports)
    polaris = pod_spec(find(docs, "Deployment", "polaris"))["containers"][0]
    assert polaris["livenessProbe"]["httpGet"] == {"path": "/q/health/live", "port": "management"}
    daemon = pod_spec(find(docs, "Deployment", "dagster-daemon"))["containers"][0]
    assert daemon["livenessProbe"]["exec"]["command"] == ["dagster-daemon", "liveness-check"]
    code = pod_spec(find(rendered("demo"), "Deployment", "code-customer-360"))["containers"][0]
    assert code["readinessProbe"]["exec"]["command"] == [
        "dagster", "api", "grpc-health-check", "-p", "4000"]  # fmt: skip


@pytest.mark.requirement("WU8-AC1")
def test_polaris_health_is_read_on_the_management_port() -> None:
    """Polaris's probes use /q/health/* on the management port 8182, never the API port,
    and its Service exposes both."""
    docs = rendered("production")
    container = pod_spec(find(docs, "Deployment", "polaris"))["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"api": 8181, "management": 8182}
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["port"] == "management"
        assert container[probe]["httpGet"]["path"].startswith("/q/health/")
    service = find(docs, "Service", "polaris")
    assert {(p["name"], p["port"]) for p in service["spec"]["ports"]} == {
        ("api", 8181), ("management", 8182)}  # fmt: skip


@pytest.mark.requirement("WU1-AC1")
def test_bootstrap_job_creates_then_verifies_the_catalog() -> None:
    """The Polaris bootstrap Job runs the script that POSTs the catalog and then GETs
    /api/management/v1/catalogs/<name>; its body names the values' catalog and bucket."""
    docs = rendered("test")
    job = find(docs, "Job", "polaris-bootstrap")
    container = pod_spec(job)["containers"][0]
    assert container["command"] == ["/bin/sh", "/scripts/polaris-bootstrap.sh"]
    env = env_of(container)
    assert env["CATALOG_NAME"] == "floe"
    assert env["POLARIS_URL"] == "http://polaris.floe-platform.svc.cluster.local:8181"
    assert env["POLARIS_MANAGEMENT_URL"] == "http://polaris.floe-platform.svc.cluster.local:8182"
    body = json.loads(env["CATALOG_BODY"])["catalog"]
    assert body["name"] == "floe"
    assert body["properties"]["default-base-location"] == "s3://floe-warehouse/warehouse"
    assert body["storageConfigInfo"]["storageType"] == "S3"
    assert (
        body["storageConfigInfo"]["endpoint"] == "http://minio.floe-platform.svc.cluster.local:9000"
    )
    script = find(docs, "ConfigMap", "floe-scripts")["data"]["polaris-bootstrap.sh"]
    create = script.index("ensure \"catalog '$CATALOG_NAME'\" POST /catalogs")
    verify = script.index('catalog_exists "$token"')
    assert create < verify
    assert script == (CHART / "scripts" / "polaris-bootstrap.sh").read_text()
    assert find(docs, "ConfigMap", "floe-scripts")["data"]["lib.sh"].count("polaris_token()") == 1


@pytest.mark.requirement("WU1-AC1")
def test_bootstrap_job_creates_the_principal_the_cluster_manifest_logs_in_with() -> None:
    """The bootstrap Job's runner principal is the catalog's oauth2 client_id of
    demo/manifest-cluster.yaml (floe-runner); its credentials come from the runner's
    existingSecret by secretKeyRef, never as values; the privilege is CATALOG_MANAGE_CONTENT."""
    manifest = yaml.safe_load(CLUSTER_MANIFEST.read_text())
    client_id = manifest["plugins"]["catalog"]["config"]["oauth2"]["client_id"]
    env = env_of(pod_spec(find(rendered("test"), "Job", "polaris-bootstrap"))["containers"][0])
    assert env["RUNNER_PRINCIPAL"] == client_id == "floe-runner"
    assert env["RUNNER_CLIENT_ID"] == {
        "secretKeyRef": {"name": "floe-polaris-runner", "key": "client-id"}
    }
    assert env["RUNNER_CLIENT_SECRET"] == {
        "secretKeyRef": {"name": "floe-polaris-runner", "key": "client-secret"}
    }
    assert env["RUNNER_PRIVILEGE"] == "CATALOG_MANAGE_CONTENT"


@pytest.mark.requirement("WU1-BC2")
def test_bootstrap_job_is_retried_after_the_readiness_timeout() -> None:
    """Polaris not ready within READY_TIMEOUT (300 s in the test values) fails the pod; the
    Job retries it backoffLimit times, within a deadline that leaves room for each try."""
    job = find(rendered("test"), "Job", "polaris-bootstrap")
    env = env_of(pod_spec(job)["containers"][0])
    assert env["READY_TIMEOUT"] == "300"
    assert job["spec"]["backoffLimit"] == 2
    assert job["spec"]["activeDeadlineSeconds"] == 3 * (300 + 60)
    assert pod_spec(job)["restartPolicy"] == "Never"
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "post-install,post-upgrade"


@pytest.mark.requirement("WU1-AC7")
def test_warehouse_bucket_is_in_the_bucket_list_and_required() -> None:
    """The test values' bucket list holds the warehouse bucket the catalog points at; the
    bucket Job gets that list; a list without the warehouse bucket does not render."""
    docs = rendered("test")
    env = env_of(pod_spec(find(docs, "Job", "buckets"))["containers"][0])
    assert env["BUCKETS"].split() == ["floe-warehouse", "floe-staging"]
    assert env["S3_ENDPOINT"] == "http://minio.floe-platform.svc.cluster.local:9000"
    body = json.loads(env_of(pod_spec(find(docs, "Job", "polaris-bootstrap"))["containers"][0])
                      ["CATALOG_BODY"])  # fmt: skip
    warehouse = body["catalog"]["properties"]["default-base-location"].split("/")[2]
    assert warehouse in env["BUCKETS"].split()
    with pytest.raises(Exception, match="must include the warehouse bucket floe-warehouse"):
        render(values_of("test", objectStorage={"buckets": ["floe-staging"]}))


@pytest.mark.requirement("FR-061")
@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_secrets_only_by_reference(value_set: str) -> None:
    """The chart renders no Secret; every credential reaches a container through a
    secretKeyRef (or a product's secretRef) naming an existingSecret of the values."""
    docs = rendered(value_set)
    assert [d for d in docs if d["kind"] == "Secret"] == []
    refs = set()
    for obj in _workloads(docs):
        for container in pod_spec(obj)["containers"]:
            for e in container.get("env", []):
                if any(w in e["name"] for w in ("PASSWORD", "SECRET", "ACCESS_KEY", "CLIENT_ID")):
                    assert "value" not in e, (obj["metadata"]["name"], e["name"])
                    refs.add(e["valueFrom"]["secretKeyRef"]["name"])
    assert refs == {"floe-postgresql", "floe-polaris", "floe-polaris-runner",
                    "floe-object-storage", "floe-grafana"}  # fmt: skip


@pytest.mark.requirement("TQR-021")
@pytest.mark.requirement("FR-004")
def test_postgresql_creates_the_databases_of_dagster_marquez_and_polaris() -> None:
    """The in-chart PostgreSQL creates one database per service on first start, and each
    service is pointed at its own."""
    docs = rendered("production")
    init = find(docs, "ConfigMap", "postgresql-init")["data"]["databases.sql"]
    assert sorted(init.split()) == sorted(
        ["CREATE", "DATABASE", "dagster;", "CREATE", "DATABASE", "marquez;",
         "CREATE", "DATABASE", "polaris;"])  # fmt: skip
    instance = yaml.safe_load(find(docs, "ConfigMap", "dagster-instance")["data"]["dagster.yaml"])
    assert instance["storage"]["postgres"]["postgres_db"]["db_name"] == "dagster"
    marquez = env_of(pod_spec(find(docs, "Deployment", "marquez"))["containers"][0])
    assert marquez["POSTGRES_DB"] == "marquez"
    polaris = env_of(pod_spec(find(docs, "Deployment", "polaris"))["containers"][0])
    assert polaris["QUARKUS_DATASOURCE_JDBC_URL"].endswith(
        "postgresql.floe-platform.svc.cluster.local:5432/polaris"
    )


@pytest.mark.requirement("FR-060")
def test_run_launcher_may_create_jobs_and_pods_in_its_namespace_only() -> None:
    """One namespaced Role: create/delete/get/list/watch Jobs, read Pods and their logs —
    no ClusterRole, no wildcard, bound to the dagster ServiceAccount only; the run pods'
    and code servers' accounts have no Role and mount no token."""
    docs = rendered("demo")
    assert [d for d in docs if d["kind"] in ("ClusterRole", "ClusterRoleBinding")] == []
    (role,) = [d for d in docs if d["kind"] == "Role"]
    rules = {(r["apiGroups"][0], r["resources"][0]): r["verbs"] for r in role["rules"]}
    assert rules == {
        ("batch", "jobs"): ["create", "delete", "get", "list", "watch"],
        ("", "pods"): ["get", "list", "watch"],
        ("", "pods/log"): ["get"],
    }
    (binding,) = [d for d in docs if d["kind"] == "RoleBinding"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "dagster", "namespace": NAMESPACE}]  # fmt: skip
    accounts = {d["metadata"]["name"]: d for d in docs if d["kind"] == "ServiceAccount"}
    assert accounts["dagster"]["automountServiceAccountToken"] is True
    others = [a for n, a in accounts.items() if n != "dagster"]
    assert len(others) == len(accounts) - 1 >= 10
    assert all(a["automountServiceAccountToken"] is False for a in others)
    for obj in _workloads(docs):
        if pod_spec(obj)["serviceAccountName"] != "dagster":
            assert pod_spec(obj)["automountServiceAccountToken"] is False


@pytest.mark.requirement("WU4-AC2")
def test_collector_receives_otlp_and_exports_to_jaeger_over_otlp() -> None:
    """The collector listens for OTLP gRPC and HTTP, sends traces to Jaeger's OTLP port and
    metrics to its Prometheus exporter, which Prometheus scrapes."""
    docs = rendered("test")
    config = yaml.safe_load(find(docs, "ConfigMap", "otel-collector")["data"]["config.yaml"])
    assert config["receivers"]["otlp"]["protocols"] == {
        "grpc": {"endpoint": "0.0.0.0:4317"}, "http": {"endpoint": "0.0.0.0:4318"}}  # fmt: skip
    assert config["exporters"]["otlp/jaeger"]["endpoint"] == (
        "jaeger.floe-platform.svc.cluster.local:4317"
    )
    pipelines = config["service"]["pipelines"]
    assert pipelines["traces"]["exporters"] == ["otlp/jaeger"]
    assert pipelines["metrics"]["exporters"] == ["prometheus"]
    assert config["service"]["extensions"] == ["health_check"]
    jaeger = find(docs, "Service", "jaeger")
    assert ("otlp-grpc", 4317) in {(p["name"], p["port"]) for p in jaeger["spec"]["ports"]}
    prom = yaml.safe_load(find(docs, "ConfigMap", "prometheus")["data"]["prometheus.yml"])
    targets = {j["job_name"]: j["static_configs"][0]["targets"] for j in prom["scrape_configs"]}
    assert targets["otel-collector"] == ["otel-collector.floe-platform.svc.cluster.local:8889"]
    assert targets["floe-pushgateway"] == ["pushgateway.floe-platform.svc.cluster.local:9091"]


@pytest.mark.requirement("WU4-AC3")
def test_jaeger_otlp_receiver_enabled_in_the_test_values() -> None:
    """values-test.yaml turns Jaeger's OTLP receiver on and the pod gets it."""
    values = yaml.safe_load((CHART / "values-test.yaml").read_text())
    assert values["jaeger"]["otlpEnabled"] is True
    container = pod_spec(find(rendered("test"), "Deployment", "jaeger"))["containers"][0]
    assert env_of(container)["COLLECTOR_OTLP_ENABLED"] == "true"
    assert {p["containerPort"] for p in container["ports"]} >= {4317, 4318}


@pytest.mark.requirement("FR-007")
def test_grafana_provisions_prometheus_jaeger_and_the_floe_dashboard() -> None:
    """Grafana gets both data sources and the floe dashboard, whose panels query the metric
    names floe's run exporter writes."""
    docs = rendered("test")
    data = find(docs, "ConfigMap", "grafana-provisioning")["data"]
    sources = {s["type"]: s["url"] for s in yaml.safe_load(data["datasources.yaml"])["datasources"]}
    assert sources == {
        "prometheus": "http://prometheus.floe-platform.svc.cluster.local:9090",
        "jaeger": "http://jaeger.floe-platform.svc.cluster.local:16686",
    }
    dashboard = json.loads(data["floe.json"])
    exprs = " ".join(t["expr"] for p in dashboard["panels"] for t in p["targets"])
    for metric in ("floe_pipeline_runs_total", "floe_rows_written_total",
                   "floe_pipeline_duration_seconds_bucket", "floe_last_run_success"):  # fmt: skip
        assert metric in exprs
    mounts = pod_spec(find(docs, "Deployment", "grafana"))["containers"][0]["volumeMounts"]
    assert "/var/lib/grafana/dashboards/floe.json" in {m["mountPath"] for m in mounts}
