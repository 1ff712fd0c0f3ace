"""The access check before a run (FR-062): the product's principal must be allowed to write
its namespace, or the run stops before dbt starts."""

from __future__ import annotations

from floe import events
from floe.errors import FloeError, Location
from floe.runtime.resolved import ResolvedPlugins

E_DENIED = "E666"


def require_write(plugins: ResolvedPlugins, product: str, namespace: str) -> None:
    """Raise E666 unless the acting principal may write ``namespace`` (as the rbac plugin
    says; ``none`` manages nothing and asks no one). `floe run` asks before it builds the
    product's Dagster definitions (so not even dbt's parse runs); the Dagster step asks again
    for runs launched by a schedule or sensor — once per resolved plugins."""
    rbac = plugins.rbac
    if not rbac.manages_access or namespace in plugins.writable:
        return
    principal = plugins.principal()
    if rbac.may_write(principal, namespace, plugins.tokens):
        plugins.writable.add(namespace)  # the run's later check (the Dagster step) asks no more
        return
    events.security_event(events.ACCESS_DENIED, product=product, principal=principal,
                          namespace=namespace)  # fmt: skip
    raise FloeError.single(
        E_DENIED,
        f"principal '{principal}' may not write namespace '{namespace}' of product "
        f"'{product}': the run is refused before dbt runs",
        Location("manifest.yaml"),
        field_path="access.teams",
        hint=f"list '{product}' under write of a team whose principals include "
        f"'{principal}', then run `floe platform rbac apply`",
    )
