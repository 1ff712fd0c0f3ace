"""The chart's Spark compute (issue 13 point 6): with ``sparkThrift.enabled`` a Spark Thrift
Server renders — driver in its pod, executors as pods (Spark on Kubernetes) — with Iceberg's
Spark runtime and floe's Polaris catalog, valid for the supported Kubernetes versions,
restricted, reachable by runs and code locations only; off by default."""

from __future__ import annotations

import functools
import http.server
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

from tests.chart.conftest import (
    CHART,
    CLUSTER_MANIFEST,
    NAMESPACE,
    env_of,
    find,
    pod_spec,
    render,
    values_of,
)
from tests.chart.test_chart_render import K8S_VERSIONS

ON = {"sparkThrift": {"enabled": True}}


def _conf(text: str) -> dict[str, str]:
    """A spark-defaults.conf as key → value."""
    pairs = (line.split(None, 1) for line in text.splitlines() if line.strip())
    return {k: v.strip() for k, v in pairs}


def _rules(docs: list[dict[str, Any]], name: str, way: str) -> set[tuple[str, int]]:
    """(peer component, port) of a component's ingress (``from``) or egress (``to``) rules
    that select pods of the release."""
    policy = find(docs, "NetworkPolicy", f"allow-{name}")
    side = "from" if way == "ingress" else "to"
    out = set()
    for rule in policy["spec"][way]:
        for peer in rule[side]:
            labels = peer.get("podSelector", {}).get("matchLabels", {})
            peer_name = labels.get("app.kubernetes.io/component") or labels.get("floe.dev/role")
            if peer_name:
                out |= {(peer_name, p["port"]) for p in rule["ports"]}
    return out


@pytest.fixture(scope="module")
def docs() -> list[dict[str, Any]]:
    """The test values with the Spark Thrift Server enabled, rendered."""
    return render(values_of("test", **ON))


@pytest.mark.requirement("FLOE-344")
@pytest.mark.requirement("FR-001")
def test_spark_thrift_renders_valid_and_only_when_enabled(docs: list[dict[str, Any]]) -> None:
    """Helm's strict lint passes and every object validates strictly for the oldest and newest
    supported Kubernetes; the production values (off by default) render no Spark object."""
    values = values_of("test", **ON)
    for version in K8S_VERSIONS:
        report = helm.lint(str(CHART), values, strict=True, namespace=NAMESPACE,
                           kube_version=version)  # fmt: skip
        assert (report["errors"], report["messages"]) == ([], []), report
    spark = [d for d in docs if d["metadata"]["name"].startswith("spark-")]
    kinds = sorted((d["kind"], d["metadata"]["name"]) for d in spark)
    assert kinds == [
        ("ConfigMap", "spark-thrift"), ("Deployment", "spark-thrift"),
        ("Role", "spark-thrift"), ("RoleBinding", "spark-thrift"),
        ("Service", "spark-thrift"), ("Service", "spark-thrift-driver"),
        ("ServiceAccount", "spark-thrift"),
    ]  # fmt: skip
    for doc in spark:
        for version in K8S_VERSIONS:
            assert kubernetes_validate.validate(doc, version, strict=True) == version[:4]
    production = render(values_of("production"))
    assert not [d for d in production if "spark" in d["metadata"]["name"]]


@pytest.mark.requirement("FLOE-344")
def test_spark_thrift_runs_the_thrift_server_with_iceberg_on_polaris(
    docs: list[dict[str, Any]],
) -> None:
    """The pod runs Spark's HiveThriftServer2 on port 10000 (probed there) with a master on
    the cluster's API (executors as pods of the executor template); Iceberg's Spark runtime and
    AWS bundle are its packages, its extensions on, and the Iceberg catalog ``floe`` is
    Polaris' REST API in the release with the products' warehouse and S3 endpoint; the runner
    principal's credentials come from its Secret into a file, never the ConfigMap or args."""
    values = values_of("test", **ON)
    deployment = find(docs, "Deployment", "spark-thrift")
    (container,) = pod_spec(deployment)["containers"]
    script = container["args"][0]
    assert "--class org.apache.spark.sql.hive.thriftserver.HiveThriftServer2" in script
    assert "--properties-file /tmp/spark-thrift.conf" in script
    assert container["image"] == "docker.io/apache/spark:3.5.7-scala2.12-java17-python3-ubuntu"
    assert container["readinessProbe"]["tcpSocket"] == {"port": "thrift"}
    assert {"name": "thrift", "containerPort": 10000} in container["ports"]
    env = env_of(container)
    runner = values["polaris"]["runner"]
    assert env["POLARIS_CLIENT_SECRET"]["secretKeyRef"] == {
        "name": runner["existingSecret"], "key": runner["clientSecretKey"]}  # fmt: skip
    config = find(docs, "ConfigMap", "spark-thrift")["data"]
    conf = _conf(config["spark-defaults.conf"])
    assert conf["spark.master"] == "k8s://https://kubernetes.default.svc"
    assert conf["spark.kubernetes.namespace"] == NAMESPACE
    assert conf["spark.sql.extensions"].endswith("IcebergSparkSessionExtensions")
    assert values["sparkThrift"]["packages"] == [
        "org.apache.iceberg:iceberg-spark-runtime-3.5_2.12:1.10.0",
        "org.apache.iceberg:iceberg-aws-bundle:1.10.0",
    ]
    assert conf["spark.jars"] == (
        "/opt/floe-jars/iceberg-spark-runtime-3.5_2.12-1.10.0.jar,"
        "/opt/floe-jars/iceberg-aws-bundle-1.10.0.jar"
    )
    assert conf["spark.sql.catalog.floe"] == "org.apache.iceberg.spark.SparkCatalog"
    assert conf["spark.sql.catalog.floe.type"] == "rest"
    polaris = f"http://polaris.{NAMESPACE}.svc.cluster.local:8181/api/catalog"
    assert conf["spark.sql.catalog.floe.uri"] == polaris
    assert conf["spark.sql.catalog.floe.warehouse"] == values["polaris"]["catalog"]["name"]
    assert (
        conf["spark.sql.catalog.floe.s3.endpoint"]
        == f"http://minio.{NAMESPACE}.svc.cluster.local:9000"
    )
    assert conf["spark.driver.host"] == f"spark-thrift-driver.{NAMESPACE}.svc.cluster.local"
    assert "credential" not in config["spark-defaults.conf"]
    assert "$POLARIS_CLIENT_SECRET" in script
    assert "cat /etc/spark-thrift/spark-defaults.conf" in script
    executor = yaml.safe_load(config["executor-pod.yaml"])
    labels = executor["metadata"]["labels"]
    assert labels["app.kubernetes.io/component"] == "spark-executor"
    for spec in (pod_spec(deployment), executor["spec"]):
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        for one in spec["containers"] + spec.get("initContainers", []):
            sc = one["securityContext"]
            assert (sc["readOnlyRootFilesystem"], sc["allowPrivilegeEscalation"]) == (True, False)
            assert sc["capabilities"] == {"drop": ["ALL"]}


def _jar_urls(packages: list[str], repository: str) -> list[str]:
    """Maven's layout: each group:artifact:version's jar under the repository."""
    urls = []
    for package in packages:
        group, artifact, version = package.split(":")
        path = f"{group.replace('.', '/')}/{artifact}/{version}/{artifact}-{version}.jar"
        urls.append(f"{repository.rstrip('/')}/{path}")
    return urls


@pytest.mark.requirement("FLOE-344")
@pytest.mark.parametrize(
    "sets",
    [
        {},
        {
            "packages": ["org.example.lake:lake-runtime_2.12:0.3.1"],
            "repository": "https://maven.mirror.example/releases/",
        },
    ],
    ids=["defaults", "mirror"],
)
def test_spark_thrift_puts_the_packages_on_the_driver_class_path(sets: dict[str, Any]) -> None:
    """Hive 2.3 closes the class loader of ``spark.jars.packages`` when a Thrift session
    ends, so the chart downloads each package's jar in an init container (the server's own
    image, restricted, its own resources) from the values' repository (Maven Central by
    default, or a mirror) into an emptyDir, and the driver has that folder on
    ``spark.driver.extraClassPath`` and the jars in ``spark.jars`` (served to the executors);
    Ivy is not used."""
    values = values_of("test", sparkThrift={"enabled": True, **sets})
    v = values["sparkThrift"]
    assert v["repository"] == sets.get("repository", "https://repo1.maven.org/maven2")
    docs = render(values)
    spec = pod_spec(find(docs, "Deployment", "spark-thrift"))
    (init,) = spec["initContainers"]
    urls = _jar_urls(v["packages"], v["repository"])
    assert init["command"][:2] == ["python3", "-c"]
    assert init["args"] == urls
    assert init["image"] == "docker.io/apache/spark:3.5.7-scala2.12-java17-python3-ubuntu"
    assert init["resources"] == v["jarsResources"]
    assert init["volumeMounts"] == [{"name": "jars", "mountPath": "/opt/floe-jars"}]
    (server,) = spec["containers"]
    assert {"name": "jars", "mountPath": "/opt/floe-jars", "readOnly": True} in server[
        "volumeMounts"
    ]
    volumes = {vol["name"]: vol for vol in spec["volumes"]}
    assert volumes["jars"] == {"name": "jars", "emptyDir": {"sizeLimit": v["jarsSize"]}}
    conf = _conf(find(docs, "ConfigMap", "spark-thrift")["data"]["spark-defaults.conf"])
    assert conf["spark.driver.extraClassPath"] == "/opt/floe-jars/*"
    names = [url.rsplit("/", 1)[1] for url in urls]
    assert conf["spark.jars"].split(",") == [f"/opt/floe-jars/{n}" for n in names]
    assert not [k for k in conf if k.startswith(("spark.jars.packages", "spark.jars.ivy"))]


@pytest.mark.requirement("FLOE-344")
def test_spark_thrift_init_container_downloads_the_jars_or_fails(tmp_path: Path) -> None:
    """The init container's program, run as rendered (its folder pointed at a temporary one)
    against a local HTTP server in Maven's layout, writes each jar byte for byte under its
    file name, and exits non-zero on a missing jar (the pod does not start)."""
    repo = tmp_path / "maven2"
    packages = ["org.example:alpha:1.0", "org.example.deep:beta_2.12:2.1"]
    contents = {}
    for package in packages:
        group, artifact, version = package.split(":")
        folder = repo.joinpath(*group.split("."), artifact, version)
        folder.mkdir(parents=True)
        contents[f"{artifact}-{version}.jar"] = f"jar of {package}".encode()
        (folder / f"{artifact}-{version}.jar").write_bytes(contents[f"{artifact}-{version}.jar"])
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(repo))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        repository = f"http://127.0.0.1:{server.server_address[1]}"
        values = values_of(
            "test", sparkThrift={"enabled": True, "packages": packages, "repository": repository}
        )
        (init,) = pod_spec(find(render(values), "Deployment", "spark-thrift"))["initContainers"]
        out = tmp_path / "jars"
        out.mkdir()
        program = init["command"][2].replace("/opt/floe-jars", str(out))
        run = [sys.executable, "-c", program]
        done = subprocess.run([*run, *init["args"]], capture_output=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        assert {p.name: p.read_bytes() for p in out.iterdir()} == contents
        missing = _jar_urls(["org.example:gone:9.9"], repository)
        failed = subprocess.run([*run, *missing], capture_output=True, timeout=60, check=False)
        server.shutdown()
    assert failed.returncode == 1
    assert b"HTTP Error 404" in failed.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(contents)


@pytest.mark.requirement("FLOE-344")
@pytest.mark.requirement("FR-060")
def test_spark_thrift_network_flows(docs: list[dict[str, Any]]) -> None:
    """Runs and code locations reach the Thrift port; the driver reaches Polaris, the object
    storage and its executors' block managers; the executors reach the driver (RPC, blocks),
    each other and the object storage — nothing else of the release. The driver's pod (its
    init container downloading the jars included) is selected by the policy that lets it reach
    the values' ``repositoryEgress`` (Maven Central's HTTPS by default)."""
    policy = find(docs, "NetworkPolicy", "allow-spark-thrift")["spec"]
    labels = find(docs, "Deployment", "spark-thrift")["spec"]["template"]["metadata"]["labels"]
    assert policy["podSelector"]["matchLabels"].items() <= labels.items()
    egress = values_of("test", **ON)["sparkThrift"]["repositoryEgress"]
    assert {
        "to": [{"ipBlock": {"cidr": cidr}} for cidr in egress["cidrs"]],
        "ports": [{"port": port, "protocol": "TCP"} for port in egress["ports"]],
    } in policy["egress"]
    assert egress == {"cidrs": ["0.0.0.0/0"], "ports": [443]}
    assert _rules(docs, "spark-thrift", "ingress") == {
        ("run", 10000), ("code-location", 10000),
        ("spark-executor", 7078), ("spark-executor", 7079),
    }  # fmt: skip
    assert _rules(docs, "spark-thrift", "egress") == {
        ("polaris", 8181), ("object-storage", 9000), ("spark-executor", 7079),
    }  # fmt: skip
    assert _rules(docs, "spark-executor", "egress") == {
        ("spark-thrift", 7078), ("spark-thrift", 7079), ("spark-executor", 7079),
        ("object-storage", 9000),
    }  # fmt: skip


@pytest.mark.requirement("FLOE-364")
def test_spark_thrift_server_and_the_thrift_profile_agree(docs: list[dict[str, Any]]) -> None:
    """The manifest's ``compute_configs.spark`` pointing at the chart's server (the values'
    comment: ``{method: thrift, host: spark-thrift.<ns>.svc.<domain>, port: 10000}``) gives a
    dbt profile and a run connection that reach it: the host is the Service's DNS name, the
    port the Service's, which targets the container port the server listens on; no
    authentication on either side (the server sets none: HiveServer2's NONE); the sessions'
    timestamp settings are the server's; and the server's Iceberg catalog is named as the
    cluster manifest's catalog (what the run checks, E585)."""
    from floe.plugins.builtin.catalog_polaris import PolarisConfig
    from floe.plugins.builtin.compute_spark import SparkComputePlugin, SparkConfig

    values = values_of("test", **ON)
    service = find(docs, "Service", "spark-thrift")
    (port,) = service["spec"]["ports"]
    container = pod_spec(find(docs, "Deployment", "spark-thrift"))["containers"][0]
    listening = {p["name"]: p["containerPort"] for p in container["ports"]}
    conf = _conf(find(docs, "ConfigMap", "spark-thrift")["data"]["spark-defaults.conf"])
    assert listening[port["targetPort"]] == int(conf["spark.hive.server2.thrift.port"])
    assert not [k for k in conf if "authentication" in k or k.endswith(".thrift.sasl.qop")]
    host = f"{service['metadata']['name']}.{NAMESPACE}.svc.{values['clusterDomain']}"
    plugin = SparkComputePlugin(SparkConfig(method="thrift", host=host, port=port["port"]))
    profile = plugin.dbt_profile_output(product="orders")
    assert (profile["host"], profile["port"]) == (f"spark-thrift.{NAMESPACE}.svc.cluster.local",
                                                  10000)  # fmt: skip
    assert "auth" not in profile  # dbt-spark's thrift default: NONE
    assert "password" not in profile
    for key, value in profile["server_side_parameters"].items():
        assert conf[key.removeprefix("set:hiveconf:")] == value, key
    manifest = yaml.safe_load(CLUSTER_MANIFEST.read_text())
    catalog = PolarisConfig.model_validate(manifest["plugins"]["catalog"]["config"])
    assert values["sparkThrift"]["catalogName"] == catalog.name == "floe"
    assert conf[f"spark.sql.catalog.{catalog.name}"] == "org.apache.iceberg.spark.SparkCatalog"
