"""Names and labels of the generated resources: one place decides them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from floe.errors import FloeError

E_NAMESPACE = "E601"
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class Names:
    """Every name the generated manifests use for one product in one environment."""

    product: str
    version: str
    env: str
    namespace: str

    @classmethod
    def of(cls, product: str, version: str, env: str, namespace: str | None = None) -> Names:
        """Default namespace ``floe-<product>-<env>``; E601 when it is no DNS-1123 label."""
        name = namespace or f"floe-{product}-{env}"
        if not _DNS_LABEL.match(name):
            raise FloeError.single(
                E_NAMESPACE,
                f"namespace '{name}' is not a DNS-1123 label (lowercase letters, digits and "
                "'-', at most 63 characters)",
                hint="pass --namespace with a shorter name",
            )
        return cls(product, version, env, name)

    @property
    def service_account(self) -> str:
        """The product's ServiceAccount (also its Role and RoleBinding)."""
        return f"{self.product}-runner"

    @property
    def artifacts_configmap(self) -> str:
        """The ConfigMap holding compiled_artifacts.json and profiles.yml."""
        return f"{self.product}-artifacts"

    @property
    def secret(self) -> str:
        """The Secret the platform team creates with one key per secret reference."""
        return f"{self.product}-secrets"

    def labels(self, component: str) -> dict[str, str]:
        """Recommended app.kubernetes.io labels plus floe's product/environment labels."""
        return {
            **self.selector(),
            "app.kubernetes.io/component": component,
            "app.kubernetes.io/managed-by": "floe",
            "app.kubernetes.io/part-of": "floe",
            "app.kubernetes.io/version": self.version,
            "floe.dev/environment": self.env,
        }

    def selector(self) -> dict[str, str]:
        """The labels that select the product's pods."""
        return {"app.kubernetes.io/name": self.product, "floe.dev/product": self.product}

    def meta(self, name: str, component: str, **annotations: str) -> dict[str, object]:
        """``metadata`` of a namespaced resource."""
        meta: dict[str, object] = {
            "name": name,
            "namespace": self.namespace,
            "labels": self.labels(component),
        }
        if annotations:
            meta["annotations"] = dict(annotations)
        return meta
