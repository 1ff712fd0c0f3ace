"""``floe k8s generate``: schema-valid, least-privilege, default-deny Kubernetes manifests with
secrets by name only, derived from the real compile of the demo products."""

from __future__ import annotations

import json
import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from floe.errors import FloeError
from floe.k8s.generate import CONFIGMAP_LIMIT, K8sOptions, check_size, generate
from floe.observe.metrics import push
from tests.conftest import DEMO, PRODUCTS, run_floe, write_tiny

CLUSTER = DEMO / "manifest-cluster.yaml"
K8S_VERSION = "1.37.0"
SELECTOR = {"app.kubernetes.io/name": "customer-360", "floe.dev/product": "customer-360"}
SECRETS = {
    "POLARIS_CLIENT_SECRET": "s3cr3t-polaris-Zq81xv",
    "S3_ACCESS_KEY_ID": "AKIAZZZZZZZZZZZZZZZZ",
    "S3_SECRET_ACCESS_KEY": "wJalrXUtnFEMI-K7MDENG-bPxRfiCY",
}


def _docs(path: Path) -> list[dict[str, Any]]:
    return list(yaml.safe_load_all(path.read_text(encoding="utf-8")))


def _one(docs: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and name in (None, d["metadata"]["name"])]
    assert len(found) == 1, [d["metadata"]["name"] for d in found]
    return found[0]


def _generate(tmp_path: Path, env: str, product: Path = DEMO / "customer-360", **kw: Any):
    return generate(K8sOptions(product, env, CLUSTER, tmp_path, **kw))


@pytest.fixture(scope="module")
def staging(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """customer-360 on the cluster manifest, staging."""
    out = tmp_path_factory.mktemp("staging")
    return _docs(_generate(out, "staging").path)


@pytest.mark.requirement("FR-060")
@pytest.mark.parametrize(("product", "manifest", "env"), [
    *[(p, "manifest-cluster.yaml", e) for p in PRODUCTS for e in ("dev", "staging", "prod")],
    ("customer-360", "manifest.yaml", "dev"),
])  # fmt: skip
def test_every_generated_manifest_is_valid_against_the_kubernetes_schemas(
    tmp_path: Path, product: str, manifest: str, env: str
) -> None:
    """Each document validates strictly (no unknown fields) against the Kubernetes 1.37 JSON
    schemas shipped with kubernetes-validate (offline), for every product and environment."""
    result = generate(K8sOptions(DEMO / product, env, DEMO / manifest, tmp_path))
    docs = _docs(result.path)
    kinds = [d["kind"] for d in docs]
    assert kinds[:5] == ["Namespace", "ServiceAccount", "Role", "RoleBinding", "ConfigMap"]
    assert kinds[-2:] == ["Job", "CronJob"]
    for doc in docs:
        assert kubernetes_validate.validate(doc, K8S_VERSION, strict=True) == "1.37"


@pytest.mark.requirement("FR-060")
def test_schema_validation_rejects_a_broken_manifest(staging: list[dict[str, Any]]) -> None:
    """The validator is real: a container with an unknown field (runAsRoot) fails."""
    job = yaml.safe_load(yaml.safe_dump(_one(staging, "Job")))
    job["spec"]["template"]["spec"]["containers"][0]["runAsRoot"] = True
    with pytest.raises(kubernetes_validate.ValidationError, match="runAsRoot"):
        kubernetes_validate.validate(job, K8S_VERSION, strict=True)


@pytest.mark.requirement("FR-060")
def test_namespace_is_named_per_product_and_env_and_enforces_restricted(
    staging: list[dict[str, Any]],
) -> None:
    """Namespace floe-customer-360-staging with Pod Security restricted (enforce/audit/warn);
    every other resource lives in it."""
    ns = _one(staging, "Namespace")
    assert ns["metadata"]["name"] == "floe-customer-360-staging"
    labels = ns["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
    assert {d["metadata"]["namespace"] for d in staging[1:]} == {"floe-customer-360-staging"}


@pytest.mark.requirement("FR-060")
def test_network_policies_deny_by_default_and_allow_only_declared_egress(
    staging: list[dict[str, Any]],
) -> None:
    """Default deny (podSelector {}), DNS to kube-dns on 53 UDP+TCP, and exactly one egress
    policy per dependency of the manifest: Polaris 8181, MinIO 9000, OTel collector 4317,
    Marquez 5000, the chart's Pushgateway 9091 — each to its service's namespace only."""
    policies = {d["metadata"]["name"]: d for d in staging if d["kind"] == "NetworkPolicy"}
    assert sorted(policies) == [
        "customer-360-allow-dns", "customer-360-default-deny", "customer-360-egress-catalog",
        "customer-360-egress-lineage", "customer-360-egress-metrics",
        "customer-360-egress-storage", "customer-360-egress-tracing",
    ]  # fmt: skip
    assert policies["customer-360-default-deny"]["spec"] == {
        "podSelector": {}, "policyTypes": ["Ingress", "Egress"]
    }  # fmt: skip
    dns = policies["customer-360-allow-dns"]["spec"]["egress"]
    kube_system = {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}
    assert dns == [{
        "to": [{"namespaceSelector": kube_system,
                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
        "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
    }]  # fmt: skip
    expected = {
        "catalog": ("floe-platform", 8181, "polaris.floe-platform.svc.cluster.local:8181"),
        "storage": ("floe-platform", 9000, "minio.floe-platform.svc.cluster.local:9000"),
        "tracing": ("floe-platform", 4317,
                    "otel-collector.floe-platform.svc.cluster.local:4317"),
        "lineage": ("floe-platform", 5000, "marquez.floe-platform.svc.cluster.local:5000"),
        "metrics": ("floe-platform", 9091, "pushgateway.floe-platform.svc.cluster.local:9091"),
    }  # fmt: skip
    for purpose, (namespace, port, shown) in expected.items():
        policy = policies[f"customer-360-egress-{purpose}"]
        assert policy["spec"]["podSelector"] == {"matchLabels": SELECTOR}
        assert policy["spec"]["policyTypes"] == ["Egress"]
        assert "ingress" not in policy["spec"]
        assert policy["spec"]["egress"] == [{
            "to": [{"namespaceSelector": {"matchLabels": {
                "kubernetes.io/metadata.name": namespace}}}],
            "ports": [{"port": port, "protocol": "TCP"}],
        }]  # fmt: skip
        assert policy["metadata"]["annotations"]["floe.dev/destinations"] == shown


def _with_network_security(platform_copy: Path, kind: str) -> Path:
    """The cluster manifest choosing ``plugins.network_security: {type: <kind>}``."""
    text = (platform_copy / "manifest-cluster.yaml").read_text(encoding="utf-8")
    assert text.count("\nplugins:\n") == 1
    choice = f"\nplugins:\n  network_security:\n    type: {kind}\n"
    chosen = platform_copy / f"manifest-{kind}.yaml"
    chosen.write_text(text.replace("\nplugins:\n", choice), encoding="utf-8")
    return chosen


def _chosen(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """The network_security choice compiled into the ConfigMap's artifacts."""
    artifacts = json.loads(_one(docs, "ConfigMap")["data"]["compiled_artifacts.json"])
    return dict(artifacts["plugins"]["network_security"])


@pytest.mark.requirement("SC-006")
def test_network_policies_come_from_the_chosen_network_security_plugin(
    platform_copy: Path, tmp_path: Path, staging: list[dict[str, Any]]
) -> None:
    """``k8s`` chosen explicitly writes exactly the NetworkPolicies of the default (the k8s
    plugin asked through the NetworkSecurityPlugin ABC); ``none`` writes every other resource
    and not one NetworkPolicy, and the CLI says so instead of listing allowed egress."""
    policies = [d for d in staging if d["kind"] == "NetworkPolicy"]
    assert len(policies) == 7
    product = platform_copy / "customer-360"
    k8s = generate(K8sOptions(product, "staging", _with_network_security(platform_copy, "k8s"),
                              tmp_path / "k8s"))  # fmt: skip
    assert k8s.network_security == "k8s"
    assert _chosen(k8s.docs)["type"] == "k8s"
    assert [d for d in k8s.docs if d["kind"] == "NetworkPolicy"] == policies
    cluster = _with_network_security(platform_copy, "none")
    cli = run_floe("k8s", "generate", product, "--manifest", cluster, "--env", "staging",
                   "--out", tmp_path / "none")  # fmt: skip
    assert cli.code == 0, cli.err
    assert "no NetworkPolicies (network_security: none)" in cli.out
    assert "allowed egress" not in cli.out
    docs = _docs(tmp_path / "none" / "customer-360-staging.yaml")
    assert _chosen(docs)["type"] == "none"
    assert [d["kind"] for d in docs] == [d["kind"] for d in staging if d not in policies]


@pytest.mark.requirement("FR-060")
def test_external_storage_is_reached_on_443_only_never_private_or_metadata_ranges(
    tmp_path: Path,
) -> None:
    """prod uses AWS S3 (no endpoint): egress to s3.eu-west-1.amazonaws.com:443 becomes the
    public internet on 443, excluding private ranges and 169.254.0.0/16 (cloud metadata)."""
    docs = _docs(_generate(tmp_path, "prod").path)
    policy = _one(docs, "NetworkPolicy", "customer-360-egress-storage")
    assert policy["metadata"]["annotations"]["floe.dev/destinations"] == (
        "s3.eu-west-1.amazonaws.com:443"
    )
    (rule,) = policy["spec"]["egress"]
    assert rule["ports"] == [{"port": 443, "protocol": "TCP"}]
    v4, v6 = (peer["ipBlock"] for peer in rule["to"])
    assert v4["cidr"] == "0.0.0.0/0"
    assert {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"} <= set(v4["except"])
    assert v6 == {"cidr": "::/0", "except": ["::1/128", "fc00::/7", "fe80::/10"]}


@pytest.mark.requirement("FR-060")
def test_embedded_manifest_needs_no_egress_beyond_dns(tmp_path: Path) -> None:
    """The embedded demo manifest (SQLite catalog, local storage, file exporters) declares no
    network dependency: only default-deny and DNS, and no Secret access in the Role."""
    result = generate(K8sOptions(DEMO / "customer-360", "dev", DEMO / "manifest.yaml", tmp_path))
    names = [d["metadata"]["name"] for d in result.docs if d["kind"] == "NetworkPolicy"]
    assert names == ["customer-360-default-deny", "customer-360-allow-dns"]
    assert result.destinations == []
    assert [r["resources"] for r in _one(result.docs, "Role")["rules"]] == [["configmaps"]]


@pytest.mark.requirement("FR-060")
def test_role_grants_get_on_the_products_own_configmap_and_secret_only(
    staging: list[dict[str, Any]],
) -> None:
    """Least privilege: get, by resourceName, on the artifacts ConfigMap and the product's
    Secret; bound to the product's ServiceAccount whose token is not mounted."""
    role = _one(staging, "Role")
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["configmaps"],
         "resourceNames": ["customer-360-artifacts"], "verbs": ["get"]},
        {"apiGroups": [""], "resources": ["secrets"],
         "resourceNames": ["customer-360-secrets"], "verbs": ["get"]},
    ]  # fmt: skip
    binding = _one(staging, "RoleBinding")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "customer-360-runner"
    }  # fmt: skip
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "customer-360-runner",
                                    "namespace": "floe-customer-360-staging"}]  # fmt: skip
    assert _one(staging, "ServiceAccount")["automountServiceAccountToken"] is False


@pytest.mark.requirement("FR-061")
def test_secrets_appear_by_name_only_never_by_value(tmp_path: Path) -> None:
    """With the secret values set in the environment, the output file and the command's
    output contain none of them; the pod reads each from the product's Secret by key."""
    res = run_floe("k8s", "generate", DEMO / "customer-360", "--manifest", CLUSTER,
                   "--env", "staging", "--out", tmp_path, env=SECRETS)  # fmt: skip
    assert res.code == 0, res.err
    text = (tmp_path / "customer-360-staging.yaml").read_text(encoding="utf-8")
    for value in SECRETS.values():
        assert value not in text
        assert value not in res.out + res.err
    assert not [d for d in _docs(tmp_path / "customer-360-staging.yaml") if d["kind"] == "Secret"]
    for kind in ("Job", "CronJob"):
        pod = _pod(_one(_docs(tmp_path / "customer-360-staging.yaml"), kind))
        refs = [e for e in pod["containers"][0]["env"] if "valueFrom" in e]
        assert refs == [
            {"name": key, "valueFrom": {"secretKeyRef": {"name": "customer-360-secrets",
                                                         "key": key}}}
            for key in sorted(SECRETS)
        ]  # fmt: skip
    assert "with the keys POLARIS_CLIENT_SECRET, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY" in text
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in res.out.splitlines()]
    assert ["catalog", "polaris.floe-platform.svc.cluster.local", "8181",
            "plugins.catalog.config.uri"] in rows  # fmt: skip
    assert ["NetworkPolicy", "customer-360-default-deny", "floe-customer-360-staging"] in rows


def _pod(doc: dict[str, Any]) -> dict[str, Any]:
    spec = doc["spec"]["jobTemplate"]["spec"] if doc["kind"] == "CronJob" else doc["spec"]
    return spec["template"]["spec"]


@pytest.mark.requirement("FR-060")
@pytest.mark.parametrize("kind", ["Job", "CronJob"])
def test_pods_run_locked_down(staging: list[dict[str, Any]], kind: str) -> None:
    """Non-root, read-only root filesystem, all capabilities dropped, RuntimeDefault seccomp,
    no privilege escalation, no service-account token, requests and limits from the preset."""
    pod = _pod(_one(staging, kind))
    assert pod["automountServiceAccountToken"] is False
    assert pod["serviceAccountName"] == "customer-360-runner"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    (container,) = pod["containers"]
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
        "privileged": False, "readOnlyRootFilesystem": True, "runAsGroup": 10001,
        "runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"},
    }  # fmt: skip
    assert container["resources"] == {
        "requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}
    }  # fmt: skip
    assert container["command"] == ["floe", "run", "/opt/floe/product", "--manifest",
                                    "/opt/floe/manifest.yaml", "--env", "staging"]  # fmt: skip
    writable = {m["mountPath"] for m in container["volumeMounts"] if not m.get("readOnly")}
    assert writable == {"/tmp", "/var/lib/floe", "/opt/floe/product/target",
                        "/opt/floe/product/logs"}  # fmt: skip


@pytest.mark.requirement("FR-030")
def test_cronjob_follows_the_floe_yaml_schedule(platform_copy: Path, tmp_path: Path) -> None:
    """schedule.cron and timezone become the CronJob's; enabled: false suspends it. The
    unchanged demo product runs every 10 minutes, not suspended."""
    default = _one(_docs(_generate(tmp_path / "a", "dev").path), "CronJob")["spec"]
    assert (default["schedule"], default["timeZone"], default["suspend"]) == (
        "*/10 * * * *", "UTC", False
    )  # fmt: skip
    spec_file = platform_copy / "customer-360" / "floe.yaml"
    text = spec_file.read_text(encoding="utf-8").replace(
        'cron: "*/10 * * * *"\n  timezone: UTC\n  enabled: true',
        'cron: "15 3 * * 1-5"\n  timezone: Europe/Berlin\n  enabled: false',
    )
    spec_file.write_text(text, encoding="utf-8")
    cluster = platform_copy / "manifest-cluster.yaml"
    result = generate(K8sOptions(platform_copy / "customer-360", "dev", cluster, tmp_path / "b"))
    cron = _one(result.docs, "CronJob")["spec"]
    assert (cron["schedule"], cron["timeZone"], cron["suspend"]) == (
        "15 3 * * 1-5", "Europe/Berlin", True
    )  # fmt: skip
    assert cron["concurrencyPolicy"] == "Forbid"


@pytest.mark.requirement("FR-016")
def test_output_is_deterministic_and_the_configmap_holds_the_compiled_artifacts(
    tmp_path: Path,
) -> None:
    """Two runs (from different working directories) give identical bytes; the ConfigMap
    carries compiled_artifacts.json and profiles.yml byte for byte as `floe compile` writes."""
    product = DEMO / "financial-risk"
    args = ("k8s", "generate", product, "--manifest", CLUSTER, "--env", "prod")
    first = run_floe(*args, "--out", tmp_path / "a")
    second = run_floe(*args, "--out", tmp_path / "b", cwd=tmp_path)
    assert (first.code, second.code) == (0, 0), first.err + second.err
    a = (tmp_path / "a" / "financial-risk-prod.yaml").read_bytes()
    assert a == (tmp_path / "b" / "financial-risk-prod.yaml").read_bytes()
    assert str(DEMO.parent).encode() not in a
    compiled = run_floe("compile", product, "--manifest", CLUSTER, "--env", "prod",
                        "--out", tmp_path / "c")  # fmt: skip
    assert compiled.code == 0, compiled.err
    data = _one(_docs(tmp_path / "a" / "financial-risk-prod.yaml"), "ConfigMap")["data"]
    assert sorted(data) == ["compiled_artifacts.json", "profiles.yml"]
    for name, content in data.items():
        assert content == (tmp_path / "c" / name).read_text(encoding="utf-8")


@pytest.mark.requirement("FR-060")
def test_bad_namespace_or_preset_is_an_input_error(tmp_path: Path) -> None:
    """An invalid --namespace (E601) and an unknown --preset (E602) exit 2 with a hint."""
    base = ("k8s", "generate", DEMO / "customer-360", "--manifest", CLUSTER, "--out", tmp_path)
    bad_ns = run_floe(*base, "--namespace", "Not_A_Label")
    assert bad_ns.code == 2
    assert "error[E601]: namespace 'Not_A_Label' is not a DNS-1123 label" in bad_ns.err
    bad_preset = run_floe(*base, "--preset", "huge")
    assert bad_preset.code == 2
    assert "error[E602]: resource_presets: unknown resource preset 'huge'" in bad_preset.err
    assert "hint: presets in manifest.yaml: large, small" in bad_preset.err
    large = generate(K8sOptions(DEMO / "customer-360", "dev", CLUSTER, tmp_path, preset="large"))
    resources = _pod(_one(large.docs, "Job"))["containers"][0]["resources"]
    assert resources["limits"] == {"cpu": "2", "memory": "4Gi"}
    assert list(tmp_path.iterdir()) == [tmp_path / "customer-360-dev.yaml"]


@pytest.mark.requirement("FR-060")
def test_artifacts_too_large_for_a_configmap_are_refused() -> None:
    """More than 1,000,000 bytes of compiled files cannot go into one ConfigMap: E603."""
    check_size({"compiled_artifacts.json": "x" * CONFIGMAP_LIMIT})
    with pytest.raises(FloeError) as info:
        check_size({"compiled_artifacts.json": "x" * CONFIGMAP_LIMIT, "profiles.yml": "é"})
    (diag,) = info.value.diagnostics
    assert diag.code == "E603"
    assert "(1000002 bytes) exceed a ConfigMap's 1 MiB limit" in diag.message


OTHER_MANIFEST = """\
apiVersion: floe.dev/v1
kind: Manifest
metadata: {name: other-platform, version: 1.0.0, owner: platform@example.com}
plugins:
  compute: {type: duckdb}
  catalog:
    type: sql
    config: {uri: "postgresql+psycopg://floe@10.20.0.7/catalog"}
  storage:
    type: s3
    config:
      bucket: lake
      endpoint: http://minio:9000
      access_key_id: {secret: S3_KEY}
      secret_access_key: {secret: S3_SECRET}
  secrets: {type: env, config: {prefix: FLOE_}}
  alert_channel: {type: webhook, config: {url: "https://hooks.example.com/floe"}}
observability:
  tracing: {exporter: otlp, endpoint: "otel.obs.svc.cluster.local", protocol: http/protobuf}
  lineage: {transport: file}
  metrics: {pushgateway: "http://pushgateway.monitoring.svc"}
"""


@pytest.mark.requirement("FR-060")
def test_every_declared_dependency_gets_exactly_its_rule(tmp_path: Path) -> None:
    """A PostgreSQL catalog at an IP (5432, /32), MinIO by a single-label name (its port,
    podSelector {}), a webhook (443, internet), the collector (OTLP http default 4318, its
    namespace), a push gateway (9091 by default); file lineage adds no rule; the env secrets
    plugin's prefix names the variables the secret keys feed."""
    product = write_tiny(tmp_path / "tiny", manifest=OTHER_MANIFEST)
    result = generate(K8sOptions(product, "dev", None, tmp_path / "out"))
    rules = {
        d["metadata"]["name"]: (d["spec"]["egress"][0]["to"], d["spec"]["egress"][0]["ports"])
        for d in result.docs
        if d["kind"] == "NetworkPolicy" and "egress" in d["metadata"]["name"]
    }
    assert sorted(rules) == ["tiny-egress-alerts", "tiny-egress-catalog", "tiny-egress-metrics",
                             "tiny-egress-storage", "tiny-egress-tracing"]  # fmt: skip
    assert rules["tiny-egress-catalog"] == (
        [{"ipBlock": {"cidr": "10.20.0.7/32"}}], [{"port": 5432, "protocol": "TCP"}]
    )  # fmt: skip
    assert rules["tiny-egress-alerts"][0][0]["ipBlock"]["cidr"] == "0.0.0.0/0"
    assert rules["tiny-egress-alerts"][1] == [{"port": 443, "protocol": "TCP"}]
    assert rules["tiny-egress-storage"] == (
        [{"podSelector": {}}], [{"port": 9000, "protocol": "TCP"}]
    )  # fmt: skip
    obs = {"matchLabels": {"kubernetes.io/metadata.name": "obs"}}
    assert rules["tiny-egress-tracing"] == (
        [{"namespaceSelector": obs}], [{"port": 4318, "protocol": "TCP"}]
    )  # fmt: skip
    monitoring = {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}
    assert rules["tiny-egress-metrics"] == (
        [{"namespaceSelector": monitoring}], [{"port": 9091, "protocol": "TCP"}]
    )  # fmt: skip
    env = _pod(_one(result.docs, "Job"))["containers"][0]["env"]
    refs = [e for e in env if "valueFrom" in e]
    assert refs == [
        {"name": f"FLOE_{key}", "valueFrom": {"secretKeyRef": {"name": "tiny-secrets", "key": key}}}
        for key in ("S3_KEY", "S3_SECRET")
    ]
    for doc in result.docs:
        assert kubernetes_validate.validate(doc, K8S_VERSION, strict=True) == "1.37"


@pytest.mark.requirement("FR-060")
def test_the_metrics_egress_opens_the_port_the_run_pushes_to(tmp_path: Path) -> None:
    """A Pushgateway URL without a port: the generated metrics egress opens 9091, and the
    run's exporter, given such a URL, really pushes to port 9091 (a server listening there
    receives the run's series) — one reading of the address (floe.spec.pushgateway) serves
    the NetworkPolicy and the exporter, so they cannot disagree."""
    product = write_tiny(tmp_path / "tiny", manifest=OTHER_MANIFEST)
    result = generate(K8sOptions(product, "dev", None, tmp_path / "out"))
    policy = _one(result.docs, "NetworkPolicy", "tiny-egress-metrics")
    assert policy["spec"]["egress"][0]["ports"] == [{"port": 9091, "protocol": "TCP"}]
    assert policy["metadata"]["annotations"]["floe.dev/destinations"] == (
        "pushgateway.monitoring.svc:9091"
    )
    got: list[str] = []

    class Gateway(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            """Quiet."""

        def do_PUT(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            got.append(self.path)
            self.send_response(200)
            self.end_headers()

    server = _listen_on_9091(Gateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        host = server.server_address[0]
        record = {"run_id": "r1", "product": "tiny", "namespace": "tiny", "status": "success",
                  "started_at": 1.0, "ended_at": 2.0, "duration_seconds": 1.0,
                  "trace_id": "0" * 32, "tests_failed": 0, "observe_seconds": 0.01,
                  "nodes": []}  # fmt: skip
        push(f"http://{host}", record, timeout=5.0)
    finally:
        server.shutdown()
        server.server_close()
    assert got == ["/metrics/job/floe/product/tiny"]


def _listen_on_9091(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    """A server on port 9091 of a loopback address of its own (127.0.0.2-254), so that
    parallel tests and other users of 127.0.0.1:9091 do not collide."""
    for last in random.sample(range(2, 255), 20):
        try:
            return ThreadingHTTPServer((f"127.0.0.{last}", 9091), handler)
        except OSError:
            continue
    raise AssertionError("no loopback address with port 9091 free")
