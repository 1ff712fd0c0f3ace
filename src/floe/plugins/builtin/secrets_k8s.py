"""Kubernetes Secret names for generated manifests; values are never read by floe itself."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from floe.errors import FloeError, Location
from floe.plugins.abcs import SecretsPlugin

E_K8S_RESOLVE = "E511"


class K8sSecretsConfig(BaseModel):
    """Settings of k8s secrets."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    secret_name: str = Field(
        default="floe-secrets",
        pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$",
        description="The Kubernetes Secret holding one key per secret reference.",
    )
    mount_path: str = Field(
        default="/var/run/secrets/floe", description="Where generated pods mount that Secret."
    )


class K8sSecretsPlugin(SecretsPlugin[K8sSecretsConfig]):
    """``{secret: NAME}`` is key NAME of a Kubernetes Secret; generated workloads mount it and
    use the ``file`` plugin at run time. Resolving here is an error that says so."""

    name: ClassVar[str] = "k8s"
    version: ClassVar[str] = "0.1.0"
    description: ClassVar[str] = "Kubernetes Secret references (names only, for manifests)"

    def secret_key_ref(self, name: str) -> dict[str, dict[str, str]]:
        """The container env ``valueFrom`` for secret ``name`` (no value)."""
        return {"secretKeyRef": {"name": self.config.secret_name, "key": name}}

    def resolve(self, name: str) -> SecretStr:
        """Never resolves: floe does not read the Kubernetes API for secret values."""
        raise FloeError.single(
            E_K8S_RESOLVE,
            f"the 'k8s' secrets plugin only names secrets (key '{name}' of Secret "
            f"'{self.config.secret_name}') for generated manifests; it cannot resolve them",
            Location("manifest.yaml"),
            field_path="plugins.secrets.type",
            hint="at run time use 'file' with the Secret mounted (e.g. an environment overlay: "
            f"secrets: {{type: file, config: {{path: {self.config.mount_path}}}}}) or 'env'",
        )
