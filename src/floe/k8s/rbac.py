"""Namespace (Pod Security ``restricted``), ServiceAccount, least-privilege Role and binding."""

from __future__ import annotations

from typing import Any

from floe.k8s.names import Names

PSS_MODES = ("enforce", "audit", "warn")


def namespace(names: Names) -> dict[str, Any]:
    """The product's namespace; Pod Security Admission enforces, audits and warns
    ``restricted``."""
    labels = {**names.labels("namespace"), "kubernetes.io/metadata.name": names.namespace}
    for mode in PSS_MODES:
        labels[f"pod-security.kubernetes.io/{mode}"] = "restricted"
        labels[f"pod-security.kubernetes.io/{mode}-version"] = "latest"
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": names.namespace, "labels": labels},
    }


def service_account(names: Names) -> dict[str, Any]:
    """The identity of the product's pods; its token is not mounted (the run needs no API)."""
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": names.meta(names.service_account, "identity"),
        "automountServiceAccountToken": False,
    }


def role(names: Names, has_secrets: bool) -> dict[str, Any]:
    """``get`` on the product's own ConfigMap and Secret, by name; nothing else."""
    rules = [_rule("configmaps", names.artifacts_configmap)]
    if has_secrets:
        rules.append(_rule("secrets", names.secret))
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": names.meta(names.service_account, "rbac"),
        "rules": rules,
    }


def role_binding(names: Names) -> dict[str, Any]:
    """Binds the Role to the product's ServiceAccount only."""
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": names.meta(names.service_account, "rbac"),
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": names.service_account,
        },
        "subjects": [
            {"kind": "ServiceAccount", "name": names.service_account, "namespace": names.namespace}
        ],
    }


def _rule(resource: str, name: str) -> dict[str, Any]:
    return {"apiGroups": [""], "resources": [resource], "resourceNames": [name], "verbs": ["get"]}
