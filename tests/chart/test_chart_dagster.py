"""The Dagster instance the chart renders, loaded by Dagster with dagster-k8s installed, and
the run pod's Job that the K8sRunLauncher builds from it for a demo product."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dagster as dg
import kubernetes
import kubernetes_validate
import pytest
import yaml
from dagster._core.code_pointer import ModuleCodePointer
from dagster._core.origin import JobPythonOrigin, RepositoryPythonOrigin
from dagster._serdes import ConfigurableClassData
from dagster_k8s import K8sRunLauncher
from dagster_k8s.job import construct_dagster_k8s_job
from dagster_postgres import PostgresRunStorage

from tests.chart.conftest import NAMESPACE, env_of, find, pod_spec, rendered

PRODUCT = "customer-360"


def _instance(value_set: str = "demo") -> dict[str, Any]:
    data = find(rendered(value_set), "ConfigMap", "dagster-instance")["data"]
    return yaml.safe_load(data["dagster.yaml"])


def _launcher(tmp_path: Path, config: dict[str, Any]) -> K8sRunLauncher:
    """The launcher from the rendered config; outside a cluster the in-cluster config is
    swapped for a kubeconfig file (nothing is contacted while building a Job)."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "kind",
        "clusters": [{"name": "kind", "cluster": {"server": "https://127.0.0.1:6443"}}],
        "contexts": [{"name": "kind", "context": {"cluster": "kind", "user": "u"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
    }))  # fmt: skip
    local = {**config, "load_incluster_config": False, "kubeconfig_file": str(kubeconfig)}
    data = ConfigurableClassData("dagster_k8s", "K8sRunLauncher", yaml.safe_dump(local))
    launcher = data.rehydrate(K8sRunLauncher)  # validates against the launcher's config schema
    assert isinstance(launcher, K8sRunLauncher)
    return launcher


@pytest.mark.requirement("FR-014")
def test_instance_config_loads_with_dagster_k8s(tmp_path: Path) -> None:
    """dagster.yaml passes Dagster's instance schema; the run launcher, the queued run
    coordinator (per-product limits) and the PostgreSQL storage config load into their
    classes; workspace.yaml names one gRPC code location per demo product."""
    from dagster._core.instance.config import dagster_instance_config

    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(_instance()))
    config, _cls = dagster_instance_config(str(tmp_path))
    launcher_cfg = config["run_launcher"]
    assert (launcher_cfg["module"], launcher_cfg["class"]) == ("dagster_k8s", "K8sRunLauncher")
    launcher = _launcher(tmp_path, launcher_cfg["config"])
    assert launcher.job_namespace == NAMESPACE
    assert launcher.service_account_name == "floe-run"
    assert launcher.instance_config_map == "dagster-instance"

    coordinator = config["run_coordinator"]
    queue = ConfigurableClassData(
        coordinator["module"], coordinator["class"], yaml.safe_dump(coordinator["config"])
    ).rehydrate(dg.QueuedRunCoordinator)
    limits = {(lim["key"], json.dumps(lim["value"])): lim["limit"]
              for lim in queue.get_run_queue_config().tag_concurrency_limits}  # fmt: skip
    assert limits == {
        ("floe/product", '"customer-360"'): 1,
        ("floe/product", '"iot-telemetry"'): 1,
        ("floe/product", '"financial-risk"'): 2,
        ("floe/product", '{"applyLimitPerUniqueValue": true}'): 1,
    }
    assert queue.get_run_queue_config().max_concurrent_runs == 2

    from dagster._config import validate_config

    pg = config["storage"]["postgres"]
    assert validate_config(PostgresRunStorage.config_type(), pg).success
    assert pg["postgres_db"]["hostname"] == "postgresql.floe-platform.svc.cluster.local"

    workspace = yaml.safe_load(
        find(rendered("demo"), "ConfigMap", "dagster-instance")["data"]["workspace.yaml"]
    )
    servers = [entry["grpc_server"] for entry in workspace["load_from"]]
    assert [(s["location_name"], s["host"], s["port"]) for s in servers] == [
        (p, f"code-{p}.floe-platform.svc.cluster.local", 4000)
        for p in ("customer-360", "iot-telemetry", "financial-risk")
    ]


@pytest.mark.requirement("FR-014")
def test_the_job_a_run_launcher_builds_for_a_product_validates(tmp_path: Path) -> None:
    """The K8sRunLauncher's own steps (container context of the run = launcher config merged
    with the code server's DAGSTER_CLI_API_GRPC_CONTAINER_CONTEXT; job config; Job) give a
    Job that validates strictly and runs the product with its image, resources, Secret,
    artifacts ConfigMap, restricted contexts and the label the NetworkPolicies select."""
    docs = rendered("demo")
    launcher = _launcher(tmp_path, _instance()["run_launcher"]["config"])
    code = pod_spec(find(docs, "Deployment", f"code-{PRODUCT}"))["containers"][0]
    env = env_of(code)
    image = env["DAGSTER_CURRENT_IMAGE"]
    origin = JobPythonOrigin(
        job_name=f"{PRODUCT.replace('-', '_')}_job",
        repository_origin=RepositoryPythonOrigin(
            executable_path="/opt/floe/venv/bin/python",
            code_pointer=ModuleCodePointer("floe.app.k8s_location", "defs", None),
            container_image=image,
            entry_point=["dagster"],
            container_context=json.loads(env["DAGSTER_CLI_API_GRPC_CONTAINER_CONTEXT"]),
        ),
    )
    run = dg.DagsterRun(job_name=origin.job_name, run_id="0f0e0d0c-0000-4000-8000-000000000001",
                        job_code_origin=origin, tags={"floe/product": PRODUCT})  # fmt: skip
    context = launcher.get_container_context_for_run(run)
    job_config = context.get_k8s_job_config(job_image=image, run_launcher=launcher)
    job = construct_dagster_k8s_job(
        job_config=job_config, args=["dagster", "api", "execute_run", "{}"],
        job_name="dagster-run-0f0e0d0c", pod_name="dagster-run-0f0e0d0c",
        component="run_worker", user_defined_k8s_config=context.run_k8s_config,
        labels={"dagster/job": origin.job_name, "dagster/run-id": run.run_id},
    )  # fmt: skip
    body = kubernetes.client.ApiClient().sanitize_for_serialization(job)
    body["metadata"]["namespace"] = context.namespace
    for version in ("1.34.0", "1.37.0"):
        assert kubernetes_validate.validate(body, version, strict=True) == version[:4]

    assert context.namespace == NAMESPACE
    spec = body["spec"]
    assert (spec["backoffLimit"], spec["ttlSecondsAfterFinished"]) == (0, 600)
    pod = spec["template"]["spec"]
    assert pod["serviceAccountName"] == "floe-run"
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    labels = spec["template"]["metadata"]["labels"]
    assert labels["floe.dev/role"] == "run"  # the label allow-run selects
    assert labels["floe.dev/product"] == PRODUCT
    (container,) = pod["containers"]
    assert container["image"] == "floe:dev"
    assert container["resources"] == {
        "requests": {"cpu": "250m", "memory": "512Mi"},
        "limits": {"cpu": "1", "memory": "2Gi"},
    }
    sc = container["securityContext"]
    assert (sc["readOnlyRootFilesystem"], sc["allowPrivilegeEscalation"]) == (True, False)
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert {"secretRef": {"name": f"{PRODUCT}-secrets"}} in container["envFrom"]
    run_env = {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}
    assert run_env["DAGSTER_PG_PASSWORD"] == {
        "secretKeyRef": {"name": "floe-postgresql", "key": "password"}}  # fmt: skip
    assert run_env["FLOE_PRODUCT_DIR"] == f"/opt/floe/demo/{PRODUCT}"
    assert run_env["FLOE_HOME"] == "/var/lib/floe"
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes[mounts["/etc/floe/compiled"]]["configMap"]["name"] == f"{PRODUCT}-artifacts"
    product_dir = f"/opt/floe/demo/{PRODUCT}"
    scratch = ("/tmp", "/var/lib/floe", "/var/lib/dagster", f"{product_dir}/target",
               f"{product_dir}/logs")  # fmt: skip
    for writable in scratch:
        assert "emptyDir" in volumes[mounts[writable]], writable
    # The run reads its instance from the launcher's arguments (an InstanceRef), with
    # DAGSTER_HOME on a writable volume.
    assert run_env["DAGSTER_HOME"] == "/var/lib/dagster"
