"""Catalog access control (FR-062): ``polaris`` manages Polaris roles and grants from the
manifest's ``access:`` rules through the Polaris management API (the official
``apache-polaris`` client); ``none`` (the embedded platform) manages nothing and allows every
write.

How the rules map onto Polaris (docs/security.md):

* each team is a principal role named after it, assigned to the team's principals;
* each product a team writes or reads has a catalog role ``<namespace>_writer`` or
  ``<namespace>_reader`` holding the privileges below on the product's namespace, assigned to
  the team's principal role.

Roles floe creates carry the property ``managed-by: floe``; floe reads, changes and reports
drift on those (and on roles the rules name) only — roles made by hand are never touched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from floe.errors import FloeError, Location
from floe.plugins.abcs import RBACPlugin
from floe.plugins.access import AccessItem, AccessPlan, plan
from floe.plugins.base import TokenSource
from floe.spec.common import namespace_of
from floe.spec.manifest import Access

E_MANAGEMENT = "E664"
E_PRINCIPAL = "E665"
E_NO_TOKENS = "E667"

MANAGED = {"managed-by": "floe"}
TIMEOUT_S = 10.0
#: Privileges on the product's namespace of each access level.
PRIVILEGES: dict[str, tuple[str, ...]] = {
    "writer": ("NAMESPACE_FULL_METADATA", "TABLE_FULL_METADATA", "TABLE_WRITE_DATA"),
    "reader": ("NAMESPACE_READ_PROPERTIES", "TABLE_LIST", "TABLE_READ_PROPERTIES",
               "TABLE_READ_DATA"),
}  # fmt: skip
#: A grant with one of these lets a principal write a namespace's tables (on the namespace,
#: a parent of it, or the whole catalog).
WRITES = frozenset({"TABLE_WRITE_DATA", "CATALOG_MANAGE_CONTENT"})


def catalog_role(product: str, level: str) -> str:
    """The catalog role of ``level`` (writer/reader) on a product's namespace."""
    return f"{namespace_of(product)}_{level}"


def wanted(access: Access) -> set[AccessItem]:
    """The access state the rules ask for (pure: no catalog involved)."""
    items: set[AccessItem] = set()
    for team, rules in access.teams.items():
        items.add(AccessItem("principal_role", team))
        items |= {AccessItem("principal_role_of", team, p) for p in rules.principals}
        for level, products in (("writer", rules.write), ("reader", rules.read)):
            for product in products:
                role = catalog_role(product, level)
                items.add(AccessItem("catalog_role", role))
                items.add(AccessItem("catalog_role_of", team, role))
                items |= {
                    AccessItem("grant", role, namespace_of(product), privilege)
                    for privilege in PRIVILEGES[level]
                }
    return items


class PolarisRbacConfig(BaseModel):
    """Settings of the Polaris rbac plugin."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    management_uri: str = Field(
        description="The Polaris management API, e.g. http://polaris:8181/api/management/v1."
    )
    catalog: str = Field(min_length=1, description="The Polaris catalog the rules apply to.")


class PolarisRbacPlugin(RBACPlugin[PolarisRbacConfig]):
    """Principal roles, catalog roles and grants in Polaris, from the manifest's rules."""

    name: ClassVar[str] = "polaris"
    version: ClassVar[str] = "0.1.0"
    description: ClassVar[str] = "Polaris roles and grants from the manifest's access rules"
    manages_access: ClassVar[bool] = True

    def roles_for(self, product: str) -> list[dict[str, Any]]:
        """The product's two catalog roles and their privileges on its namespace."""
        return [
            {
                "catalog_role": catalog_role(product, level),
                "catalog": self.config.catalog,
                "namespace": namespace_of(product),
                "privileges": list(privileges),
            }
            for level, privileges in PRIVILEGES.items()
        ]

    def plan(self, access: Access, tokens: TokenSource | None) -> AccessPlan:
        """The rules against Polaris's live roles and grants."""
        want = wanted(access)
        return plan(want, _Reader(self._api(tokens), self.config.catalog).live(want))

    def apply(self, plan: AccessPlan, tokens: TokenSource | None) -> None:
        """Create what is missing (roles first), then remove the drift (roles last)."""
        writer = _Writer(self._api(tokens), self.config.catalog)
        for item in plan.missing:
            writer.create(item)
        for item in plan.extra:
            writer.remove(item)

    def may_write(self, principal: str, namespace: str, tokens: TokenSource | None) -> bool:
        """A grant of a principal role of ``principal`` writes ``namespace`` (an unknown
        principal may write nothing)."""
        return _Reader(self._api(tokens), self.config.catalog).writes(principal, namespace)

    def _api(self, tokens: TokenSource | None) -> _Api:
        if tokens is None:
            raise FloeError.single(
                E_NO_TOKENS,
                "the polaris rbac plugin has no credentials for the management API",
                Location("manifest.yaml"),
                field_path="plugins.rbac",
                hint="choose the oidc identity, or give the Polaris catalog its oauth2 client",
            )
        return _Api(self.config.management_uri, tokens)


class NoRbacPlugin(RBACPlugin):
    """No catalog access control (the embedded platform: one user, local files)."""

    name: ClassVar[str] = "none"
    version: ClassVar[str] = "0.1.0"
    description: ClassVar[str] = "No catalog access control (embedded platform)"

    def roles_for(self, product: str) -> list[dict[str, Any]]:
        """None."""
        return []


class _Api:
    """The ``apache-polaris`` management client with a fresh token on each call and its
    errors as floe errors."""

    def __init__(self, uri: str, tokens: TokenSource) -> None:
        from apache_polaris.sdk.management import ApiClient, Configuration, PolarisDefaultApi

        self.uri = uri.rstrip("/")
        self._tokens = tokens
        self._client = ApiClient(Configuration(host=self.uri))
        self._api = PolarisDefaultApi(self._client)

    def call(self, operation: str, *args: Any, missing_ok: bool = False) -> Any:
        """``PolarisDefaultApi.<operation>(*args)``; a 404 is None when ``missing_ok``."""
        from apache_polaris.sdk.management import ApiException

        self._client.configuration.access_token = self._tokens.token()
        method: Callable[..., Any] = getattr(self._api, operation)
        try:
            return method(*args, _request_timeout=TIMEOUT_S)
        except ApiException as exc:
            if missing_ok and exc.status == 404:
                return None
            raise self.error(operation, exc) from None
        except Exception as exc:  # unreachable, malformed answer
            raise self.error(operation, exc) from None

    def error(self, operation: str, exc: Exception) -> FloeError:
        status = getattr(exc, "status", None)
        body = (getattr(exc, "body", None) or str(exc))[:300]
        return FloeError.single(
            E_MANAGEMENT,
            f"Polaris management API {self.uri}: {operation} failed"
            + (f" (HTTP {status})" if status else "")
            + f": {body}",
            Location("manifest.yaml"),
            field_path="plugins.rbac.config",
            hint="check management_uri and that floe's principal holds service_admin "
            "(or CATALOG_MANAGE_ACCESS on the catalog)",
        )


class _Reader:
    """Polaris's live access state, limited to what floe manages or the rules name."""

    def __init__(self, api: _Api, catalog: str) -> None:
        self.api = api
        self.catalog = catalog

    def live(self, want: set[AccessItem]) -> set[AccessItem]:
        """Every item of the managed (or wanted) roles."""
        named = {(i.kind, i.role) for i in want}
        items: set[AccessItem] = set()
        principal_roles = self.api.call("list_principal_roles").roles
        for role in principal_roles:
            if role.properties == MANAGED or ("principal_role", role.name) in named:
                items.add(AccessItem("principal_role", role.name))
                items |= self._of_principal_role(role.name)
        for role in self.api.call("list_catalog_roles", self.catalog).roles:
            if role.properties == MANAGED or ("catalog_role", role.name) in named:
                items.add(AccessItem("catalog_role", role.name))
                items |= self._grants(role.name)
        return items

    def _of_principal_role(self, role: str) -> set[AccessItem]:
        roles = self.api.call("list_catalog_roles_for_principal_role", role, self.catalog).roles
        principals = self.api.call("list_assignee_principals_for_principal_role", role)
        return {AccessItem("catalog_role_of", role, r.name) for r in roles} | {
            AccessItem("principal_role_of", role, p.name) for p in principals.principals
        }

    def _grants(self, role: str) -> set[AccessItem]:
        grants = self.api.call("list_grants_for_catalog_role", self.catalog, role).grants
        return {
            AccessItem("grant", role, ".".join(g.namespace), str(_value(g.privilege)))
            for g in grants
            if g.type == "namespace"
        }

    def writes(self, principal: str, namespace: str) -> bool:
        """Whether a grant reachable from ``principal`` writes ``namespace``."""
        assigned = self.api.call("list_principal_roles_assigned", principal, missing_ok=True)
        for prole in assigned.roles if assigned else []:
            croles = self.api.call("list_catalog_roles_for_principal_role", prole.name,
                                   self.catalog, missing_ok=True)  # fmt: skip
            for crole in croles.roles if croles else []:
                grants = self.api.call("list_grants_for_catalog_role", self.catalog, crole.name)
                if any(_writes(g, namespace) for g in grants.grants):
                    return True
        return False


def _value(privilege: Any) -> Any:
    return getattr(privilege, "value", privilege)


def _writes(grant: Any, namespace: str) -> bool:
    if str(_value(grant.privilege)) not in WRITES:
        return False
    if grant.type == "catalog":
        return True
    if grant.type != "namespace":
        return False
    held = list(grant.namespace)
    return namespace.split(".")[: len(held)] == held


class _Writer:
    """Changes to Polaris, one item at a time, through the management client's models."""

    def __init__(self, api: _Api, catalog: str) -> None:
        self.api = api
        self.catalog = catalog

    def create(self, item: AccessItem) -> None:
        from apache_polaris.sdk.management import models as m

        c = self.catalog
        if item.kind == "principal_role":
            role = m.PrincipalRole(name=item.role, properties=MANAGED)
            self.api.call("create_principal_role", m.CreatePrincipalRoleRequest(principalRole=role))
        elif item.kind == "catalog_role":
            crole = m.CatalogRole(name=item.role, properties=MANAGED)
            self.api.call("create_catalog_role", c, m.CreateCatalogRoleRequest(catalogRole=crole))
        elif item.kind == "grant":
            request = m.AddGrantRequest(grant=self._grant(item))
            self.api.call("add_grant_to_catalog_role", c, item.role, request)
        elif item.kind == "catalog_role_of":
            grant = m.GrantCatalogRoleRequest(catalogRole=m.CatalogRole(name=item.target))
            self.api.call("assign_catalog_role_to_principal_role", item.role, c, grant)
        else:
            self._assign_principal(item)

    def _assign_principal(self, item: AccessItem) -> None:
        from apache_polaris.sdk.management import models as m

        if self.api.call("get_principal", item.target, missing_ok=True) is None:
            raise FloeError.single(
                E_PRINCIPAL,
                f"principal '{item.target}' of team '{item.role}' does not exist in Polaris",
                Location("manifest.yaml"),
                field_path=f"access.teams.{item.role}.principals",
                hint="create the principal in Polaris first (it holds the credentials floe "
                "never sees), or remove it from the team",
            )
        grant = m.GrantPrincipalRoleRequest(principalRole=m.PrincipalRole(name=item.role))
        self.api.call("assign_principal_role", item.target, grant)

    def remove(self, item: AccessItem) -> None:
        from apache_polaris.sdk.management import models as m

        c = self.catalog
        if item.kind == "principal_role":
            self.api.call("delete_principal_role", item.role)
        elif item.kind == "catalog_role":
            self.api.call("delete_catalog_role", c, item.role)
        elif item.kind == "grant":
            request = m.RevokeGrantRequest(grant=self._grant(item))
            self.api.call("revoke_grant_from_catalog_role", c, item.role, False, request)
        elif item.kind == "catalog_role_of":
            self.api.call("revoke_catalog_role_from_principal_role", item.role, c, item.target)
        else:
            self.api.call("revoke_principal_role", item.target, item.role)

    @staticmethod
    def _grant(item: AccessItem) -> Any:
        from apache_polaris.sdk.management import models as m

        return m.NamespaceGrant(
            type="namespace",
            namespace=item.target.split("."),
            privilege=m.NamespacePrivilege(item.privilege),
        )
