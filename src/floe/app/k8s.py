"""`floe k8s generate`: a product's Kubernetes manifests (see :mod:`floe.k8s.generate`)."""

from __future__ import annotations

from floe.k8s.generate import Generated, K8sOptions, generate

__all__ = ["Generated", "K8sOptions", "generate"]
