"""The chart installed on a real cluster (.github/workflows/kind.yml): marked `cluster`,
deselected everywhere else by pytest's addopts."""

from __future__ import annotations

import json
import subprocess

import pytest

NAMESPACE = "floe-platform"


def _kubectl(*args: str) -> dict:
    out = subprocess.run(["kubectl", "-n", NAMESPACE, *args, "-o", "json"], check=True,
                         capture_output=True, text=True, timeout=60).stdout  # fmt: skip
    return json.loads(out)


@pytest.mark.cluster
@pytest.mark.requirement("FR-001")
def test_every_platform_service_is_available_and_bootstrapped() -> None:
    """Every Deployment and StatefulSet of the release has all replicas ready, and both
    bootstrap Jobs (catalog, buckets) succeeded."""
    workloads = _kubectl("get", "deployments,statefulsets", "-l", "app.kubernetes.io/instance=floe")
    names = {w["metadata"]["name"]: w for w in workloads["items"]}
    expected = {"dagster-webserver", "dagster-daemon", "polaris", "minio", "postgresql",
                "otel-collector", "jaeger", "marquez", "prometheus", "grafana"}  # fmt: skip
    assert expected <= set(names)
    for name, w in names.items():
        assert w["status"].get("readyReplicas", 0) == w["spec"]["replicas"], name
    for job in ("polaris-bootstrap", "buckets"):
        assert _kubectl("get", "job", job)["status"].get("succeeded") == 1, job
