"""``floe k8s generate``: the product's Kubernetes manifests, summarised as tables."""

from __future__ import annotations

from floe.app.k8s import Generated, K8sOptions, generate
from floe.cli.output import console
from floe.errors import display_path


def generate_cmd(options: K8sOptions) -> Generated:
    """Generate, then show what was written and which egress the policies allow."""
    from rich.table import Table

    result = generate(options)
    out = console()
    resources = Table(title=f"{display_path(result.path)}", title_justify="left")
    for col in ("kind", "name", "namespace"):
        resources.add_column(col)
    for doc in result.docs:
        meta = doc["metadata"]
        resources.add_row(doc["kind"], meta["name"], meta.get("namespace", ""))
    out.print(resources)
    if not any(doc["kind"] == "NetworkPolicy" for doc in result.docs):
        out.print(f"no NetworkPolicies (network_security: {result.network_security})")
        return result
    egress = Table(title="allowed egress (besides DNS)", title_justify="left")
    for col in ("purpose", "host", "port", "declared by"):
        egress.add_column(col)
    for dest in result.destinations:
        egress.add_row(dest.purpose, dest.host, str(dest.port), dest.source)
    out.print(egress)
    return result
