"""The run: compiled artifacts as a ConfigMap, a Job and a CronJob running ``floe run``.

The container image holds floe, the product at ``/opt/floe/product`` and the platform manifest
at ``/opt/floe/manifest.yaml``. The root filesystem is read-only; the run writes only to
emptyDir volumes (``/tmp``, the platform home ``/var/lib/floe`` and the product's ``target``
and ``logs`` directories). Secrets reach the pod as environment variables from the product's
Secret (``secretKeyRef``), the way the ``env`` secrets plugin reads them; no value is ever
written here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from floe.k8s.names import Names
from floe.spec.artifacts import CompiledArtifacts
from floe.spec.common import is_secret_ref
from floe.spec.manifest import ResourcePreset

PRODUCT_DIR = "/opt/floe/product"
MANIFEST_PATH = "/opt/floe/manifest.yaml"
ARTIFACTS_DIR = "/etc/floe/compiled"
HOME_DIR = "/var/lib/floe"
#: The container's /tmp: an emptyDir mount point inside the pod, not a temp file on this host.
TMP_DIR = "/tmp"  # noqa: S108  # nosec B108
RUN_AS = 10001
SCRATCH = {
    "tmp": TMP_DIR,
    "floe-home": HOME_DIR,
    "target": f"{PRODUCT_DIR}/target",
    "logs": f"{PRODUCT_DIR}/logs",
}


@dataclass(frozen=True)
class RunSpec:
    """What the pod runs and with what."""

    names: Names
    image: str
    resources: ResourcePreset
    secret_keys: list[str]
    env_prefix: str
    source_hash: str


def secret_names(artifacts: CompiledArtifacts) -> list[str]:
    """The names of every ``{secret: NAME}`` in the resolved plugin configs, sorted."""
    found: set[str] = set()
    for plugin in artifacts.plugins.values():
        found.update(_refs(plugin.config))
    return sorted(found)


def env_prefix(artifacts: CompiledArtifacts) -> str:
    """The env secrets plugin's variable prefix ('' by default)."""
    secrets = artifacts.plugins.get("secrets")
    return str(secrets.config.get("prefix", "")) if secrets else ""


def artifacts_configmap(names: Names, files: dict[str, str]) -> dict[str, Any]:
    """compiled_artifacts.json and profiles.yml exactly as ``floe compile`` writes them."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": names.meta(names.artifacts_configmap, "artifacts"),
        "data": dict(sorted(files.items())),
    }


def job(run: RunSpec) -> dict[str, Any]:
    """A one-off run of the product."""
    names = run.names
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": names.meta(f"{names.product}-run", "run", **_annotations(run)),
        "spec": _job_spec(run),
    }


def cron_job(run: RunSpec, cron: str, timezone: str, enabled: bool) -> dict[str, Any]:
    """The product's schedule from floe.yaml; ``enabled: false`` → suspended."""
    names = run.names
    notes = _annotations(run)
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": names.meta(f"{names.product}-scheduled", "schedule", **notes),
        "spec": {
            "schedule": cron,
            "timeZone": timezone,
            "suspend": not enabled,
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 300,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {
                "metadata": {"labels": names.labels("run"), "annotations": notes},
                "spec": _job_spec(run),
            },
        },
    }


def container_security_context() -> dict[str, Any]:
    """Pod Security ``restricted`` and then some: non-root, read-only root, no capabilities."""
    return {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "runAsGroup": RUN_AS,
        "runAsNonRoot": True,
        "runAsUser": RUN_AS,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _annotations(run: RunSpec) -> dict[str, str]:
    notes = {
        "floe.dev/artifacts-configmap": run.names.artifacts_configmap,
        "floe.dev/source-hash": run.source_hash,
    }
    if run.secret_keys:
        notes["floe.dev/secret"] = run.names.secret
        notes["floe.dev/secret-keys"] = ",".join(run.secret_keys)
    return notes


def _job_spec(run: RunSpec) -> dict[str, Any]:
    return {
        "backoffLimit": 0,
        "ttlSecondsAfterFinished": 86400,
        "template": {
            "metadata": {"labels": run.names.labels("run"), "annotations": _annotations(run)},
            "spec": _pod_spec(run),
        },
    }


def _pod_spec(run: RunSpec) -> dict[str, Any]:
    names = run.names
    volumes: list[dict[str, Any]] = [
        {"name": name, "emptyDir": {"sizeLimit": "1Gi"}} for name in sorted(SCRATCH)
    ]
    volumes.append({"name": "artifacts", "configMap": {"name": names.artifacts_configmap}})
    return {
        "serviceAccountName": names.service_account,
        "automountServiceAccountToken": False,
        "restartPolicy": "Never",
        "securityContext": {
            "fsGroup": RUN_AS,
            "runAsGroup": RUN_AS,
            "runAsNonRoot": True,
            "runAsUser": RUN_AS,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [_container(run)],
        "volumes": sorted(volumes, key=lambda v: str(v["name"])),
    }


def _container(run: RunSpec) -> dict[str, Any]:
    mounts: list[dict[str, Any]] = [
        {"name": name, "mountPath": path} for name, path in sorted(SCRATCH.items())
    ]
    mounts.append({"name": "artifacts", "mountPath": ARTIFACTS_DIR, "readOnly": True})
    res = run.resources
    env = run.names.env
    return {
        "name": "floe",
        "image": run.image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["floe", "run", PRODUCT_DIR, "--manifest", MANIFEST_PATH, "--env", env],
        "env": _env(run),
        "resources": {
            "requests": {"cpu": res.cpu_request, "memory": res.memory_request},
            "limits": {"cpu": res.cpu_limit, "memory": res.memory_limit},
        },
        "securityContext": container_security_context(),
        "volumeMounts": sorted(mounts, key=lambda m: str(m["name"])),
    }


def _env(run: RunSpec) -> list[dict[str, Any]]:
    plain = [("FLOE_HOME", HOME_DIR), ("HOME", TMP_DIR)]
    env: list[dict[str, Any]] = [{"name": k, "value": v} for k, v in plain]
    for key in run.secret_keys:
        ref = {"name": run.names.secret, "key": key}
        env.append({"name": run.env_prefix + key, "valueFrom": {"secretKeyRef": ref}})
    return sorted(env, key=lambda e: str(e["name"]))


def _refs(value: Any) -> Iterator[str]:
    if is_secret_ref(value):
        yield str(value["secret"])
    elif isinstance(value, dict):
        for item in value.values():
            yield from _refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)
