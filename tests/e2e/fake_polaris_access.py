"""The access part of Polaris's management API (``/api/management/v1``) for the fake Polaris:
principals (looked up only), principal roles, catalog roles, their grants and assignments,
with the request and answer shapes of Polaris's management OpenAPI (what the official
``apache-polaris`` client sends and parses). State lives in :class:`AccessState`, which a test
reads to see what the client really did.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

Answer = tuple[int, Any]  # status, JSON body (None: no body)


@dataclass
class AccessState:
    """Polaris's access entities, as the fake holds them."""

    principals: set[str] = field(default_factory=set)
    principal_roles: dict[str, dict[str, Any]] = field(default_factory=dict)
    catalog_roles: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    grants: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    catalog_role_of: set[tuple[str, str, str]] = field(default_factory=set)  # pr, catalog, cr
    principal_role_of: set[tuple[str, str]] = field(default_factory=set)  # principal, pr
    changes: list[tuple[str, str]] = field(default_factory=list)  # (method, path) that changed

    def grants_of(self, catalog: str, role: str) -> set[tuple[str, str]]:
        """(namespace, privilege) of a catalog role's namespace grants."""
        return {
            (".".join(g["namespace"]), g["privilege"])
            for g in self.grants.get((catalog, role), [])
            if g["type"] == "namespace"
        }


def _error(status: int, kind: str, message: str) -> Answer:
    return status, {"error": {"message": message, "type": kind, "code": status}}


NOT_FOUND = "NotFoundException"
PR = r"/principal-roles/(?P<pr>[^/]+)"
CR = r"/catalogs/(?P<c>[^/]+)/catalog-roles"


class AccessApi:
    """Routes one management request; None when the path is not an access route."""

    def __init__(self, state: AccessState) -> None:
        self.s = state
        self.routes: list[tuple[str, re.Pattern[str], Any]] = [
            ("GET", re.compile(r"/principal-roles"), self._list_principal_roles),
            ("POST", re.compile(r"/principal-roles"), self._create_principal_role),
            ("DELETE", re.compile(PR), self._delete_principal_role),
            ("GET", re.compile(PR + r"/principals"), self._principals_of),
            ("GET", re.compile(PR + r"/catalog-roles/(?P<c>[^/]+)"), self._catalog_roles_of),
            ("PUT", re.compile(PR + r"/catalog-roles/(?P<c>[^/]+)"), self._assign_catalog_role),
            ("DELETE", re.compile(PR + r"/catalog-roles/(?P<c>[^/]+)/(?P<cr>[^/]+)"),
             self._revoke_catalog_role),
            ("GET", re.compile(CR), self._list_catalog_roles),
            ("POST", re.compile(CR), self._create_catalog_role),
            ("DELETE", re.compile(CR + r"/(?P<cr>[^/]+)"), self._delete_catalog_role),
            ("GET", re.compile(CR + r"/(?P<cr>[^/]+)/grants"), self._list_grants),
            ("PUT", re.compile(CR + r"/(?P<cr>[^/]+)/grants"), self._add_grant),
            ("POST", re.compile(CR + r"/(?P<cr>[^/]+)/grants"), self._revoke_grant),
            ("GET", re.compile(r"/principals/(?P<p>[^/]+)"), self._get_principal),
            ("GET", re.compile(r"/principals/(?P<p>[^/]+)/principal-roles"), self._roles_of),
            ("PUT", re.compile(r"/principals/(?P<p>[^/]+)/principal-roles"),
             self._assign_principal_role),
            ("DELETE", re.compile(r"/principals/(?P<p>[^/]+)/principal-roles/(?P<pr>[^/]+)"),
             self._revoke_principal_role),
        ]  # fmt: skip

    def handle(self, method: str, path: str, body: Any) -> Answer | None:
        for verb, pattern, route in self.routes:
            match = pattern.fullmatch(path)
            if verb == method and match:
                answer: Answer = route(body, **match.groupdict())
                if method != "GET" and answer[0] < 300:
                    self.s.changes.append((method, path))
                return answer
        return None

    # principal roles
    def _list_principal_roles(self, body: Any) -> Answer:
        return 200, {"roles": list(self.s.principal_roles.values())}

    def _create_principal_role(self, body: Any) -> Answer:
        role = body["principalRole"]
        if role["name"] in self.s.principal_roles:
            return _error(409, "AlreadyExistsException", f"{role['name']} already exists")
        stored = {"federated": False, "properties": {}, **role, "entityVersion": 1}
        self.s.principal_roles[role["name"]] = stored
        return 201, stored

    def _delete_principal_role(self, body: Any, pr: str) -> Answer:
        if self.s.principal_roles.pop(pr, None) is None:
            return _error(404, NOT_FOUND, f"principal role {pr} not found")
        self.s.catalog_role_of = {a for a in self.s.catalog_role_of if a[0] != pr}
        self.s.principal_role_of = {a for a in self.s.principal_role_of if a[1] != pr}
        return 204, None

    def _principals_of(self, body: Any, pr: str) -> Answer:
        if pr not in self.s.principal_roles:
            return _error(404, NOT_FOUND, f"principal role {pr} not found")
        names = sorted(p for p, r in self.s.principal_role_of if r == pr)
        return 200, {"principals": [{"name": n, "clientId": f"{n}-client"} for n in names]}

    def _catalog_roles_of(self, body: Any, pr: str, c: str) -> Answer:
        if pr not in self.s.principal_roles:
            return _error(404, NOT_FOUND, f"principal role {pr} not found")
        names = sorted(cr for p, cat, cr in self.s.catalog_role_of if (p, cat) == (pr, c))
        return 200, {"roles": [self.s.catalog_roles[(c, n)] for n in names]}

    def _assign_catalog_role(self, body: Any, pr: str, c: str) -> Answer:
        cr = body["catalogRole"]["name"]
        if pr not in self.s.principal_roles or (c, cr) not in self.s.catalog_roles:
            return _error(404, NOT_FOUND, f"principal role {pr} or catalog role {cr} not found")
        self.s.catalog_role_of.add((pr, c, cr))
        return 201, None

    def _revoke_catalog_role(self, body: Any, pr: str, c: str, cr: str) -> Answer:
        self.s.catalog_role_of.discard((pr, c, cr))
        return 204, None

    # catalog roles and grants
    def _list_catalog_roles(self, body: Any, c: str) -> Answer:
        return 200, {"roles": [r for (cat, _), r in self.s.catalog_roles.items() if cat == c]}

    def _create_catalog_role(self, body: Any, c: str) -> Answer:
        role = body["catalogRole"]
        if (c, role["name"]) in self.s.catalog_roles:
            return _error(409, "AlreadyExistsException", f"{role['name']} already exists")
        stored = {"properties": {}, **role, "entityVersion": 1}
        self.s.catalog_roles[(c, role["name"])] = stored
        return 201, stored

    def _delete_catalog_role(self, body: Any, c: str, cr: str) -> Answer:
        if self.s.catalog_roles.pop((c, cr), None) is None:
            return _error(404, NOT_FOUND, f"catalog role {cr} not found")
        self.s.grants.pop((c, cr), None)
        self.s.catalog_role_of = {a for a in self.s.catalog_role_of if a[1:] != (c, cr)}
        return 204, None

    def _list_grants(self, body: Any, c: str, cr: str) -> Answer:
        if (c, cr) not in self.s.catalog_roles:
            return _error(404, NOT_FOUND, f"catalog role {cr} not found")
        return 200, {"grants": self.s.grants.get((c, cr), [])}

    def _add_grant(self, body: Any, c: str, cr: str) -> Answer:
        if (c, cr) not in self.s.catalog_roles:
            return _error(404, NOT_FOUND, f"catalog role {cr} not found")
        held = self.s.grants.setdefault((c, cr), [])
        if body["grant"] not in held:
            held.append(body["grant"])
        return 201, None

    def _revoke_grant(self, body: Any, c: str, cr: str) -> Answer:
        held = self.s.grants.get((c, cr), [])
        if body["grant"] not in held:
            return _error(404, NOT_FOUND, "no such grant")
        held.remove(body["grant"])
        return 201, None

    # principals
    def _get_principal(self, body: Any, p: str) -> Answer:
        if p not in self.s.principals:
            return _error(404, NOT_FOUND, f"principal {p} not found")
        return 200, {"name": p, "clientId": f"{p}-client", "properties": {}}

    def _roles_of(self, body: Any, p: str) -> Answer:
        if p not in self.s.principals:
            return _error(404, NOT_FOUND, f"principal {p} not found")
        names = sorted(r for q, r in self.s.principal_role_of if q == p)
        return 200, {"roles": [self.s.principal_roles[n] for n in names]}

    def _assign_principal_role(self, body: Any, p: str) -> Answer:
        pr = body["principalRole"]["name"]
        if p not in self.s.principals or pr not in self.s.principal_roles:
            return _error(404, NOT_FOUND, f"principal {p} or principal role {pr} not found")
        self.s.principal_role_of.add((p, pr))
        return 201, None

    def _revoke_principal_role(self, body: Any, p: str, pr: str) -> Answer:
        self.s.principal_role_of.discard((p, pr))
        return 204, None
